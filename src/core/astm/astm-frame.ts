import { Buffer } from 'node:buffer';
import { astmChecksum } from './astm-checksum.ts';
import { CR, ETB, ETX, LF, STX } from './astm-control.ts';

/** One verified frame. */
export interface AstmFrame {
  /** Frame number 0–7 (FN). */
  readonly number: number;
  /** Frame text between FN and ETB/ETX (for ETX frames, normally ending in the record's CR). */
  readonly text: Buffer;
  /** True for an ETX (last) frame, false for an ETB (intermediate) frame. */
  readonly final: boolean;
  /** Checksum characters as received. */
  readonly checksum: string;
}

/**
 * Builds `<STX> FN text <ETB|ETX> C1 C2 <CR> <LF>` (E1381 / LIS01-A2 frame format). `number` is taken
 * modulo 8; the caller keeps text within 240 bytes (see `encodeAstmFrames`).
 */
export function buildAstmFrame(number: number, text: Uint8Array | string, final: boolean): Buffer {
  const body = typeof text === 'string' ? Buffer.from(text, 'latin1') : text;
  const out = Buffer.allocUnsafe(body.length + 7);
  out[0] = STX;
  out[1] = 0x30 + (((number % 8) + 8) % 8);
  out.set(body, 2);
  out[body.length + 2] = final ? ETX : ETB;
  out.write(astmChecksum(out, 1, body.length + 3), body.length + 3, 'latin1');
  out[body.length + 5] = CR;
  out[body.length + 6] = LF;
  return out;
}
