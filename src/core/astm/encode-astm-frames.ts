import { Buffer } from 'node:buffer';
import { ASTM_MAX_FRAME_TEXT, CR } from './astm-control.ts';
import { buildAstmFrame } from './astm-frame.ts';

/** Options for {@link encodeAstmFrames}. */
export interface AstmFrameEncodeOptions {
  /** Frame text limit in bytes; default 240 (LIS01-A2). */
  readonly maxFrameText?: number;
  /** Number of the first frame; default 1 (the first frame of a transfer phase). */
  readonly firstFrameNumber?: number;
  /** Byte encoding for string records; default `latin1` (ISO-8859-1, what most analyzers use). */
  readonly encoding?: 'latin1' | 'utf8';
}

/**
 * Splits records into E1381 frames: each record (plus its CR terminator) starts a new frame; a record
 * longer than the text limit is cut into ETB frames followed by one ETX frame; frame numbers run
 * 1 … 7, 0, 1 … (modulo 8). Strings are split into records on CR, LF or CRLF.
 */
export function encodeAstmFrames(
  records: string | readonly (string | Uint8Array)[],
  options: AstmFrameEncodeOptions = {},
): Buffer[] {
  const max = Math.max(1, options.maxFrameText ?? ASTM_MAX_FRAME_TEXT);
  const list = typeof records === 'string' ? records.split(/\r\n|\r|\n/).filter((r) => r !== '') : records;
  const frames: Buffer[] = [];
  let fn = options.firstFrameNumber ?? 1;
  for (const record of list) {
    const body = typeof record === 'string' ? Buffer.from(record, options.encoding ?? 'latin1') : Buffer.from(record);
    const text = Buffer.concat([body, Uint8Array.of(CR)]);
    for (let at = 0; at < text.length; at += max) {
      const end = Math.min(text.length, at + max);
      frames.push(buildAstmFrame(fn, text.subarray(at, end), end === text.length));
      fn = (fn + 1) % 8;
    }
  }
  return frames;
}
