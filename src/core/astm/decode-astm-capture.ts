import { Buffer } from 'node:buffer';
import { CR } from './astm-control.ts';
import { type AstmError, astmError } from './astm-errors.ts';
import type { AstmFrame } from './astm-frame.ts';
import { AstmTokenizer } from './astm-tokenizer.ts';

/** What a framed capture contains. */
export interface AstmCapture {
  /** Frames whose checksum verified, in order. */
  readonly frames: readonly AstmFrame[];
  /** Frames that failed (bad checksum, malformed, interrupted). */
  readonly errors: readonly AstmError[];
  /** Text of the good frames joined (ETB frames concatenated, ETX frames ending in CR). */
  readonly text: Buffer;
}

/**
 * Decodes a recorded E1381 transmission (a log or capture file) without session rules: no ENQ/EOT
 * or frame-number sequence is required, so captures with restarted numbering still decode. For live
 * traffic use `AstmReceiver`.
 */
export function decodeAstmCapture(bytes: Uint8Array, options: { readonly maxFrameBytes?: number } = {}): AstmCapture {
  const tokenizer = new AstmTokenizer(options);
  const tokens = tokenizer.push(bytes);
  const frames: AstmFrame[] = [];
  const errors: AstmError[] = [];
  const parts: Uint8Array[] = [];
  for (const t of tokens) {
    if (t.kind === 'frame') {
      frames.push(t.frame);
      parts.push(t.frame.text);
      if (t.frame.final && t.frame.text[t.frame.text.length - 1] !== CR) parts.push(Uint8Array.of(CR));
    } else if (t.kind === 'bad-frame') errors.push(t.error);
  }
  if (tokenizer.inFrame) errors.push(astmError('malformed-frame', { detail: 'capture ends inside a frame' }));
  return { frames, errors, text: Buffer.concat(parts) };
}
