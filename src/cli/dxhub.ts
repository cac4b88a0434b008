#!/usr/bin/env node
import { Command, InvalidArgumentError } from 'commander';
import { verifyAuditChain } from '../audit/index.ts';
import { Hl7Inbox } from '../ingest/hl7-inbox.ts';
import { MllpListener } from '../ingest/mllp-listener.ts';
import { buildApp } from '../server/app.ts';
import { loadConfig } from '../server/config.ts';
import { openDialect } from '../store/dialect/dialect.ts';
import { migrate } from '../store/migrations/index.ts';
import { FhirRepository } from '../store/repository.ts';

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
  .option('--demo', 'embedded demo defaults')
  .action(async (opts: { port?: number; host?: string; db?: string; mllpPort?: number; demo?: boolean }) => {
    const config = loadConfig(process.env, { port: opts.port, host: opts.host, db: opts.db, mllpPort: opts.mllpPort });
    const dx = await buildApp(config);
    // HL7 v2 over MLLP: messages are committed to the durable inbox before they are acknowledged.
    const mllp = new MllpListener({
      inbox: new Hl7Inbox(dx.repo.db),
      host: config.host,
      port: config.mllpPort,
      onError: (peer, err) => dx.app.log.warn({ peer, err }, 'MLLP connection problem'),
    });
    let closing = false;
    const shutdown = async (signal: string) => {
      if (closing) return;
      closing = true;
      dx.app.log.info({ signal }, 'shutting down: finishing in-flight requests');
      await mllp.close();
      await dx.close();
      process.exit(0);
    };
    process.on('SIGTERM', () => void shutdown('SIGTERM'));
    process.on('SIGINT', () => void shutdown('SIGINT'));
    const address = await dx.app.listen({ port: config.port, host: config.host });
    const mllpAddress = await mllp.listen();
    dx.app.log.info({ mllp: `${mllpAddress.address}:${mllpAddress.port}` }, 'HL7 v2 MLLP listener ready');
    dx.app.log.info({ address, db: dx.repo.db.caps.name }, `dxhub FHIR API at ${address}/fhir`);
  });

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

program.parseAsync().catch((err: Error) => {
  process.stderr.write(`dxhub: ${err.message}\n`);
  process.exit(1);
});
