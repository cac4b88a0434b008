#!/usr/bin/env node
import { existsSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { AccessFacts } from '../access/access-control.ts';
import { AuditJournal, AuditLog, auditJournalOf, verifyAuditChain } from '../audit/index.ts';
import { ROLES, roleOf } from '../core/security/roles.ts';
import { FhirService } from '../fhir-api/fhir-service.ts';
import { AstmHostQuery } from '../ingest/astm-host-query.ts';
import { AstmInbox, type AstmInboxState } from '../ingest/astm-inbox.ts';
import { AstmListener } from '../ingest/astm-listener.ts';
import { AstmProcessor } from '../ingest/astm-processor.ts';
import { Hl7Inbox, type Hl7InboxState } from '../ingest/hl7-inbox.ts';
import { Hl7Processor } from '../ingest/hl7-processor.ts';
import { MllpListener, readMllpTls } from '../ingest/mllp-listener.ts';
import { OperationsService } from '../operations/operations-service.ts';
import { buildApp } from '../server/app.ts';
import { openAuthentication } from '../server/auth.ts';
import { loadConfig } from '../server/config.ts';
import { openDialect } from '../store/dialect/dialect.ts';
import { migrate } from '../store/migrations/index.ts';
import { FhirRepository } from '../store/repository.ts';
import { registerDemoCommands, startDemoSimulator } from './demo-commands.ts';

const port = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new InvalidArgumentError(`'${v}' is not a port number (0–65535)`);
  return n;
};

const program = new Command('dxhub').description('dxhub — open diagnostic data hub (FHIR R4)');

program
  .command('serve')
  .description('start the FHIR server')
  .option('--port <port>', 'HTTP port (DXHUB_PORT, default 8080)', port)
  .option('--host <host>', 'address to bind (DXHUB_HOST, default 127.0.0.1)')
  .option('--db <url>', 'database: sqlite:<file> or postgres://… (DXHUB_DB, default sqlite:./data/dxhub.db)')
  .option('--mllp-port <port>', 'HL7 v2 MLLP listener port (DXHUB_MLLP_PORT, default 2575)', port)
  .option('--astm-port <port>', 'ASTM E1381/E1394 listener port (DXHUB_ASTM_PORT, default 2576)', port)
  .option('--demo', 'embedded demo defaults')
  .action(
    async (opts: {
      port?: number;
      host?: string;
      db?: string;
      mllpPort?: number;
      astmPort?: number;
      demo?: boolean;
    }) => {
      const config = loadConfig(process.env, {
        port: opts.port,
        host: opts.host,
        db: opts.db,
        mllpPort: opts.mllpPort,
        astmPort: opts.astmPort,
        demo: opts.demo,
      });
      const dx = await buildApp(config);
      // HL7 v2 over MLLP: messages are committed to the durable inbox before they are acknowledged,
      // then mapped to FHIR by the processor (also what a previous run left unprocessed).
      const { inbox, processor } = dx;
      const mllp = new MllpListener({
        inbox: {
          accept: async (raw, peer) => {
            const r = await inbox.accept(raw, peer);
            processor.notify();
            return r;
          },
        },
        host: config.host,
        port: config.mllpPort,
        onError: (peer, err) => dx.app.log.warn({ peer, err }, 'MLLP connection problem'),
        // MLLP over TLS when DXHUB_MLLP_TLS_CERT/KEY are set (mutual TLS with DXHUB_MLLP_TLS_CA).
        tls: readMllpTls(config),
        observer: dx.interfaces,
      });
      dx.interfaces.register(mllp.name);
      // ASTM over TCP: each message is committed before the ACK of its last frame; host queries get
      // the pending orders.
      const astm = new AstmListener({
        inbox: {
          accept: async (raw, peer) => {
            const r = await dx.astmInbox.accept(raw, peer);
            dx.astmProcessor.notify();
            return r;
          },
        },
        answer: new AstmHostQuery({ service: dx.service }).answer,
        host: config.host,
        port: config.astmPort,
        onError: (peer, err) => dx.app.log.warn({ peer, err }, 'ASTM connection problem'),
      });
      let closing = false;
      let simulator: Awaited<ReturnType<typeof startDemoSimulator>>;
      const shutdown = async (signal: string) => {
        if (closing) return;
        closing = true;
        dx.app.log.info({ signal }, 'shutting down: finishing in-flight requests');
        await simulator?.stop();
        await mllp.close();
        await astm.close();
        await dx.close();
        process.exit(0);
      };
      process.on('SIGTERM', () => void shutdown('SIGTERM'));
      process.on('SIGINT', () => void shutdown('SIGINT'));
      const address = await dx.app.listen({ port: config.port, host: config.host });
      const mllpAddress = await mllp.listen();
      processor.start();
      const astmAddress = await astm.listen();
      dx.astmProcessor.start();
      dx.delivery.start();
      // Result processing: autoverification, critical values, derived values (docs/results.md).
      dx.results.start();
      dx.operations.start();
      dx.app.log.info({ mllp: `${mllpAddress.address}:${mllpAddress.port}` }, 'HL7 v2 MLLP listener ready');
      dx.app.log.info({ astm: `${astmAddress.address}:${astmAddress.port}` }, 'ASTM listener ready');
      dx.app.log.info({ address, db: dx.repo.db.caps.name }, `dxhub FHIR API at ${address}/fhir`);
      // Demo mode: live orders and results from the simulator, through the real API and listeners.
      if (config.demo) {
        simulator = await startDemoSimulator(dx, {
          http: address,
          mllp: { host: mllpAddress.address, port: mllpAddress.port },
          astm: { host: astmAddress.address, port: astmAddress.port },
        });
        dx.app.log.info('demo simulator running: live orders, HL7 v2 and ASTM results');
      }
    },
  );

program
  .command('reindex')
  .description('rebuild the search index from stored resources')
  .option('--db <url>', 'database URL (DXHUB_DB)')
  .action(async (opts: { db?: string }) => {
    const config = loadConfig(process.env, { db: opts.db });
    const repo = await FhirRepository.open(await openDialect(config.db));
    const n = await repo.reindex((done) => process.stderr.write(`\rreindexed ${done}`));
    process.stderr.write(`\rreindexed ${n} resources\n`);
    await repo.close();
  });

program
  .command('token')
  .description(
    "print an access token of the embedded issuer (keys in DXHUB_KEY_DIR; same host, port and base URL as 'serve')",
  )
  .requiredOption('--user <id>', 'the user or system account: the token subject')
  .requiredOption('--role <role>', `one of: ${Object.keys(ROLES).join(', ')}`)
  .option('--org <code>', 'SOR code of the organisation acted for (required except for citizens)')
  .option('--scope <scopes>', 'SMART v2 scopes, space-separated (default: everything the role allows)')
  .option('--patient <id>', 'Patient id the token is bound to (citizens, patient/ scopes)')
  .option('--fhir-user <ref>', "the user's own resource, e.g. Practitioner/123")
  .option('--ttl <seconds>', 'lifetime in seconds (default 3600, at most 86400)', (v) => Number(v))
  .option('--port <port>', 'HTTP port of the server the token is for (DXHUB_PORT)', port)
  .option('--host <host>', 'host of the server the token is for (DXHUB_HOST)')
  .option('--json', 'print the OAuth token response as JSON instead of the bare token')
  .action(
    async (opts: {
      user: string;
      role: string;
      org?: string;
      scope?: string;
      patient?: string;
      fhirUser?: string;
      ttl?: number;
      port?: number;
      host?: string;
      json?: boolean;
    }) => {
      const config = loadConfig(process.env, { port: opts.port, host: opts.host });
      if (config.oidcIssuer) {
        throw new Error(
          `tokens come from the configured issuer ${config.oidcIssuer} (DXHUB_OIDC_ISSUER), not from dxhub`,
        );
      }
      const role = roleOf(opts.role);
      if (!role) throw new Error(`unknown role '${opts.role}': use one of ${Object.keys(ROLES).join(', ')}`);
      const auth = await openAuthentication(config);
      const issued = await auth.issuer!.issueToken({
        user: opts.user,
        role: role.kind,
        org: opts.org,
        scope: opts.scope,
        patient: opts.patient,
        fhirUser: opts.fhirUser,
        ttlSeconds: opts.ttl,
      });
      if (!issued.ok) throw new Error(`${issued.error}: ${issued.message}`);
      process.stdout.write(
        opts.json
          ? `${JSON.stringify({ access_token: issued.accessToken, token_type: 'Bearer', expires_in: issued.expiresIn, scope: issued.scope, ...(issued.patient ? { patient: issued.patient } : {}) })}\n`
          : `${issued.accessToken}\n`,
      );
    },
  );

const inboxCommand = program
  .command('inbox')
  .description('the durable HL7 v2 inbox, or with --astm the ASTM inbox (dead letters, reprocessing)');
inboxCommand
  .command('list')
  .description('messages in a state, oldest first (default: failed, the dead letters)')
  .option('--db <url>', 'database URL (DXHUB_DB)')
  .option('--astm', 'the ASTM inbox (analyzers) instead of the HL7 v2 one')
  .option('--state <state>', 'received | processed | failed | duplicate (HL7 only)', 'failed')
  .option('--limit <n>', 'most rows', (v) => Number(v), 100)
  .action(async (opts: { db?: string; astm?: boolean; state: string; limit: number }) => {
    const config = loadConfig(process.env, { db: opts.db });
    const repo = await FhirRepository.open(await openDialect(config.db));
    try {
      if (opts.astm) {
        for (const r of await new AstmInbox(repo.db).list(astmInboxState(opts.state), opts.limit)) {
          process.stdout.write(
            `${r.id}\t${new Date(r.receivedAt).toISOString()}\t${r.sender}\t${r.peer}\t${r.state}\t${r.reason ?? ''}\n`,
          );
        }
        return;
      }
      const rows = await new Hl7Inbox(repo.db).list(inboxState(opts.state), opts.limit);
      for (const r of rows) {
        process.stdout.write(
          `${r.id}\t${new Date(r.receivedAt).toISOString()}\t${r.sendingApplication}^${r.sendingFacility}\t${r.messageType}\t${r.controlId}\t${r.state}\t${r.reason ?? ''}\n`,
        );
      }
    } finally {
      await repo.close();
    }
  });
inboxCommand
  .command('reprocess')
  .description('map stored messages to FHIR again, e.g. after a mapping fix (idempotent)')
  .option('--db <url>', 'database URL (DXHUB_DB)')
  .option('--astm', 'the ASTM inbox (analyzers) instead of the HL7 v2 one')
  .option('--id <id>', 'one message', (v) => Number(v))
  .option('--state <state>', 'every message in this state (default failed)', 'failed')
  .option('--limit <n>', 'most messages', (v) => Number(v), 10_000)
  .option('--force', 'also messages already processed')
  .action(async (opts: { db?: string; astm?: boolean; id?: number; state: string; limit: number; force?: boolean }) => {
    const config = loadConfig(process.env, { db: opts.db });
    const repo = await FhirRepository.open(await openDialect(config.db));
    try {
      if (opts.astm) {
        const inbox = new AstmInbox(repo.db);
        const processor = new AstmProcessor({ inbox, service: new FhirService(repo) });
        if (opts.id !== undefined && !(await inbox.get(opts.id))) throw new Error(`no ASTM inbox message ${opts.id}`);
        const target = opts.id ?? { state: astmInboxState(opts.state), limit: opts.limit };
        const s = await inbox.reprocess(target, processor.handle, { force: opts.force });
        process.stdout.write(`processed ${s.processed}, failed ${s.failed}, skipped ${s.skipped}\n`);
        if (s.failed > 0) process.exitCode = 1;
        return;
      }
      const inbox = new Hl7Inbox(repo.db);
      const audit = await AuditLog.open(repo.db);
      const processor = new Hl7Processor({ inbox, service: new FhirService(repo), audit });
      if (opts.id !== undefined && !(await inbox.get(opts.id))) throw new Error(`no inbox message ${opts.id}`);
      const target = opts.id ?? { state: inboxState(opts.state), limit: opts.limit };
      const s = await inbox.reprocess(target, processor.handle, { force: opts.force });
      process.stdout.write(`processed ${s.processed}, failed ${s.failed}, skipped ${s.skipped}\n`);
      if (s.failed > 0) process.exitCode = 1;
      await audit.close();
    } finally {
      await repo.close();
    }
  });

function astmInboxState(v: string): AstmInboxState {
  const states: AstmInboxState[] = ['received', 'processed', 'failed'];
  if (!states.includes(v as AstmInboxState)) throw new Error(`--state must be one of ${states.join(', ')}, not '${v}'`);
  return v as AstmInboxState;
}

function inboxState(v: string): Hl7InboxState {
  const states: Hl7InboxState[] = ['received', 'processed', 'failed', 'duplicate'];
  if (!states.includes(v as Hl7InboxState)) throw new Error(`--state must be one of ${states.join(', ')}, not '${v}'`);
  return v as Hl7InboxState;
}

const audit = program.command('audit').description('the hash-chained audit trail');
audit
  .command('verify')
  .description('check that no audit entry was altered, removed, inserted or reordered (exit 1 if one was)')
  .option('--db <url>', 'database URL (DXHUB_DB)')
  .option('--anchor <seq:hash>', 'a head hash kept outside the database, to detect a cut-off or re-hashed tail')
  .action(async (opts: { db?: string; anchor?: string }) => {
    const config = loadConfig(process.env, { db: opts.db });
    let anchor: { seq: number; hash: string } | undefined;
    if (opts.anchor) {
      const m = /^(\d+):([0-9a-f]{64})$/.exec(opts.anchor);
      if (!m) throw new Error(`--anchor must be <seq>:<64 hex digits>, not '${opts.anchor}'`);
      anchor = { seq: Number(m[1]), hash: m[2]! };
    }
    const db = await openDialect(config.db);
    try {
      await migrate(db);
      // Audits a server left in the journal (SQLite) or staged (PostgreSQL) belong in the chain first.
      const journal = auditJournalOf(config.db, config.auditJournal);
      const log = await AuditLog.open(db, {
        journal: journal && existsSync(journal) ? new AuditJournal(journal) : undefined,
      });
      await log.close();
      const verdict = await verifyAuditChain(db, { anchor });
      if (verdict.ok) {
        process.stdout.write(
          `audit trail intact: ${verdict.count} entries; head ${verdict.last.seq}:${verdict.last.hash}\n`,
        );
      } else {
        process.stdout.write(`audit trail BROKEN at entry ${verdict.seq}: ${verdict.problem}\n`);
        process.exitCode = 1;
      }
    } finally {
      await db.close();
    }
  });

// Ordering: validate a rule set file before a PUT /ordering/rulesets (docs/ordering.md).
program
  .command('rules')
  .description('validate an ordering rule set (JSON) against the catalogue; prints every problem')
  .argument('<file>', 'rule set JSON file')
  .action(async (file: string) => {
    const { buildCatalogue, validateRuleSet } = await import('../core/ordering/index.ts');
    const { readFileSync } = await import('node:fs');
    let input: unknown;
    try {
      input = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      throw new Error(`${file}: not a readable JSON file (${(e as Error).message})`);
    }
    const v = validateRuleSet(input, buildCatalogue());
    if (v.ok)
      process.stdout.write(`${file}: rule set '${v.ruleSet.name}' is valid (${v.ruleSet.rules.length} rules)\n`);
    else {
      process.stdout.write(`${file}: rule set refused:\n${v.errors.map((e) => `  - ${e}`).join('\n')}\n`);
      process.exitCode = 1;
    }
  });
registerDemoCommands(program);
// Management information (docs/operations.md).
const opsCommand = program.command('ops').description('management information (turnaround, WIP, bottlenecks)');
opsCommand
  .command('rebuild')
  .description('recompute every indicator from the stored history (outbox), replacing the current state')
  .option('--db <url>', 'database URL (DXHUB_DB)')
  .action(async (opts: { db?: string }) => {
    const config = loadConfig(process.env, { db: opts.db });
    const repo = await FhirRepository.open(await openDialect(config.db));
    const facts = new AccessFacts(repo);
    const ops = new OperationsService({ repo, directory: () => facts.directory() });
    const t0 = Date.now();
    const bar = (done: number, total: number) => {
      const share = total > 0 ? Math.min(1, done / total) : 1;
      const filled = Math.round(share * 30);
      const rate = Math.round(done / Math.max(0.001, (Date.now() - t0) / 1000));
      process.stderr.write(
        `\r[${'#'.repeat(filled)}${'-'.repeat(30 - filled)}] ${(share * 100).toFixed(1)}% ${done}/${total} events, ${rate}/s`,
      );
    };
    const n = await ops.rebuild(bar);
    bar(n, n);
    process.stderr.write(
      `\nrebuilt management information from ${n} outbox events in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`,
    );
    await repo.close();
  });

program.parseAsync().catch((err: Error) => {
  process.stderr.write(`dxhub: ${err.message}\n`);
  process.exit(1);
});
