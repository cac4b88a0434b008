import { Buffer } from 'node:buffer';
import { ACK, ENQ, EOT, NAK } from './astm-control.ts';
import { type AstmError, astmError } from './astm-errors.ts';
import { type AstmFrameEncodeOptions, encodeAstmFrames } from './encode-astm-frames.ts';

/** Something that happened on the sender side. */
export type AstmSenderEvent =
  | { readonly kind: 'established' }
  /** NAK to ENQ (receiver busy) or ENQ contention: wait `retryAfterMs`, then call `resume()`. */
  | { readonly kind: 'backoff'; readonly reason: 'busy' | 'contention'; readonly retryAfterMs: number }
  | { readonly kind: 'frame-accepted'; readonly frameNumber: number }
  | { readonly kind: 'frame-rejected'; readonly frameNumber: number; readonly attempt: number }
  /** EOT instead of ACK: the frame was accepted and the receiver asks the sender to stop soon. */
  | { readonly kind: 'interrupt-requested' }
  | { readonly kind: 'delivered'; readonly messageId: number }
  | { readonly kind: 'aborted'; readonly messageId: number; readonly error: AstmError };

/** Bytes to write and what happened. */
export interface AstmSenderOutput {
  readonly send: Buffer;
  readonly events: readonly AstmSenderEvent[];
}

/** Options for {@link AstmSender}. */
export interface AstmSenderOptions extends Omit<AstmFrameEncodeOptions, 'firstFrameNumber'> {
  /** Contention rule (LIS01-A2): the instrument retries after 1 s, the computer yields for 20 s. Default `instrument`. */
  readonly role?: 'instrument' | 'computer';
  /** Transmissions of one frame before aborting; default 6 ("not accepted six times", LIS01-A2). */
  readonly maxAttempts?: number;
}

const BUSY_WAIT_MS = 10_000;

/**
 * Pure sender state machine for E1381 / CLSI LIS01-A2, used by the analyzer simulator: ENQ, then one
 * frame at a time waiting for ACK, retransmitting a NAKed frame (any reply other than ACK or EOT
 * counts as NAK) until it was sent `maxAttempts` times, then EOT. Queued messages are sent in one
 * session. It never reads clocks: call `timeout()` when the 15 s reply timer expires and `resume()`
 * after a back-off.
 */
export class AstmSender {
  readonly #options: AstmSenderOptions;
  readonly #queue: { id: number; frames: Buffer[] }[] = [];
  #nextId = 1;
  #state: 'idle' | 'awaiting-enq-reply' | 'backoff' | 'awaiting-frame-reply' = 'idle';
  #frameIndex = 0;
  #attempts = 0;
  #frameNumber = 1;

  constructor(options: AstmSenderOptions = {}) {
    this.#options = options;
  }

  /** Current phase. */
  get state(): 'idle' | 'awaiting-enq-reply' | 'backoff' | 'awaiting-frame-reply' {
    return this.#state;
  }

  /** True while a reply timer should run. */
  get awaitingReply(): boolean {
    return this.#state === 'awaiting-enq-reply' || this.#state === 'awaiting-frame-reply';
  }

  /** Queues a message (records as text or byte arrays); returns its id and ENQ if the line was idle. */
  enqueue(records: string | readonly (string | Uint8Array)[]): AstmSenderOutput & { readonly messageId: number } {
    const id = this.#nextId++;
    this.#queue.push({ id, frames: encodeAstmFrames(records, { ...this.#options, firstFrameNumber: 1 }) });
    if (this.#state !== 'idle') return { send: Buffer.alloc(0), events: [], messageId: id };
    this.#state = 'awaiting-enq-reply';
    return { send: Buffer.of(ENQ), events: [], messageId: id };
  }

  /** After a back-off: bid for the line again. */
  resume(): AstmSenderOutput {
    if (this.#state !== 'backoff' || this.#queue.length === 0) return { send: Buffer.alloc(0), events: [] };
    this.#state = 'awaiting-enq-reply';
    return { send: Buffer.of(ENQ), events: [] };
  }

  /**
   * Reply timer expired (15 s after ENQ or a frame, LIS01-A2 time-outs): the sender enters the
   * termination phase (EOT) and the current message is aborted; later messages wait for `resume()`.
   */
  timeout(): AstmSenderOutput {
    if (!this.awaitingReply) return { send: Buffer.alloc(0), events: [] };
    const events: AstmSenderEvent[] = [];
    const head = this.#queue.shift();
    if (head) events.push({ kind: 'aborted', messageId: head.id, error: astmError('reply-timeout') });
    this.#state = this.#queue.length > 0 ? 'backoff' : 'idle';
    return { send: Buffer.of(EOT), events };
  }

  /** Feeds bytes received from the receiver. */
  receive(chunk: Uint8Array): AstmSenderOutput {
    const send: Buffer[] = [];
    const events: AstmSenderEvent[] = [];
    for (const b of chunk) {
      if (this.#state === 'awaiting-enq-reply') this.#enqReply(b, send, events);
      else if (this.#state === 'awaiting-frame-reply') this.#frameReply(b, send, events);
    }
    return { send: Buffer.concat(send), events };
  }

  #enqReply(b: number, send: Buffer[], events: AstmSenderEvent[]): void {
    if (b === ACK) {
      events.push({ kind: 'established' });
      this.#frameIndex = 0;
      this.#frameNumber = 1;
      this.#sendFrame(send);
    } else if (b === NAK) {
      this.#state = 'backoff';
      events.push({ kind: 'backoff', reason: 'busy', retryAfterMs: BUSY_WAIT_MS });
    } else if (b === ENQ) {
      this.#state = 'backoff';
      const retryAfterMs = (this.#options.role ?? 'instrument') === 'instrument' ? 1_000 : 20_000;
      events.push({ kind: 'backoff', reason: 'contention', retryAfterMs });
    }
  }

  #frameReply(b: number, send: Buffer[], events: AstmSenderEvent[]): void {
    const head = this.#queue[0];
    if (!head) return;
    if (b === ACK || b === EOT) {
      events.push({ kind: 'frame-accepted', frameNumber: this.#frameNumber });
      if (b === EOT) events.push({ kind: 'interrupt-requested' });
      this.#frameIndex++;
      this.#frameNumber = (this.#frameNumber + 1) % 8;
      if (this.#frameIndex >= head.frames.length) {
        this.#queue.shift();
        events.push({ kind: 'delivered', messageId: head.id });
        this.#frameIndex = 0;
        if (this.#queue.length === 0) {
          this.#state = 'idle';
          send.push(Buffer.of(EOT));
          return;
        }
      }
      this.#sendFrame(send);
      return;
    }
    events.push({ kind: 'frame-rejected', frameNumber: this.#frameNumber, attempt: this.#attempts });
    if (this.#attempts >= (this.#options.maxAttempts ?? 6)) {
      this.#queue.shift();
      events.push({ kind: 'aborted', messageId: head.id, error: astmError('too-many-rejections') });
      this.#state = this.#queue.length > 0 ? 'backoff' : 'idle';
      send.push(Buffer.of(EOT));
      return;
    }
    this.#retransmit(send);
  }

  #sendFrame(send: Buffer[]): void {
    this.#attempts = 0;
    this.#retransmit(send);
  }

  #retransmit(send: Buffer[]): void {
    const head = this.#queue[0];
    const frame = head?.frames[this.#frameIndex];
    if (!frame) return;
    // Frames were encoded from 1; renumber for their position in this session (modulo 8).
    const out = Buffer.from(frame);
    const original = (out[1] ?? 0x30) - 0x30;
    if (original !== this.#frameNumber) renumber(out, this.#frameNumber);
    send.push(out);
    this.#attempts++;
    this.#state = 'awaiting-frame-reply';
  }
}

/** Rewrites the frame number and checksum of a built frame in place. */
function renumber(frame: Buffer, fn: number): void {
  const oldDigit = frame[1] ?? 0x30;
  const newDigit = 0x30 + fn;
  frame[1] = newDigit;
  const at = frame.length - 4;
  const sum = (Number.parseInt(frame.toString('latin1', at, at + 2), 16) - oldDigit + newDigit + 256) & 0xff;
  frame.write(sum.toString(16).toUpperCase().padStart(2, '0'), at, 'latin1');
}
