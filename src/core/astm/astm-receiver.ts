import { Buffer } from 'node:buffer';
import { ACK, CR, ENQ, EOT, LF, NAK } from './astm-control.ts';
import { type AstmError, astmError } from './astm-errors.ts';
import type { AstmFrame } from './astm-frame.ts';
import { AstmTokenizer } from './astm-tokenizer.ts';

/** A message reassembled from frames: record bytes, each record terminated by CR. */
export interface AstmReceivedMessage {
  readonly bytes: Buffer;
  /** True when it ended with a terminator (L) record; false when EOT came first. */
  readonly terminated: boolean;
}

/** Something the caller may log or count. */
export type AstmReceiverEvent =
  | { readonly kind: 'session-start' }
  | { readonly kind: 'session-end' }
  | { readonly kind: 'duplicate-frame'; readonly frameNumber: number }
  | { readonly kind: 'error'; readonly error: AstmError; readonly discarded?: Buffer };

/**
 * Result of feeding bytes. Store-then-ACK: persist `messages` durably before writing `send` to the
 * line, so the ACK of a message's last frame is only sent once the message is safe.
 */
export interface AstmReceiverOutput {
  readonly send: Buffer;
  readonly messages: readonly AstmReceivedMessage[];
  readonly events: readonly AstmReceiverEvent[];
}

/** Options for {@link AstmReceiver}. */
export interface AstmReceiverOptions {
  /** Frame text limit in bytes; default 1 MiB (whole-message frames exist in the field). */
  readonly maxFrameBytes?: number;
  /** Message limit in bytes; default 16 MiB. Larger messages are refused with NAK until EOT. */
  readonly maxMessageBytes?: number;
  /**
   * `strict` (default): frames must be numbered 1, 2 … 7, 0, 1 … from the first frame after ENQ;
   * `lenient`: any number is accepted (for instruments that restart numbering).
   */
  readonly frameNumbers?: 'strict' | 'lenient';
  /** Adopt frames sent without a preceding ENQ as a session (some instruments skip it). Default false. */
  readonly acceptFramesWithoutEnq?: boolean;
}

/**
 * Pure receiver state machine for E1381 / CLSI LIS01-A2: answers ENQ with ACK (NAK when busy),
 * ACKs good frames and NAKs frames with a bad checksum, wrong frame number or over the size
 * limits; ACKs and discards a retransmitted frame (same number as the last accepted one, sent
 * again because our ACK was lost); concatenates ETB frames into records; returns a message when an
 * ETX frame completes an L record, or at EOT. It never reads clocks: call `timeout()` when the
 * receiver timer (30 s in LIS01-A2) expires without data.
 */
export class AstmReceiver {
  readonly #tokens: AstmTokenizer;
  readonly #maxMessage: number;
  readonly #strict: boolean;
  readonly #adopt: boolean;
  #state: 'neutral' | 'receiving' | 'rejecting' = 'neutral';
  #busy = false;
  #expected = 1;
  #last: AstmFrame | undefined;
  #parts: Buffer[] = [];
  #size = 0;
  #inRecord = false;
  #lastRecordType = 0;
  #lastFinal = true;

  constructor(options: AstmReceiverOptions = {}) {
    this.#tokens = new AstmTokenizer(
      options.maxFrameBytes === undefined ? {} : { maxFrameBytes: options.maxFrameBytes },
    );
    this.#maxMessage = options.maxMessageBytes ?? 16 * 1024 * 1024;
    this.#strict = (options.frameNumbers ?? 'strict') === 'strict';
    this.#adopt = options.acceptFramesWithoutEnq ?? false;
  }

  /** `neutral` between sessions; `receiving` after ENQ; `rejecting` after an oversize message until EOT. */
  get state(): 'neutral' | 'receiving' | 'rejecting' {
    return this.#state;
  }

  /** While busy, ENQ is answered with NAK (LIS01-A2: receiver not ready). */
  setBusy(busy: boolean): void {
    this.#busy = busy;
  }

  /** Feeds received bytes. */
  receive(chunk: Uint8Array): AstmReceiverOutput {
    const send: number[] = [];
    const messages: AstmReceivedMessage[] = [];
    const events: AstmReceiverEvent[] = [];
    for (const token of this.#tokens.push(chunk)) {
      if (token.kind === 'control') this.#control(token.byte, send, messages, events);
      else if (token.kind === 'bad-frame') {
        if (this.#state === 'neutral') continue;
        events.push({ kind: 'error', error: token.error });
        send.push(NAK);
      } else this.#frame(token.frame, send, messages, events);
    }
    return { send: Buffer.from(send), messages, events };
  }

  /** Receiver timer expired: drop any partial message and return to neutral. */
  timeout(): AstmReceiverOutput {
    const events: AstmReceiverEvent[] = [];
    if (this.#state !== 'neutral') {
      const discarded = this.#take();
      events.push({ kind: 'error', error: astmError('receiver-timeout'), ...(discarded.length ? { discarded } : {}) });
      this.#state = 'neutral';
    }
    return { send: Buffer.alloc(0), messages: [], events };
  }

  #control(byte: number, send: number[], messages: AstmReceivedMessage[], events: AstmReceiverEvent[]): void {
    if (byte === ENQ && this.#state === 'neutral') {
      if (this.#busy) {
        send.push(NAK);
        return;
      }
      this.#begin(events);
      send.push(ACK);
    } else if (byte === EOT && this.#state !== 'neutral') {
      this.#endSession(messages, events);
    }
    // ENQ during a session, or ACK/NAK sent to a receiver, are ignored.
  }

  #begin(events: AstmReceiverEvent[]): void {
    this.#state = 'receiving';
    this.#expected = 1;
    this.#last = undefined;
    this.#take();
    events.push({ kind: 'session-start' });
  }

  #frame(frame: AstmFrame, send: number[], messages: AstmReceivedMessage[], events: AstmReceiverEvent[]): void {
    if (this.#state === 'neutral') {
      if (!this.#adopt) {
        events.push({ kind: 'error', error: astmError('frame-without-session', { frameNumber: frame.number }) });
        return;
      }
      this.#begin(events);
      if (!this.#strict) this.#expected = frame.number;
    }
    if (this.#state === 'rejecting') {
      send.push(NAK);
      return;
    }
    const last = this.#last;
    if (last && frame.number === last.number && frame.text.equals(last.text)) {
      events.push({ kind: 'duplicate-frame', frameNumber: frame.number });
      send.push(ACK);
      return;
    }
    if (this.#strict && frame.number !== this.#expected) {
      const detail = `expected ${this.#expected}, received ${frame.number}`;
      events.push({
        kind: 'error',
        error: astmError('unexpected-frame-number', { detail, frameNumber: frame.number }),
      });
      send.push(NAK);
      return;
    }
    if (this.#size + frame.text.length + 1 > this.#maxMessage) {
      const discarded = this.#take();
      events.push({
        kind: 'error',
        error: astmError('message-too-large', { detail: `limit ${this.#maxMessage} bytes` }),
        discarded,
      });
      this.#state = 'rejecting';
      send.push(NAK);
      return;
    }
    this.#last = frame;
    this.#expected = (frame.number + 1) % 8;
    this.#append(frame.text);
    this.#lastFinal = frame.final;
    if (frame.final) {
      // An ETX frame ends on a record boundary; add the CR if the sender left it out.
      if (frame.text[frame.text.length - 1] !== CR) this.#append(Uint8Array.of(CR));
      if (this.#lastRecordType === 0x4c) messages.push({ bytes: this.#take(), terminated: true });
    }
    send.push(ACK);
  }

  #append(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    for (const b of bytes) {
      if (b === CR || b === LF) this.#inRecord = false;
      else if (!this.#inRecord) {
        this.#inRecord = true;
        this.#lastRecordType = b;
      }
    }
    this.#parts.push(Buffer.from(bytes));
    this.#size += bytes.length;
  }

  #endSession(messages: AstmReceivedMessage[], events: AstmReceiverEvent[]): void {
    if (this.#size > 0) {
      const complete = this.#lastFinal;
      const bytes = this.#take();
      if (complete) messages.push({ bytes, terminated: false });
      else events.push({ kind: 'error', error: astmError('incomplete-message'), discarded: bytes });
    }
    this.#state = 'neutral';
    this.#last = undefined;
    events.push({ kind: 'session-end' });
  }

  #take(): Buffer {
    const out = Buffer.concat(this.#parts, this.#size);
    this.#parts = [];
    this.#size = 0;
    this.#inRecord = false;
    this.#lastRecordType = 0;
    this.#lastFinal = true;
    return out;
  }
}
