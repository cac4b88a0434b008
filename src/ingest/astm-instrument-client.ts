import type { Buffer } from 'node:buffer';
import { connect, type Socket } from 'node:net';
import { AstmLink, type AstmLinkEvent } from './astm-link.ts';

/** Options for {@link AstmInstrumentClient.connect}. */
export interface AstmInstrumentClientOptions {
  readonly host: string;
  readonly port: number;
  /** Reply timer (default 15 s) and back-offs, shortened in tests. */
  readonly replyTimeoutMs?: number;
  readonly busyBackoffMs?: number;
  readonly contentionBackoffMs?: number;
  readonly onEvent?: (event: AstmLinkEvent) => void;
}

/**
 * A scripted analyzer speaking E1381 over TCP in the instrument role, for tests, simulators and
 * the throughput bench: `send()` transmits a message (ENQ, frames each awaiting ACK, EOT) and
 * resolves when every frame was ACKed; messages the host sends (query answers) are collected.
 */
export class AstmInstrumentClient {
  readonly #socket: Socket;
  readonly #link: AstmLink;
  readonly #received: Buffer[] = [];
  readonly #waiters: ((m: Buffer) => void)[] = [];

  private constructor(socket: Socket, options: AstmInstrumentClientOptions) {
    this.#socket = socket;
    this.#link = new AstmLink({
      role: 'instrument',
      write: (bytes) => {
        if (!socket.destroyed) socket.write(bytes);
      },
      onMessage: async (bytes) => {
        const w = this.#waiters.shift();
        if (w) w(bytes);
        else this.#received.push(bytes);
      },
      onFailure: () => socket.destroy(),
      ...(options.onEvent ? { onEvent: options.onEvent } : {}),
      ...(options.replyTimeoutMs === undefined ? {} : { replyTimeoutMs: options.replyTimeoutMs }),
      ...(options.busyBackoffMs === undefined ? {} : { busyBackoffMs: options.busyBackoffMs }),
      ...(options.contentionBackoffMs === undefined ? {} : { contentionBackoffMs: options.contentionBackoffMs }),
    });
    socket.on('data', (chunk: Buffer) => this.#link.push(chunk));
    socket.on('close', () => this.#link.close());
    socket.on('error', () => this.#link.close());
  }

  /** Connects to a listener. */
  static connect(options: AstmInstrumentClientOptions): Promise<AstmInstrumentClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: options.host, port: options.port });
      socket.setNoDelay(true);
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new AstmInstrumentClient(socket, options));
      });
    });
  }

  /** Sends one message (records as text split on CR/LF, or a list); true once every frame was ACKed. */
  send(records: string | readonly string[]): Promise<boolean> {
    const list = typeof records === 'string' ? records.split(/\r\n|\r|\n/).filter((r) => r !== '') : records;
    return this.#link.send(list);
  }

  /** The next message received from the host (records, each ending in CR). */
  nextMessage(): Promise<Buffer> {
    const m = this.#received.shift();
    if (m) return Promise.resolve(m);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Closes the connection. */
  close(): void {
    this.#link.close();
    this.#socket.destroy();
  }
}
