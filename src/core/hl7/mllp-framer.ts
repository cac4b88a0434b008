import { Buffer } from 'node:buffer';

/** MLLP start block <SB> (HL7 Transport Specification: MLLP Release 2, block format). */
export const MLLP_START_BLOCK = 0x0b;
/** MLLP end block <EB>. */
export const MLLP_END_BLOCK = 0x1c;
/** Carriage return that follows <EB>. */
export const MLLP_CARRIAGE_RETURN = 0x0d;

/** Default payload limit: 8 MiB (lab results with embedded PDFs in OBX-5 ED can be several MB). */
export const DEFAULT_MLLP_MAX_MESSAGE_BYTES = 8 * 1024 * 1024;

/** Frames a payload: <SB> payload <EB> <CR>. Strings are encoded as UTF-8. */
export function frameMllp(payload: Uint8Array | string): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const out = Buffer.allocUnsafe(body.length + 3);
  out[0] = MLLP_START_BLOCK;
  out.set(body, 1);
  out[body.length + 1] = MLLP_END_BLOCK;
  out[body.length + 2] = MLLP_CARRIAGE_RETURN;
  return out;
}

/** Why bytes were dropped. */
export type MllpErrorCode = 'unexpected-bytes' | 'oversize' | 'unterminated-frame';

/** What {@link MllpFramer.push} produces. */
export type MllpEvent =
  | { readonly kind: 'message'; readonly payload: Buffer }
  | { readonly kind: 'error'; readonly code: MllpErrorCode; readonly bytes: number; readonly message: string };

const MESSAGES: Readonly<Record<MllpErrorCode, string>> = {
  'unexpected-bytes': 'Bytes outside an MLLP block were discarded',
  oversize: 'MLLP block exceeds the maximum message size; discarded up to its end block',
  'unterminated-frame': 'MLLP block ended without <EB><CR> (new <SB> or end of stream); partial payload discarded',
};

/** Options for {@link MllpFramer}. */
export interface MllpFramerOptions {
  /** Largest accepted payload in bytes; default {@link DEFAULT_MLLP_MAX_MESSAGE_BYTES}. */
  readonly maxMessageBytes?: number;
}

/**
 * Streaming MLLP deframer. Feed it TCP reads in order; it returns complete payloads (bytes between
 * <SB> and <EB>) however the stream was split: several blocks per read, a block over many reads,
 * <EB> and <CR> in different reads. Bytes before <SB> are skipped (CR/LF silently, anything else
 * reported once per run), a block over the size limit is dropped without buffering it, and a new
 * <SB> before <EB> abandons the partial block. A missing <CR> after <EB> is tolerated.
 */
export class MllpFramer {
  readonly #max: number;
  #state: 'seek' | 'body' | 'discard' = 'seek';
  #parts: Buffer[] = [];
  #size = 0;
  #garbage = 0;
  #skipCr = false;

  constructor(options: MllpFramerOptions = {}) {
    this.#max = options.maxMessageBytes ?? DEFAULT_MLLP_MAX_MESSAGE_BYTES;
  }

  /** Bytes held for an incomplete block. */
  get buffered(): number {
    return this.#size;
  }

  /** Consumes one read; returns the messages and errors it completed, in stream order. */
  push(chunk: Uint8Array): MllpEvent[] {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const events: MllpEvent[] = [];
    let i = 0;
    while (i < buf.length) {
      if (this.#skipCr) {
        this.#skipCr = false;
        if (buf[i] === MLLP_CARRIAGE_RETURN) {
          i++;
          continue;
        }
      }
      if (this.#state === 'seek') i = this.#seek(buf, i, events);
      else i = this.#body(buf, i, events);
    }
    return events;
  }

  /** Call when the connection closes: reports a partial block or trailing garbage and resets. */
  end(): MllpEvent[] {
    const events: MllpEvent[] = [];
    if (this.#state === 'body') events.push(error('unterminated-frame', this.#size));
    this.#flushGarbage(events);
    this.#reset('seek');
    return events;
  }

  #seek(buf: Buffer, i: number, events: MllpEvent[]): number {
    const start = buf.indexOf(MLLP_START_BLOCK, i);
    const stop = start < 0 ? buf.length : start;
    for (let k = i; k < stop; k++) {
      const b = buf[k];
      if (b !== 0x0d && b !== 0x0a) this.#garbage++;
    }
    if (start < 0) return buf.length;
    this.#flushGarbage(events);
    this.#state = 'body';
    return start + 1;
  }

  #body(buf: Buffer, i: number, events: MllpEvent[]): number {
    const end = buf.indexOf(MLLP_END_BLOCK, i);
    const restart = buf.indexOf(MLLP_START_BLOCK, i);
    if (restart >= 0 && (end < 0 || restart < end)) {
      // A new <SB> before <EB>: the sender gave up on the previous block.
      if (this.#state === 'body') events.push(error('unterminated-frame', this.#size + (restart - i)));
      this.#reset('body');
      return restart + 1;
    }
    const stop = end < 0 ? buf.length : end;
    if (this.#state === 'body') {
      if (this.#size + (stop - i) > this.#max) {
        events.push(error('oversize', this.#size + (stop - i)));
        this.#reset('discard');
      } else if (stop > i) {
        this.#parts.push(Buffer.from(buf.subarray(i, stop)));
        this.#size += stop - i;
      }
    }
    if (end < 0) return buf.length;
    if (this.#state === 'body') events.push({ kind: 'message', payload: Buffer.concat(this.#parts, this.#size) });
    this.#reset('seek');
    this.#skipCr = true;
    return end + 1;
  }

  #flushGarbage(events: MllpEvent[]): void {
    if (this.#garbage > 0) events.push(error('unexpected-bytes', this.#garbage));
    this.#garbage = 0;
  }

  #reset(state: 'seek' | 'body' | 'discard'): void {
    this.#state = state;
    this.#parts = [];
    this.#size = 0;
  }
}

function error(code: MllpErrorCode, bytes: number): MllpEvent {
  return { kind: 'error', code, bytes, message: MESSAGES[code] };
}

/** MLLP Release 2 commit acknowledgement block: <SB><ACK><EB><CR> (MLLP Release 2, commit acknowledgement). */
export const MLLP_COMMIT_ACK: Buffer = frameMllp(Uint8Array.of(0x06));
/** MLLP Release 2 negative commit acknowledgement block: <SB><NAK><EB><CR>. */
export const MLLP_COMMIT_NAK: Buffer = frameMllp(Uint8Array.of(0x15));

/** Classifies a payload as an MLLP R2 commit ACK/NAK, or undefined for an HL7 message. */
export function mllpCommitKind(payload: Uint8Array): 'ack' | 'nak' | undefined {
  if (payload.length !== 1) return undefined;
  return payload[0] === 0x06 ? 'ack' : payload[0] === 0x15 ? 'nak' : undefined;
}
