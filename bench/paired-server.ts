/**
 * Two dxhub FHIR APIs in one process, for one figure only: what authorisation and audit cost on
 * reads (bench/scenarios/read.ts, issue 3).
 *
 *   node bench/paired-server.ts --port <audited port> --open-port <open port> --db <url>
 *
 * - `--port`: dxhub as `dxhub serve` builds it (authentication, SMART scopes, access decisions, the
 *   durable audit entry of every read) with the background consumers `serve` runs;
 * - `--open-port`: the same build without authentication, access decisions and audit (`buildApp`'s
 *   `withoutAccessControl: 'benchmark'`, reachable from no command line, environment or
 *   configuration file), on its own connection to the same database.
 *
 * One process, because two processes of the same build ran at rates up to 2× apart on the 2-vCPU
 * machines this was built on, for as long as they lived (docs/architecture.md, session 30): the
 * difference between two processes measured that lottery more than the cost of the access
 * checks. Here both APIs share the request thread, the compiler and the heap, and the bench's
 * readers take turns, so that one side's pauses (the idle consumers' polls, garbage collection)
 * fall on the other's turn alike. The MLLP and ASTM listeners of `serve` are left out: the read
 * bench sends them nothing.
 *
 * Never run this against data that matters: anyone who reaches the open port reads everything,
 * and no read there is audited. It binds to loopback only.
 */
import { parseArgs } from 'node:util';
import { buildApp } from '../src/server/app.ts';
import { loadConfig } from '../src/server/config.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    'open-port': { type: 'string' },
    host: { type: 'string', default: '127.0.0.1' },
    db: { type: 'string' },
  },
});
if (!values.port || !values['open-port'] || !values.db)
  throw new Error('usage: node bench/paired-server.ts --port <port> --open-port <port> --db <url> [--host <addr>]');
if (values.host !== '127.0.0.1' && values.host !== '::1')
  throw new Error('the paired benchmark server binds to loopback only');
const config = loadConfig(process.env, { port: Number(values.port), host: values.host, db: values.db });
const openConfig = loadConfig(process.env, { port: Number(values['open-port']), host: values.host, db: values.db });
const audited = await buildApp(config);
const open = await buildApp(openConfig, { withoutAccessControl: 'benchmark' });
let closing = false;
const shutdown = async () => {
  if (closing) return;
  closing = true;
  await open.close();
  await audited.close();
  process.exit(0);
};
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());
await open.app.listen({ port: openConfig.port, host: openConfig.host });
await audited.app.listen({ port: config.port, host: config.host });
// The background consumers of `dxhub serve`, once: they serve both APIs' database.
audited.processor.start();
audited.astmProcessor.start();
audited.delivery.start();
audited.results.start();
audited.operations.start();
