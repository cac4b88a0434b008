import { getRandomValues } from 'node:crypto';

let lastMs = 0;
let counter = 0;
/** Random bytes are drawn in blocks: one system call per 512 ids instead of one per id. */
const pool = new Uint8Array(8 * 512);
let poolPos = pool.length;

/**
 * A new server-assigned resource id: a UUID version 7 (RFC 9562 §5.7), i.e. a 48-bit Unix time in
 * milliseconds followed by random bits. Ids made later sort later, so inserts into the
 * `(type, id)` index append instead of touching a random page per resource (less write
 * amplification, especially in SQLite's WAL). A 12-bit counter (rand_a) keeps ids made in the same
 * millisecond in order (RFC 9562 §6.2 method 1).
 */
export function newResourceId(now: number = Date.now()): string {
  if (now <= lastMs) {
    counter++;
    if (counter > 0xfff) {
      lastMs++;
      counter = 0;
    }
  } else {
    lastMs = now;
    counter = 0;
  }
  if (poolPos === pool.length) {
    getRandomValues(pool);
    poolPos = 0;
  }
  const b = new Uint8Array(16);
  b.set(pool.subarray(poolPos, poolPos + 8), 8);
  poolPos += 8;
  const ms = lastMs;
  b[0] = Math.floor(ms / 2 ** 40) & 0xff;
  b[1] = Math.floor(ms / 2 ** 32) & 0xff;
  b[2] = (ms >>> 24) & 0xff;
  b[3] = (ms >>> 16) & 0xff;
  b[4] = (ms >>> 8) & 0xff;
  b[5] = ms & 0xff;
  b[6] = 0x70 | ((counter >>> 8) & 0x0f);
  b[7] = counter & 0xff;
  b[8] = 0x80 | (b[8]! & 0x3f);
  const hex = Buffer.from(b).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
