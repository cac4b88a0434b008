import { Buffer } from 'node:buffer';
import { astmChecksum } from './astm-checksum.ts';
import { ACK, CR, ENQ, EOT, ETB, ETX, LF, NAK, STX } from './astm-control.ts';
import { type AstmError, astmError } from './astm-errors.ts';
import type { AstmFrame } from './astm-frame.ts';

/** What the tokenizer recognises in a byte stream. */
export type AstmToken =
  | { readonly kind: 'control'; readonly byte: typeof ENQ | typeof EOT | typeof ACK | typeof NAK }
  | { readonly kind: 'frame'; readonly frame: AstmFrame }
  | { readonly kind: 'bad-frame'; readonly error: AstmError };

/** Default frame size limit: far above the 247 of LIS01-A2, because real analyzers send whole messages in one frame. */
export const DEFAULT_ASTM_MAX_FRAME_BYTES = 1024 * 1024;

/**
 * Streaming splitter of E1381 / LIS01-A2 traffic into control characters and frames. Frames are
 * checked (frame number 0–7, two hex checksum characters matching the mod-256 sum) but not
 * sequenced. After the checksum, the frame is complete: the trailing CR LF is optional because
 * captures end frames with CR only, LF only or nothing. CR/LF and stray bytes between frames are
 * skipped (counted in `ignoredBytes`); a control character inside a frame interrupts it.
 */
export class AstmTokenizer {
  readonly #maxFrame: number;
  #state: 'idle' | 'text' | 'checksum' = 'idle';
  #parts: Buffer[] = [];
  #size = 0;
  #tooLong = false;
  #final = false;
  #checksum = '';
  #ignored = 0;

  constructor(options: { readonly maxFrameBytes?: number } = {}) {
    this.#maxFrame = options.maxFrameBytes ?? DEFAULT_ASTM_MAX_FRAME_BYTES;
  }

  /** Bytes skipped outside frames (other than CR/LF). */
  get ignoredBytes(): number {
    return this.#ignored;
  }

  /** True while inside a frame. */
  get inFrame(): boolean {
    return this.#state !== 'idle';
  }

  /** Consumes bytes, returning tokens in stream order. */
  push(chunk: Uint8Array): AstmToken[] {
    const tokens: AstmToken[] = [];
    let i = 0;
    while (i < chunk.length) {
      const b = chunk[i] ?? 0;
      if (this.#state === 'idle') {
        if (b === STX) this.#startFrame();
        else if (b === ENQ || b === EOT || b === ACK || b === NAK) tokens.push({ kind: 'control', byte: b });
        else if (b !== CR && b !== LF) this.#ignored++;
        i++;
      } else if (this.#state === 'text') {
        i = this.#text(chunk, i, tokens);
      } else if (b === STX || b === ENQ || b === EOT) {
        tokens.push({ kind: 'bad-frame', error: astmError('frame-interrupted', { detail: 'inside the checksum' }) });
        this.#state = 'idle';
      } else {
        this.#checksum += String.fromCharCode(b);
        i++;
        if (this.#checksum.length === 2) tokens.push(this.#finish());
      }
    }
    return tokens;
  }

  #startFrame(): void {
    this.#state = 'text';
    this.#parts = [];
    this.#size = 0;
    this.#tooLong = false;
    this.#checksum = '';
  }

  #text(chunk: Uint8Array, i: number, tokens: AstmToken[]): number {
    let k = i;
    while (k < chunk.length) {
      const b = chunk[k];
      if (b === ETX || b === ETB || b === STX || b === ENQ || b === EOT) break;
      k++;
    }
    this.#append(chunk, i, k);
    if (k === chunk.length) return k;
    const b = chunk[k];
    if (b === ETX || b === ETB) {
      this.#final = b === ETX;
      this.#state = 'checksum';
      return k + 1;
    }
    // STX, ENQ or EOT inside the text: the sender abandoned the frame (LIS01-A2 forbids them in text).
    tokens.push({ kind: 'bad-frame', error: astmError('frame-interrupted') });
    this.#state = 'idle';
    return k;
  }

  #append(chunk: Uint8Array, from: number, to: number): void {
    if (to <= from || this.#tooLong) return;
    if (this.#size + (to - from) > this.#maxFrame) {
      this.#tooLong = true;
      this.#parts = [];
      return;
    }
    this.#parts.push(Buffer.from(chunk.subarray(from, to)));
    this.#size += to - from;
  }

  #finish(): AstmToken {
    this.#state = 'idle';
    if (this.#tooLong)
      return { kind: 'bad-frame', error: astmError('frame-too-long', { detail: `limit ${this.#maxFrame} bytes` }) };
    const body = Buffer.concat(this.#parts, this.#size);
    const fn = (body[0] ?? 0) - 0x30;
    if (body.length === 0 || fn < 0 || fn > 7)
      return { kind: 'bad-frame', error: astmError('malformed-frame', { detail: 'no frame number 0-7' }) };
    if (!/^[0-9A-Fa-f]{2}$/.test(this.#checksum)) {
      return {
        kind: 'bad-frame',
        error: astmError('malformed-frame', { detail: `checksum "${this.#checksum}"`, frameNumber: fn }),
      };
    }
    const withTerminator = Buffer.concat([body, Uint8Array.of(this.#final ? ETX : ETB)]);
    const expected = astmChecksum(withTerminator);
    if (expected !== this.#checksum.toUpperCase()) {
      return {
        kind: 'bad-frame',
        error: astmError('bad-checksum', {
          detail: `received ${this.#checksum}, computed ${expected}`,
          frameNumber: fn,
        }),
      };
    }
    return {
      kind: 'frame',
      frame: { number: fn, text: body.subarray(1), final: this.#final, checksum: this.#checksum },
    };
  }
}
