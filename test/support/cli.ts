import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/** The dxhub CLI entry point. */
export const CLI = join(import.meta.dirname, '..', '..', 'src', 'cli', 'dxhub.ts');

/**
 * `Authorization` value for a server started with `serve --port 0` and DXHUB_KEY_DIR=`keyDir`,
 * minted the way an operator would: `dxhub token` (default an integration system account).
 */
export function cliBearer(
  keyDir: string,
  args: string[] = ['--user', 'test-interface', '--role', 'integration', '--org', 'test-org'],
): string {
  const token = execFileSync(process.execPath, [CLI, 'token', '--port', '0', ...args], {
    env: { ...process.env, DXHUB_KEY_DIR: keyDir },
    encoding: 'utf8',
  }).trim();
  return `Bearer ${token}`;
}
