import type { Buffer } from 'node:buffer';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { buildAck, frameMllp, type MllpEvent, MllpFramer, mllpCommitKind } from '../core/hl7/index.ts';
import type { Hl7AcceptResult } from './hl7-inbox.ts';

/** Options for {@link MllpListener}. */
export interface MllpListenerOptions {
  /** Where payloads go; its promise must resolve only once the payload is durable. */
  readonly inbox: { accept(raw: Buffer, peer: string): Promise<Hl7AcceptResult> };
  /** Bind address; give one explicitly (research §7 recommendation 4: explicit bind address). */
  readonly host: string;
  /** TCP port; 0 picks a free one (see the address `listen()` returns). */
  readonly port: number;
  /** Largest payload; a larger block is answered AR and the connection closed. Default: the framer's 8 MiB. */
  readonly maxMessageBytes?: number;
  /** A connection with no traffic for this long is closed (after its pending ACKs). Default 60 s. */
  readonly idleTimeoutMs?: number;
  /** Peer IP addresses allowed to connect (IPv4-mapped IPv6 is compared as IPv4); others are dropped at once. */
  readonly allowlist?: readonly string[];
  /** How long `close()` lets connections finish their pending messages before destroying them. Default 5 s. */
  readonly closeTimeoutMs?: number;
  /** Told about framing problems and failed accepts (no ACK is sent for those: the sender retransmits). */
  readonly onError?: (peer: string, error: Error | MllpEvent) => void;
}

interface Connection {
  readonly socket: Socket;
  /** The chain of accepts and ACK writes, in stream order. */
  queue: Promise<void>;
  /** No further payloads are taken (closing, oversize, idle or failed). */
  stopped: boolean;
  /** `#finish` ran: the socket ends once the queue drains. */
  ending: boolean;
}

/**
 * MLLP (Release 1) listener feeding a durable inbox. Per connection, payloads are accepted one at a
 * time in stream order and each ACK is written only after `inbox.accept` resolved, i.e. after the
 * commit (research §6.1: ACK only after the raw message is durable). Not TLS, no MLLP R2 commit
 * blocks are sent (incoming ones are ignored).
 */
export class MllpListener {
  readonly #options: MllpListenerOptions;
  readonly #server: Server;
  readonly #connections = new Set<Connection>();

  constructor(options: MllpListenerOptions) {
    this.#options = options;
    // Half-open allowed: a sender that ends its side after writing still gets every pending ACK.
    this.#server = createServer({ allowHalfOpen: true }, (socket) => this.#onConnection(socket));
  }

  /** Starts listening; resolves with the bound address. */
  listen(): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen({ host: this.#options.host, port: this.#options.port }, () => {
        this.#server.off('error', reject);
        resolve(this.#server.address() as AddressInfo);
      });
    });
  }

  /**
   * Stops accepting connections, lets each open connection finish the payloads it has already
   * received (commit and ACK), then closes it; connections still open after `closeTimeoutMs` are destroyed.
   */
  close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const c of this.#connections) this.#finish(c);
    const timer = setTimeout(() => {
      for (const c of this.#connections) c.socket.destroy();
    }, this.#options.closeTimeoutMs ?? 5000);
    return closed.finally(() => clearTimeout(timer));
  }

  #onConnection(socket: Socket): void {
    const peer = normalisePeer(socket.remoteAddress ?? '');
    const { allowlist } = this.#options;
    if (allowlist && !allowlist.map(normalisePeer).includes(peer)) {
      socket.destroy();
      return;
    }
    const c: Connection = { socket, queue: Promise.resolve(), stopped: false, ending: false };
    this.#connections.add(c);
    const framer = new MllpFramer(
      this.#options.maxMessageBytes === undefined ? {} : { maxMessageBytes: this.#options.maxMessageBytes },
    );
    socket.setTimeout(this.#options.idleTimeoutMs ?? 60_000, () => this.#finish(c));
    socket.on('close', () => this.#connections.delete(c));
    socket.on('error', (e) => this.#options.onError?.(peer, e));
    socket.on('data', (chunk: Buffer) => {
      if (!c.stopped) for (const event of framer.push(chunk)) this.#onEvent(c, peer, event);
    });
    socket.on('end', () => {
      if (!c.stopped) for (const event of framer.end()) this.#onEvent(c, peer, event);
      this.#finish(c);
    });
  }

  #onEvent(c: Connection, peer: string, event: MllpEvent): void {
    if (c.stopped) return;
    if (event.kind === 'message') {
      if (mllpCommitKind(event.payload)) return;
      c.queue = c.queue.then(async () => {
        if (c.socket.destroyed) return;
        try {
          const { ack } = await this.#options.inbox.accept(event.payload, peer);
          if (!c.socket.destroyed) c.socket.write(frameMllp(ack));
        } catch (e) {
          // Not committed, so no ACK at all: dropping the connection makes the sender retransmit.
          c.stopped = true;
          this.#options.onError?.(peer, e as Error);
          c.socket.destroy();
        }
      });
      return;
    }
    this.#options.onError?.(peer, event);
    if (event.code === 'oversize') {
      // The block is discarded unread, so there is no MSH to answer: an AR with an empty MSA-2.
      const ack = buildAck(
        {},
        {
          code: 'AR',
          text: event.message,
          errors: [{ segment: 'MSH', sequence: 1, code: '207', severity: 'E', text: event.message }],
        },
      );
      c.queue = c.queue.then(() => {
        if (!c.socket.destroyed) c.socket.write(frameMllp(ack));
      });
      this.#finish(c);
    }
  }

  /** Takes no more payloads; ends the connection once its pending ACKs are written. */
  #finish(c: Connection): void {
    c.stopped = true;
    if (c.ending) return;
    c.ending = true;
    void c.queue.then(() => {
      if (!c.socket.destroyed) c.socket.end(() => c.socket.destroy());
    });
  }
}

/** `::ffff:10.0.0.1` → `10.0.0.1`, so that an allowlist of IPv4 addresses works on a dual-stack socket. */
function normalisePeer(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice('::ffff:'.length) : address;
}
