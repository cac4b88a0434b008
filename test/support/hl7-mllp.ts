import { Buffer } from 'node:buffer';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect as connectTcp, type Socket } from 'node:net';
import { join } from 'node:path';
import { type ConnectionOptions, connect as connectTls } from 'node:tls';
import { frameMllp, MllpFramer } from '../../src/core/hl7/index.ts';
import { CLI } from './cli.ts';

/**
 * A small ORU^R01 (1 OBX, glucose) numbered `i`: MSH-10 `<prefix><i>`, its own order (OBR-2/3), so
 * that it maps to exactly one Observation of its own; 50 patients in turn.
 */
export function smallOru(i: number, opts: { prefix?: string; app?: string; facility?: string } = {}): Buffer {
  const p = opts.prefix ?? 'C';
  const app = opts.app ?? 'LAB';
  const fac = opts.facility ?? 'HOSP';
  return Buffer.from(
    [
      `MSH|^~\\&|${app}|${fac}|DXHUB|REGION|20250101120000||ORU^R01^ORU_R01|${p}${i}|P|2.5.1`,
      `PID|1||P${i % 50}^^^HOSP^MR||Doe^Jane||19800101|F`,
      `OBR|1|PL${p}${i}^HOSP|FL${p}${i}^${app}|1554-5^Glucose^LN|||20250101110000|||||||||||||||20250101113000||CH|F`,
      `OBX|1|NM|1554-5^Glucose^LN||5.${i % 10}|mmol/L|3.9-6.1|N|||F`,
      '',
    ].join('\r'),
    'latin1',
  );
}

/**
 * An ADT^A01 admitting patient `id` (PID-3, assigning authority BCBS, as the merge fixture
 * `adt-a40-ms-01-merge.hl7` names its patients), with MSH-10 `control`.
 */
export function adtA01(id: string, control: string): Buffer {
  return Buffer.from(
    [
      `MSH|^~\\&|Ntierprise|Ntierprise Clinic|Healthmatics EHR|Healthmatics Clinic|20190423150137||ADT^A01^ADT_A01|${control}|P|2.5.1`,
      'EVN|A01|20190423150137',
      `PID|1||${id}^^^BCBS^MR||Test^Test^A||20180205|F`,
      'PV1|1|I',
    ].join('\r'),
  );
}

/** MSA-1 and MSA-2 of an ACK. */
export function msaOf(ack: string): { code: string; controlId: string } {
  const msa =
    ack
      .split('\r')
      .find((s) => s.startsWith('MSA|'))
      ?.split('|') ?? [];
  return { code: msa[1] ?? '', controlId: msa[2] ?? '' };
}

/** A stop-and-wait MLLP sender (like a real lab system): the next message only after the ACK. */
export class MllpTestClient {
  readonly socket: Socket;
  readonly #framer = new MllpFramer();
  readonly #acks: string[] = [];
  #waiting: { resolve: (ack: string) => void; reject: (e: Error) => void } | undefined;
  #closed: Error | undefined;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      for (const e of this.#framer.push(chunk)) if (e.kind === 'message') this.#acks.push(e.payload.toString('latin1'));
      this.#deliver();
    });
    const closed = (e?: Error) => {
      this.#closed ??= e ?? new Error('connection closed by the server');
      this.#deliver();
    };
    socket.on('error', closed);
    socket.on('close', () => closed());
  }

  /** Connects over TCP, or TLS when `tls` is given; resolves once connected (handshake done). */
  static connect(port: number, tls?: ConnectionOptions): Promise<MllpTestClient> {
    return new Promise((resolve, reject) => {
      const socket = tls
        ? connectTls({ host: '127.0.0.1', port, servername: 'localhost', ...tls })
        : connectTcp({ host: '127.0.0.1', port });
      const fail = (e: Error) => {
        socket.destroy();
        reject(e);
      };
      socket.once('error', fail);
      socket.once(tls ? 'secureConnect' : 'connect', () => {
        socket.off('error', fail);
        resolve(new MllpTestClient(socket));
      });
    });
  }

  #deliver(): void {
    if (!this.#waiting) return;
    const ack = this.#acks.shift();
    if (ack !== undefined) {
      const w = this.#waiting;
      this.#waiting = undefined;
      w.resolve(ack);
    } else if (this.#closed) {
      const w = this.#waiting;
      this.#waiting = undefined;
      w.reject(this.#closed);
    }
  }

  /** Sends one framed payload and resolves with the ACK payload; rejects if the connection ends first. */
  send(payload: Buffer): Promise<string> {
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject };
      if (!this.#closed) this.socket.write(frameMllp(payload));
      this.#deliver();
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

/** A `dxhub serve` child process with its MLLP port and HTTP base URL. */
export interface ServeProcess {
  readonly child: ChildProcess;
  readonly mllpPort: number;
  readonly url: string;
  /** Everything it wrote so far. */
  output(): string;
  /** SIGTERM (or the given signal), resolving on exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Starts `dxhub serve --port 0 --mllp-port 0` on `db` (keys in `keyDir`) and resolves once both
 * listeners are up (≤ 30 s). `env` is added to the environment (e.g. DXHUB_MLLP_TLS_*).
 */
export function startServe(db: string, keyDir: string, env: Record<string, string> = {}): Promise<ServeProcess> {
  const child = spawn(
    process.execPath,
    [CLI, 'serve', '--port', '0', '--mllp-port', '0', '--astm-port', '0', '--db', db],
    {
      env: { ...process.env, DXHUB_LOG_LEVEL: 'info', DXHUB_KEY_DIR: keyDir, DXHUB_RATE_LIMIT_PER_MINUTE: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`dxhub serve did not start: ${out}`)), 30_000);
    const onData = (d: Buffer) => {
      // Keep the tail only: a long run logs a lot.
      out = (out + d.toString()).slice(-20_000);
      const m = /"mllp":"[^"]*:(\d+)"/.exec(out);
      const h = /"address":"(http:\/\/[^"]+)"/.exec(out);
      if (m && h) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        child.stdout!.on('data', (x: Buffer) => {
          out = (out + x.toString()).slice(-20_000);
        });
        resolve({
          child,
          mllpPort: Number(m[1]),
          url: h[1]!,
          output: () => out,
          async stop(signal = 'SIGTERM') {
            if (!exited) child.kill(signal);
            await exit;
          },
        });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => {
      out = (out + d.toString()).slice(-20_000);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`dxhub serve exited with ${code}: ${out}`));
    });
  });
}

/** PEM files of a throw-away PKI made with openssl: a CA, a server and a client certificate from it, and a rogue client. */
export interface TestPki {
  readonly dir: string;
  readonly caCert: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly clientCert: string;
  readonly clientKey: string;
  /** A client certificate from another CA (`rogueCa`). */
  readonly rogueCert: string;
  readonly rogueKey: string;
}

/** Generates {@link TestPki} in `dir` with the `openssl` command (EC P-256; the server is `localhost`/127.0.0.1). */
export function makeTestPki(dir: string): TestPki {
  const f = (name: string) => join(dir, name);
  const ossl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  const key = (name: string) => ossl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', f(name));
  const ca = (name: string, cn: string) => {
    key(`${name}.key`);
    ossl(
      'req',
      '-x509',
      '-new',
      '-key',
      f(`${name}.key`),
      '-subj',
      `/CN=${cn}`,
      '-days',
      '2',
      '-out',
      f(`${name}.crt`),
    );
  };
  const leaf = (name: string, cn: string, issuer: string, ext: string) => {
    key(`${name}.key`);
    ossl('req', '-new', '-key', f(`${name}.key`), '-subj', `/CN=${cn}`, '-out', f(`${name}.csr`));
    writeFileSync(f(`${name}.ext`), ext);
    ossl(
      'x509',
      '-req',
      '-in',
      f(`${name}.csr`),
      '-CA',
      f(`${issuer}.crt`),
      '-CAkey',
      f(`${issuer}.key`),
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      f(`${name}.ext`),
      '-out',
      f(`${name}.crt`),
    );
  };
  ca('ca', 'dxhub test CA');
  ca('rogue-ca', 'rogue CA');
  leaf('server', 'localhost', 'ca', 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  leaf('client', 'lab-sender', 'ca', 'extendedKeyUsage=clientAuth\n');
  leaf('rogue', 'rogue-sender', 'rogue-ca', 'extendedKeyUsage=clientAuth\n');
  return {
    dir,
    caCert: f('ca.crt'),
    serverCert: f('server.crt'),
    serverKey: f('server.key'),
    clientCert: f('client.crt'),
    clientKey: f('client.key'),
    rogueCert: f('rogue.crt'),
    rogueKey: f('rogue.key'),
  };
}
