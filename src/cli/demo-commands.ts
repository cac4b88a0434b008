import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { type OrderChannel, restOrderChannel } from '../demo/order-channel.ts';
import { formatSeedProgress } from '../demo/progress-bar.ts';
import { demoOrderChannel } from '../demo/requisition-channel.ts';
import { DEMO_SERVE_REGION, seedRegion } from '../demo/seed-region.ts';
import { type Simulator, startSimulator } from '../demo/simulator.ts';
import type { DxhubApp } from '../server/app.ts';
import { openAuthentication } from '../server/auth.ts';
import { loadConfig } from '../server/config.ts';
import { openDialect } from '../store/dialect/dialect.ts';
import { FhirRepository } from '../store/repository.ts';

const positive = (what: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${what} must be a positive number, not '${v}'`);
  return n;
};
const share = (what: string) => (v: string) => {
  const n = positive(what)(v);
  if (n > 1) throw new InvalidArgumentError(`${what} must be at most 1, not '${v}'`);
  return n;
};
const whole = (what: string) => (v: string) => {
  const n = positive(what)(v);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`${what} must be a whole number, not '${v}'`);
  return n;
};

/** `dxhub seed` and `dxhub simulate`. */
export function registerDemoCommands(program: Command): void {
  program
    .command('seed')
    .description('build a synthetic demo region (organisations, staff, devices, patients and their history)')
    .requiredOption('--patients <n>', 'number of patients', whole('--patients'))
    .option('--years <y>', 'years of history (default 2)', positive('--years'), 2)
    .option('--seed <s>', 'seed: the same seed builds the same region (default 1)', '1')
    .option('--db <url>', 'database URL (DXHUB_DB)')
    .option('--batch <n>', 'patients per transaction (default 100)', whole('--batch'), 100)
    .option('--concurrency <n>', 'transactions in flight (default 2)', whole('--concurrency'), 2)
    .action(
      async (opts: {
        patients: number;
        years: number;
        seed: string;
        db?: string;
        batch: number;
        concurrency: number;
      }) => {
        const config = loadConfig(process.env, { db: opts.db });
        const repo = await FhirRepository.open(await openDialect(config.db));
        const tty = process.stderr.isTTY;
        let last = 0;
        try {
          const result = await seedRegion(repo, {
            patients: opts.patients,
            years: opts.years,
            seed: opts.seed,
            batchPatients: opts.batch,
            concurrency: opts.concurrency,
            onProgress: (p) => {
              // A redrawn bar on a terminal; a line every 10 s in a log.
              if (tty) process.stderr.write(`\r${formatSeedProgress(p)}`);
              else if (p.elapsedMs - last >= 10_000) {
                last = p.elapsedMs;
                process.stderr.write(`${formatSeedProgress(p)}\n`);
              }
            },
          });
          process.stderr.write(`${tty ? '\r' : ''}${formatSeedProgress(result)}\n`);
          process.stdout.write(
            `seeded ${result.patients} patients, ${result.results} results, ${result.resources} resources on ${repo.db.caps.name} in ${(result.elapsedMs / 1000).toFixed(1)} s\n`,
          );
        } finally {
          await repo.close();
        }
      },
    );

  program
    .command('simulate')
    .description(
      'send live orders (requisition API and CDS Hooks, or FHIR REST), HL7 v2 results (MLLP) and ASTM results to a running dxhub',
    )
    .option('--url <url>', 'base URL of the dxhub server', 'http://127.0.0.1:8080')
    .option('--mllp <host:port>', 'MLLP listener', '127.0.0.1:2575')
    .option('--astm <host:port>', 'ASTM listener', '127.0.0.1:2576')
    .option('--patients <n>', 'patients of the seeded region', whole('--patients'), DEMO_SERVE_REGION.patients)
    .option('--seed <s>', 'seed of the stream (default 1)', '1')
    .option('--rate <n>', 'orders per simulated hour (default 300)', positive('--rate'), 300)
    .option(
      '--speed-up <x>',
      'simulated seconds per real second while catching up with the wall clock (default 60)',
      positive('--speed-up'),
      60,
    )
    .option(
      '--busy-share <s>',
      'share of real time the catch-up may keep the hub busy, 0 < s ≤ 1 (default 1: back to back)',
      share('--busy-share'),
      1,
    )
    .option('--hours-back <h>', 'start this many hours ago (default 6)', positive('--hours-back'), 6)
    .option('--no-cap', 'let the simulated clock run ahead of the wall clock')
    .option('--orders <n>', 'stop after this many orders', whole('--orders'))
    .option('--no-faults', 'no bad messages, slow sections or silent analyzers')
    .option(
      '--channel <name>',
      "how orders are placed: 'requisition' (CDS Hooks, requisition API, sign/revoke as a clinician) or 'rest' (FHIR transaction)",
      'requisition',
    )
    .option(
      '--token <jwt>',
      "bearer token for the 'rest' channel (default: one from the embedded issuer, DXHUB_KEY_DIR)",
    )
    .action(
      async (opts: {
        url: string;
        mllp: string;
        astm: string;
        patients: number;
        seed: string;
        rate: number;
        speedUp: number;
        busyShare: number;
        orders?: number;
        faults: boolean;
        hoursBack: number;
        cap: boolean;
        token?: string;
        channel: string;
      }) => {
        if (opts.channel !== 'requisition' && opts.channel !== 'rest')
          throw new Error(`--channel must be 'requisition' or 'rest', not '${opts.channel}'`);
        const given = opts.token;
        const url = opts.url.replace(/\/$/, '');
        let orders: OrderChannel;
        if (given && opts.channel === 'rest') orders = restOrderChannel(url, async () => given);
        else {
          if (given)
            throw new Error('--token is for --channel rest; the requisition channel mints clinician tokens per unit');
          const auth = await openAuthentication(loadConfig(process.env, {}));
          if (!auth.issuer)
            throw new Error('no embedded issuer (DXHUB_OIDC_ISSUER is set): pass --channel rest --token');
          orders = demoOrderChannel(opts.channel, url, auth.issuer, opts.seed);
        }
        const sim = startSimulator({
          seed: opts.seed,
          patientCount: opts.patients,
          orders,
          mllp: hostPort('--mllp', opts.mllp),
          astm: hostPort('--astm', opts.astm),
          ordersPerHour: opts.rate,
          speedUp: opts.speedUp,
          busyShare: opts.busyShare,
          start: Date.now() - opts.hoursBack * 3_600_000,
          capAtWallClock: opts.cap,
          maxOrders: opts.orders,
          faults: opts.faults,
          onError: (e) => process.stderr.write(`simulate: ${e.message}\n`),
        });
        const report = () =>
          process.stderr.write(`${new Date(sim.now()).toISOString()} ${JSON.stringify(sim.stats)}\n`);
        const timer = setInterval(report, 5000);
        process.on('SIGINT', () => void sim.stop());
        process.on('SIGTERM', () => void sim.stop());
        await sim.done;
        await sim.stop();
        clearInterval(timer);
        report();
      },
    );
}

function envNumber(name: string): number | undefined {
  const v = process.env[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!(n > 0)) throw new Error(`${name} must be a positive number, not '${v}'`);
  return n;
}

function hostPort(option: string, v: string): { host: string; port: number } {
  const m = /^(.+):(\d{1,5})$/.exec(v);
  if (!m) throw new Error(`${option} must be <host>:<port>, not '${v}'`);
  return { host: m[1]!, port: Number(m[2]) };
}

/**
 * `serve --demo`: runs the simulator inside the server process against its own REST API, MLLP and
 * ASTM listeners, with a token of the embedded issuer. Returns undefined without an embedded issuer.
 */
export async function startDemoSimulator(
  dx: DxhubApp,
  addresses: { http: string; mllp: { host: string; port: number }; astm: { host: string; port: number } },
): Promise<Simulator | undefined> {
  const issuer = dx.auth.issuer;
  if (!issuer) return undefined;
  // DXHUB_DEMO_CHANNEL=rest places orders as FHIR transactions instead of through the requisition API.
  const channel = process.env.DXHUB_DEMO_CHANNEL === 'rest' ? 'rest' : 'requisition';
  return startSimulator({
    seed: DEMO_SERVE_REGION.seed,
    patientCount: DEMO_SERVE_REGION.patients,
    orders: demoOrderChannel(channel, addresses.http, issuer, DEMO_SERVE_REGION.seed),
    mllp: addresses.mllp,
    astm: addresses.astm,
    // Catch-up speed and order rate of the demo (defaults 60× and 300 orders per hour).
    speedUp: envNumber('DXHUB_DEMO_SPEED_UP') ?? 60,
    ordersPerHour: envNumber('DXHUB_DEMO_RATE') ?? 300,
    // The catch-up keeps the hub busy at most half of the time: the first screens stay quick.
    busyShare: envNumber('DXHUB_DEMO_BUSY_SHARE') ?? 0.5,
    onError: (err) => dx.app.log.warn({ err }, 'demo simulator'),
  });
}
