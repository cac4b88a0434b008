import type { Buffer } from 'node:buffer';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { AstmLink, type AstmLinkEvent } from './astm-link.ts';

/** Options for {@link AstmListener}. */
export interface AstmListenerOptions {
  /** Where messages go; its promise must resolve only once the message is durable. */
  readonly inbox: { accept(raw: Buffer, peer: string): Promise<unknown> };
  /**
   * Messages to send back for a stored message (host query answers, records without CR); called
   * after the commit, sent when the instrument has ended its transmission (EOT).
   */
  readonly answer?: (raw: Buffer, peer: string) => Promise<readonly (readonly string[])[]>;
  /** Bind address; give one explicitly (research §8 recommendation 4). */
  readonly host: string;
  /** TCP port; 0 picks a free one (see the address `listen()` returns). */
  readonly port: number;
  /** Largest message; larger ones are refused with NAK until EOT. Default 8 MiB. */
  readonly maxMessageBytes?: number;
  /** Largest frame text; default 1 MiB (instruments send whole messages in one frame). */
  readonly maxFrameBytes?: number;
  /** `strict` (default) NAKs a frame with an unexpected frame number; `lenient` accepts any number. */
  readonly frameNumbers?: 'strict' | 'lenient';
  /** Adopt frames that arrive without ENQ as a session (some instruments skip it). Default false. */
  readonly acceptFramesWithoutEnq?: boolean;
  /** LIS01-A2 receiver timer: partial message discarded after this long without a frame. Default 30 s. */
  readonly receiverTimeoutMs?: number;
  /** LIS01-A2 sender timer for our answers: no reply for this long aborts with EOT. Default 15 s. */
  readonly replyTimeoutMs?: number;
  /** Wait after the instrument NAKs our ENQ. Default 10 s. */
  readonly busyBackoffMs?: number;
  /** Wait after ENQ contention before the computer bids again. Default 20 s (LIS01-A2). */
  readonly contentionBackoffMs?: number;
  /** A connection with no traffic and no session for this long is closed. Default 10 min (instruments keep a connection open). */
  readonly idleTimeoutMs?: number;
  /** Peer IP addresses allowed to connect (IPv4-mapped IPv6 compared as IPv4); others are dropped at once. */
  readonly allowlist?: readonly string[];
  /** How long `close()` lets sessions finish before destroying connections. Default 5 s. */
  readonly closeTimeoutMs?: number;
  /** Told about failed commits, socket errors and protocol errors (bad frames, time-outs, aborted answers). */
  readonly onError?: (peer: string, error: unknown) => void;
  /** Every link event, for logs and metrics. */
  readonly onEvent?: (peer: string, event: AstmLinkEvent) => void;
}

interface Connection {
  readonly socket: Socket;
  readonly link: AstmLink;
}

/**
 * ASTM E1381 (CLSI LIS01-A2) over TCP feeding a durable inbox. Each connection is a data link in
 * the computer-system role: ENQ → ACK (NAK while the listener closes), frames checked and
 * acknowledged, each complete message committed before the ACK of its last frame, host-query
 * answers sent back as the E1381 sender once the instrument has sent EOT.
 */
export class AstmListener {
  readonly #o: AstmListenerOptions;
  readonly #server: Server;
  readonly #connections = new Set<Connection>();
  #closing = false;

  constructor(options: AstmListenerOptions) {
    this.#o = options;
    this.#server = createServer((socket) => this.#onConnection(socket));
  }

  /** Starts listening; resolves with the bound address. */
  listen(): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen({ host: this.#o.host, port: this.#o.port }, () => {
        this.#server.off('error', reject);
        resolve(this.#server.address() as AddressInfo);
      });
    });
  }

  /** Open connections. */
  get connections(): number {
    return this.#connections.size;
  }

  /**
   * Stops accepting connections and new sessions (ENQ → NAK), lets running sessions finish (their
   * messages committed and acknowledged), then closes; still open after `closeTimeoutMs`: destroyed.
   */
  async close(): Promise<void> {
    this.#closing = true;
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    const deadline = Date.now() + (this.#o.closeTimeoutMs ?? 5000);
    while (this.#connections.size > 0) {
      for (const c of this.#connections) {
        if (c.link.idle || Date.now() >= deadline) this.#drop(c);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    await closed;
  }

  async #answer(
    link: AstmLink,
    answer: NonNullable<AstmListenerOptions['answer']>,
    bytes: Buffer,
    peer: string,
  ): Promise<void> {
    try {
      // Queued together, the answers go out in one session (ENQ, frames, EOT).
      const sent = await Promise.all((await answer(bytes, peer)).map((records) => link.send(records)));
      if (sent.includes(false)) this.#o.onError?.(peer, new Error('host query answer not delivered'));
    } catch (e) {
      // A failed lookup must not undo the ACK of a stored message: the instrument times out and asks again.
      this.#o.onError?.(peer, e);
    }
  }

  #drop(c: Connection): void {
    c.link.close();
    c.socket.destroy();
    this.#connections.delete(c);
  }

  #onConnection(socket: Socket): void {
    const peer = normalisePeer(socket.remoteAddress ?? '');
    const { allowlist } = this.#o;
    if (this.#closing || (allowlist && !allowlist.map(normalisePeer).includes(peer))) {
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    const o = this.#o;
    const link: AstmLink = new AstmLink({
      role: 'computer',
      write: (bytes) => {
        if (!socket.destroyed) socket.write(bytes);
      },
      onMessage: async (bytes) => {
        await o.inbox.accept(bytes, peer);
        // The answer is looked up after the ACK; the link sends it once the instrument has sent EOT.
        if (o.answer) void this.#answer(link, o.answer, bytes, peer);
      },
      onFailure: (e) => {
        // Not committed, so its last frame is not ACKed: dropping the connection makes the instrument resend.
        o.onError?.(peer, e);
        this.#drop(c);
      },
      onEvent: (e) => {
        o.onEvent?.(peer, e);
        if (e.kind === 'error' || e.kind === 'aborted') o.onError?.(peer, e.error);
      },
      busy: () => this.#closing,
      receiver: {
        maxMessageBytes: o.maxMessageBytes ?? 8 * 1024 * 1024,
        ...(o.maxFrameBytes === undefined ? {} : { maxFrameBytes: o.maxFrameBytes }),
        frameNumbers: o.frameNumbers ?? 'strict',
        acceptFramesWithoutEnq: o.acceptFramesWithoutEnq ?? false,
      },
      ...(o.receiverTimeoutMs === undefined ? {} : { receiverTimeoutMs: o.receiverTimeoutMs }),
      ...(o.replyTimeoutMs === undefined ? {} : { replyTimeoutMs: o.replyTimeoutMs }),
      ...(o.busyBackoffMs === undefined ? {} : { busyBackoffMs: o.busyBackoffMs }),
      ...(o.contentionBackoffMs === undefined ? {} : { contentionBackoffMs: o.contentionBackoffMs }),
    });
    const c: Connection = { socket, link };
    this.#connections.add(c);
    socket.setTimeout(o.idleTimeoutMs ?? 600_000, () => {
      if (link.idle) this.#drop(c);
    });
    socket.on('data', (chunk: Buffer) => link.push(chunk));
    socket.on('error', (e) => o.onError?.(peer, e));
    socket.on('close', () => {
      link.close();
      this.#connections.delete(c);
    });
  }
}

/** `::ffff:10.0.0.1` → `10.0.0.1`, so that an allowlist of IPv4 addresses works on a dual-stack socket. */
function normalisePeer(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice('::ffff:'.length) : address;
}
