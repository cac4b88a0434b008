import { Buffer } from 'node:buffer';
import {
  AstmReceiver,
  type AstmReceiverEvent,
  type AstmReceiverOptions,
  AstmSender,
  type AstmSenderEvent,
  type AstmSenderOutput,
} from '../core/astm/index.ts';

/** What happened on a link: receiver-side and sender-side events of `core/astm`, tagged by side. */
export type AstmLinkEvent =
  | ({ readonly side: 'receiver' } & AstmReceiverEvent)
  | ({ readonly side: 'sender' } & AstmSenderEvent);

/** Options for {@link AstmLink}. */
export interface AstmLinkOptions {
  /** LIS01-A2 contention rule: the instrument has priority, the computer system yields. */
  readonly role: 'instrument' | 'computer';
  /** Writes bytes to the line. */
  readonly write: (bytes: Buffer) => void;
  /**
   * A complete message (records, each ending in CR). The ACK of its last frame is written only after
   * the promise resolves (store-then-ACK); a rejection fails the link without that ACK.
   */
  readonly onMessage: (bytes: Buffer) => Promise<void>;
  /** The link cannot go on (a message was not stored): the owner drops the connection. */
  readonly onFailure: (error: unknown) => void;
  readonly onEvent?: (event: AstmLinkEvent) => void;
  /** Answer ENQ with NAK while this returns true (LIS01-A2: receiver not ready). */
  readonly busy?: () => boolean;
  readonly receiver?: AstmReceiverOptions;
  /** Receiver timer: no frame or EOT for this long ends the session, discarding a partial message. Default 30 s. */
  readonly receiverTimeoutMs?: number;
  /** Sender timer: no reply to ENQ or a frame for this long aborts the transfer with EOT. Default 15 s. */
  readonly replyTimeoutMs?: number;
  /** Wait after NAK to our ENQ before bidding again. Default 10 s (LIS01-A2). */
  readonly busyBackoffMs?: number;
  /** Wait after contention before bidding again. Default by role: instrument 1 s, computer 20 s (LIS01-A2). */
  readonly contentionBackoffMs?: number;
}

type Timer = ReturnType<typeof setTimeout>;

/**
 * One E1381 / LIS01-A2 data link over a byte stream, both directions: the pure `AstmReceiver` and
 * `AstmSender` of `core/astm` plus their timers and the line direction. Incoming bytes go to the
 * sender while it awaits a reply (our ENQ or frame is out), otherwise to the receiver. Outgoing
 * messages wait until the line is neutral; the link then bids with ENQ. When both sides bid at once
 * the sender sees ENQ as the reply, yields (contention) and bids again after the back-off, by which
 * time the instrument — which has priority — has sent its ENQ again and is being received.
 * Everything runs in one promise chain, so bytes, timers and commits are handled in order.
 */
export class AstmLink {
  readonly #o: AstmLinkOptions;
  readonly #receiver: AstmReceiver;
  readonly #sender: AstmSender;
  #chain: Promise<void> = Promise.resolve();
  #pending: { records: readonly string[]; resolve: (delivered: boolean) => void }[] = [];
  readonly #waiting = new Map<number, (delivered: boolean) => void>();
  #receiverTimer: Timer | undefined;
  #replyTimer: Timer | undefined;
  #backoffTimer: Timer | undefined;
  #backoffDue = false;
  #steps = 0;
  #closed = false;

  constructor(options: AstmLinkOptions) {
    this.#o = options;
    this.#receiver = new AstmReceiver(options.receiver ?? {});
    this.#sender = new AstmSender({ role: options.role });
  }

  /** True when no session runs in either direction, nothing waits to be sent and no step is queued. */
  get idle(): boolean {
    return (
      this.#steps === 0 &&
      this.#receiver.state === 'neutral' &&
      this.#sender.state === 'idle' &&
      this.#pending.length === 0
    );
  }

  /** Feeds bytes read from the line. */
  push(chunk: Buffer): void {
    this.#step(() => this.#handle(chunk));
  }

  /** Queues a message (records without CR); resolves true once every frame was ACKed, false when aborted or closed. */
  send(records: readonly string[]): Promise<boolean> {
    if (records.length === 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      this.#pending.push({ records, resolve });
      this.#step(() => this.#bid());
    });
  }

  /** Stops the timers; queued messages resolve false. */
  close(): void {
    this.#closed = true;
    for (const t of [this.#receiverTimer, this.#replyTimer, this.#backoffTimer]) clearTimeout(t);
    for (const p of this.#pending) p.resolve(false);
    for (const r of this.#waiting.values()) r(false);
    this.#pending = [];
    this.#waiting.clear();
  }

  #step(fn: () => void | Promise<void>): void {
    this.#steps++;
    this.#chain = this.#chain
      .then(async () => {
        if (!this.#closed) await fn();
      })
      .catch((e: unknown) => {
        this.close();
        this.#o.onFailure(e);
      })
      .finally(() => {
        this.#steps--;
      });
  }

  async #handle(chunk: Buffer): Promise<void> {
    let i = 0;
    while (i < chunk.length && !this.#closed) {
      if (this.#sender.awaitingReply) {
        // Byte by byte: the reply that ends our turn may be followed by the other side's ENQ.
        this.#senderOutput(this.#sender.receive(chunk.subarray(i, i + 1)));
        i++;
        continue;
      }
      this.#receiver.setBusy(this.#o.busy?.() ?? false);
      const out = this.#receiver.receive(chunk.subarray(i));
      i = chunk.length;
      // Store-then-ACK: `out.send` holds the ACK of the message's last frame.
      for (const m of out.messages) await this.#o.onMessage(m.bytes);
      if (this.#closed) return;
      if (out.send.length > 0) this.#o.write(out.send);
      for (const e of out.events) this.#o.onEvent?.({ side: 'receiver', ...e });
    }
    this.#armReceiverTimer();
    this.#bid();
  }

  #armReceiverTimer(): void {
    clearTimeout(this.#receiverTimer);
    this.#receiverTimer = undefined;
    if (this.#receiver.state === 'neutral' || this.#closed) return;
    this.#receiverTimer = setTimeout(
      () =>
        this.#step(() => {
          for (const e of this.#receiver.timeout().events) this.#o.onEvent?.({ side: 'receiver', ...e });
          this.#bid();
        }),
      this.#o.receiverTimeoutMs ?? 30_000,
    );
  }

  /** Bids for the line (or hands messages to a running session) once the receiver is neutral. */
  #bid(): void {
    if (this.#closed || this.#receiver.state !== 'neutral') return;
    if (this.#pending.length > 0) {
      const pending = this.#pending;
      this.#pending = [];
      let send: Buffer = Buffer.alloc(0);
      for (const p of pending) {
        const r = this.#sender.enqueue(p.records);
        this.#waiting.set(r.messageId, p.resolve);
        if (r.send.length > 0) send = r.send;
      }
      if (send.length > 0) this.#senderOutput({ send, events: [] });
    }
    if (this.#sender.state === 'backoff' && this.#backoffDue) {
      this.#backoffDue = false;
      this.#senderOutput(this.#sender.resume());
    }
  }

  #senderOutput(out: AstmSenderOutput): void {
    if (out.send.length > 0) this.#o.write(out.send);
    for (const e of out.events) {
      if (e.kind === 'delivered' || e.kind === 'aborted') {
        this.#waiting.get(e.messageId)?.(e.kind === 'delivered');
        this.#waiting.delete(e.messageId);
      } else if (e.kind === 'backoff') {
        const ms =
          e.reason === 'busy'
            ? (this.#o.busyBackoffMs ?? e.retryAfterMs)
            : (this.#o.contentionBackoffMs ?? e.retryAfterMs);
        this.#startBackoff(ms);
      }
      this.#o.onEvent?.({ side: 'sender', ...e });
    }
    // Aborted with more queued: the sender waits in back-off without telling how long.
    if (this.#sender.state === 'backoff' && this.#backoffTimer === undefined && !this.#backoffDue) {
      this.#startBackoff(this.#o.busyBackoffMs ?? 10_000);
    }
    clearTimeout(this.#replyTimer);
    this.#replyTimer = undefined;
    if (this.#sender.awaitingReply && !this.#closed) {
      this.#replyTimer = setTimeout(
        () =>
          this.#step(() => {
            if (this.#sender.awaitingReply) this.#senderOutput(this.#sender.timeout());
            this.#bid();
          }),
        this.#o.replyTimeoutMs ?? 15_000,
      );
    }
  }

  #startBackoff(ms: number): void {
    clearTimeout(this.#backoffTimer);
    this.#backoffTimer = setTimeout(() => {
      this.#backoffTimer = undefined;
      this.#backoffDue = true;
      this.#step(() => this.#bid());
    }, ms);
  }
}
