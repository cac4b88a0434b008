/**
 * dxhub without authentication, access decisions and audit, for one figure only: what
 * authorisation and audit cost on reads (bench/scenarios/read.ts, issue 3). The same build and
 * configuration as `dxhub serve` otherwise (hardening, metrics, logging, the background
 * consumers), started the same way by bench/server-process.ts:
 *
 *   node bench/open-server.ts --port <port> --host 127.0.0.1 --db <url>
 *
 * `buildApp`'s `withoutAccessControl: 'benchmark'` is not reachable from the command line, the
 * environment or a configuration file; this file is its only user. Never run this against data
 * that matters: anyone who reaches the port reads everything, and no read is audited.
 */
import { parseArgs } from 'node:util';
import { buildApp } from '../src/server/app.ts';
import { loadConfig } from '../src/server/config.ts';

const { values } = parseArgs({
  options: { port: { type: 'string' }, host: { type: 'string', default: '127.0.0.1' }, db: { type: 'string' } },
});
if (!values.port || !values.db)
  throw new Error('usage: node bench/open-server.ts --port <port> --db <url> [--host <addr>]');
if (values.host !== '127.0.0.1' && values.host !== '::1')
  throw new Error('the open benchmark server binds to loopback only');
const config = loadConfig(process.env, { port: Number(values.port), host: values.host, db: values.db });
const dx = await buildApp(config, { withoutAccessControl: 'benchmark' });
let closing = false;
const shutdown = async () => {
  if (closing) return;
  closing = true;
  await dx.close();
  process.exit(0);
};
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());
await dx.app.listen({ port: config.port, host: config.host });
// The background consumers `dxhub serve` runs, so that both servers carry the same load beside
// the reads (bench/scenarios/harness.ts waits for them to catch up before timing).
dx.results.start();
dx.operations.start();
dx.delivery.start();
dx.processor.start();
dx.astmProcessor.start();
