import type { Buffer } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { createSecureContext, createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { buildAck, frameMllp, type MllpEvent, MllpFramer, mllpCommitKind } from '../core/hl7/index.ts';
import type { Hl7AcceptResult } from './hl7-inbox.ts';
import { readAck } from './interface-health.ts';

/** TLS for an MLLP listener (PEM contents, not paths). With `ca`, only clients with a certificate from it connect. */
export interface MllpTlsOptions {
  readonly cert: Buffer | string;
  readonly key: Buffer | string;
  /** Mutual TLS: the CA(s) whose client certificates are accepted; others fail the handshake. */
  readonly ca?: Buffer | string;
}

/**
 * Reads the MLLP TLS files named by the configuration (DXHUB_MLLP_TLS_CERT, _KEY, _CA); undefined
 * when neither certificate nor key is set. Fails at start-up, naming the variable, on a missing or
 * unreadable file, a key without a certificate (or the reverse), a CA without both, or a pair that
 * does not form a TLS context.
 */
export function readMllpTls(paths: {
  readonly mllpTlsCert?: string | undefined;
  readonly mllpTlsKey?: string | undefined;
  readonly mllpTlsCa?: string | undefined;
}): MllpTlsOptions | undefined {
  const { mllpTlsCert: cert, mllpTlsKey: key, mllpTlsCa: ca } = paths;
  if (!cert && !key) {
    if (ca) throw new Error('DXHUB_MLLP_TLS_CA is set but DXHUB_MLLP_TLS_CERT and DXHUB_MLLP_TLS_KEY are not');
    return undefined;
  }
  if (!cert) throw new Error('DXHUB_MLLP_TLS_KEY is set but DXHUB_MLLP_TLS_CERT is not: set both PEM file paths');
  if (!key) throw new Error('DXHUB_MLLP_TLS_CERT is set but DXHUB_MLLP_TLS_KEY is not: set both PEM file paths');
  const read = (name: string, file: string) => {
    try {
      return readFileSync(file);
    } catch (e) {
      throw new Error(`${name} '${file}' cannot be read: ${(e as Error).message}`);
    }
  };
  const tls = {
    cert: read('DXHUB_MLLP_TLS_CERT', cert),
    key: read('DXHUB_MLLP_TLS_KEY', key),
    ...(ca ? { ca: read('DXHUB_MLLP_TLS_CA', ca) } : {}),
  };
  try {
    createSecureContext(tls);
  } catch (e) {
    throw new Error(`DXHUB_MLLP_TLS_CERT/KEY/CA do not form a TLS context: ${(e as Error).message}`);
  }
  return tls;
}

/** Why a connection was refused or dropped before or outside normal message exchange. */
export type MllpRejection = 'allowlist' | 'tls-handshake' | 'garbage';

/**
 * What a listener reports, for interface health (`InterfaceHealth` implements it). Called
 * synchronously; an observer must not throw.
 */
export interface MllpListenerObserver {
  /** A connection was accepted (after the TLS handshake, when TLS is on). */
  connectionOpened(listener: string, peer: string): void;
  connectionClosed(listener: string, peer: string): void;
  /** A connection was refused or dropped (allowlist, failed TLS handshake, too much garbage). */
  rejected(listener: string, peer: string, why: MllpRejection): void;
  /** A payload was committed and its ACK is about to be written. */
  accepted(listener: string, peer: string, payload: Buffer, result: Hl7AcceptResult): void;
  /** A framing problem (bytes outside a block, oversize, unterminated block). */
  framingError(listener: string, peer: string, code: string): void;
}

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
  /** Name in interface health and metrics (label `listener`). Default `mllp`, or `mllps` with TLS. */
  readonly name?: string;
  /** MLLP over TLS; unset: plain TCP. */
  readonly tls?: MllpTlsOptions;
  /** Counts connections, messages and ACKs for interface health. */
  readonly observer?: MllpListenerObserver;
  /**
   * A connection that sends this many framing errors or unparseable payloads in a row (no good
   * message in between) is dropped, with what it sent still pending discarded: noise on the port
   * must not become thousands of dead-letter rows. Default 16; 0 turns the check off.
   */
  readonly maxConsecutiveErrors?: number;
  /** Payloads waiting for their commit per connection before reading pauses (backpressure). Default 64. */
  readonly maxPending?: number;
}

interface Connection {
  readonly socket: Socket;
  /** The chain of accepts and ACK writes, in stream order. */
  queue: Promise<void>;
  /** No further payloads are taken (closing, oversize, idle or failed). */
  stopped: boolean;
  /** `#finish` ran: the socket ends once the queue drains. */
  ending: boolean;
  /** Dropped for noise: queued payloads after this sequence number are discarded, not committed. */
  cutoff: number;
  /** Payloads queued so far (their sequence numbers). */
  queued: number;
  /** Payloads queued and not yet committed. */
  pending: number;
  /** Framing errors and unparseable payloads since the last good message. */
  errors: number;
}

/**
 * MLLP (Release 1) listener feeding a durable inbox. Per connection, payloads are accepted one at a
 * time in stream order and each ACK is written only after `inbox.accept` resolved, i.e. after the
 * commit (research §5.2: ACK only after the raw message is durable). Optionally over TLS, with
 * client certificates required from a given CA (research §8.4: explicit bind address and TLS). No
 * MLLP R2 commit blocks are sent (incoming ones are ignored).
 */
export class MllpListener {
  readonly #options: MllpListenerOptions;
  readonly #server: Server;
  readonly #connections = new Set<Connection>();
  readonly #sockets = new Set<Socket>();
  /** The `listener` label of this listener's health figures. */
  readonly name: string;

  constructor(options: MllpListenerOptions) {
    this.#options = options;
    this.name = options.name ?? (options.tls ? 'mllps' : 'mllp');
    const { tls } = options;
    // Half-open allowed: a sender that ends its side after writing still gets every pending ACK.
    if (tls) {
      this.#server = createTlsServer(
        {
          allowHalfOpen: true,
          cert: tls.cert,
          key: tls.key,
          minVersion: 'TLSv1.2',
          // A connection that does not finish its handshake promptly is dropped (Node's default is 120 s).
          handshakeTimeout: 10_000,
          ...(tls.ca ? { ca: tls.ca, requestCert: true, rejectUnauthorized: true } : {}),
        },
        (socket) => this.#onConnection(socket),
      );
      // A failed handshake (no or wrong client certificate, plain MLLP on the TLS port) never reaches #onConnection.
      this.#server.on('tlsClientError', (error: Error, socket: TLSSocket) => {
        const peer = normalisePeer(socket.remoteAddress ?? '');
        this.#options.observer?.rejected(this.name, peer, 'tls-handshake');
        this.#options.onError?.(peer, error);
      });
    } else {
      this.#server = createServer({ allowHalfOpen: true }, (socket) => this.#onConnection(socket));
    }
    // Every TCP connection, also one still in its TLS handshake, so that close() can end them all.
    this.#server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
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
    // A TLS handshake in progress has no messages to finish.
    const established = new Set([...this.#connections].map((c) => c.socket));
    for (const raw of this.#sockets) if (this.#options.tls && !established.has(raw)) raw.destroy();
    const timer = setTimeout(() => {
      for (const c of this.#connections) c.socket.destroy();
      for (const raw of this.#sockets) raw.destroy();
    }, this.#options.closeTimeoutMs ?? 5000);
    return closed.finally(() => clearTimeout(timer));
  }

  #onConnection(socket: Socket): void {
    const peer = normalisePeer(socket.remoteAddress ?? '');
    const { allowlist, observer } = this.#options;
    if (allowlist && !allowlist.map(normalisePeer).includes(peer)) {
      observer?.rejected(this.name, peer, 'allowlist');
      socket.destroy();
      return;
    }
    const c: Connection = {
      socket,
      queue: Promise.resolve(),
      stopped: false,
      ending: false,
      cutoff: Number.POSITIVE_INFINITY,
      queued: 0,
      pending: 0,
      errors: 0,
    };
    this.#connections.add(c);
    observer?.connectionOpened(this.name, peer);
    const framer = new MllpFramer(
      this.#options.maxMessageBytes === undefined ? {} : { maxMessageBytes: this.#options.maxMessageBytes },
    );
    socket.setTimeout(this.#options.idleTimeoutMs ?? 60_000, () => this.#finish(c));
    socket.on('close', () => {
      this.#connections.delete(c);
      observer?.connectionClosed(this.name, peer);
    });
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
      // Backpressure: a sender far ahead of the commits waits in its TCP window, not in our memory.
      const max = this.#options.maxPending ?? 64;
      if (++c.pending >= max) c.socket.pause();
      const seq = ++c.queued;
      c.queue = c.queue.then(async () => {
        try {
          if (c.socket.destroyed || seq > c.cutoff) return;
          const result = await this.#options.inbox.accept(event.payload, peer);
          this.#options.observer?.accepted(this.name, peer, event.payload, result);
          // AR is what the inbox answers unparseable payloads with, also when one comes again (a resend).
          if (readAck(result.ack).code === 'AR') this.#noise(c, peer, seq);
          else c.errors = 0;
          if (!c.socket.destroyed) c.socket.write(frameMllp(result.ack));
        } catch (e) {
          // Not committed, so no ACK at all: dropping the connection makes the sender retransmit.
          c.stopped = true;
          this.#options.onError?.(peer, e as Error);
          c.socket.destroy();
        } finally {
          if (--c.pending < max) c.socket.resume();
        }
      });
      return;
    }
    this.#options.onError?.(peer, event);
    this.#options.observer?.framingError(this.name, peer, event.code);
    this.#noise(c, peer, c.queued);
    if (c.cutoff !== Number.POSITIVE_INFINITY) return;
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

  /**
   * One more framing error or unparseable payload in a row; at the limit the connection is dropped.
   * Payloads queued up to `seq` are still committed and ACKed; later ones are discarded uncommitted
   * (no ACK: a real sender retransmits them on its next connection).
   */
  #noise(c: Connection, peer: string, seq: number): void {
    const max = this.#options.maxConsecutiveErrors ?? 16;
    if (max === 0 || ++c.errors < max || c.cutoff !== Number.POSITIVE_INFINITY) return;
    c.cutoff = seq;
    c.stopped = true;
    this.#options.observer?.rejected(this.name, peer, 'garbage');
    // End after the ACKs already due are flushed; a peer still sending gets a reset shortly after.
    void c.queue.then(() => {
      if (c.socket.destroyed) return;
      c.socket.end();
      setTimeout(() => c.socket.destroy(), 1000).unref();
    });
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
