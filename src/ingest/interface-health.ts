import type { Buffer } from 'node:buffer';
import type { Dialect } from '../store/dialect/dialect.ts';
import type { Hl7AcceptResult } from './hl7-inbox.ts';
import type { MllpListenerObserver, MllpRejection } from './mllp-listener.ts';

/** ACK codes of HL7 table 0008 that an inbox answers with (original mode). */
export type AckCode = 'AA' | 'AE' | 'AR';

/** Counts since this process started, for one listener or one sender on one listener. */
export interface MessageCounts {
  messages: number;
  acks: Record<AckCode, number>;
  /** Epoch ms of the last message committed, or null. */
  lastMessageAt: number | null;
}

/** One MLLP listener: its connections and what came in (since the process started). */
export interface ListenerHealth extends MessageCounts {
  readonly listener: string;
  connectionsOpen: number;
  connectionsTotal: number;
  rejected: Record<MllpRejection, number>;
  /** Framing errors by MllpFramer code (`unexpected-bytes`, `oversize`, `unterminated-frame`). */
  framingErrors: Record<string, number>;
}

/** What the inbox table holds for one sender: durable, survives restarts. */
export interface SenderInboxFigures {
  total: number;
  /** Rows in state `received`: accepted and ACKed, not yet processed (the queue). */
  queueDepth: number;
  processed: number;
  /** Rows in state `failed`: unparseable (AR) or failed in processing; the dead-letter view. */
  deadLetters: number;
  /** Failed rows the processor tried (attempts > 0), as opposed to rejected on receipt. */
  processingFailures: number;
  duplicate: number;
  /** Epoch ms of the newest row, or null. */
  lastReceivedAt: number | null;
  /** Peer addresses the sender's messages came from. */
  peers: string[];
}

/** One sender (MSH-3 and MSH-4 as sent): durable inbox figures plus this process's counts per listener. */
export interface SenderHealth {
  /** `MSH-3^MSH-4` (raw ER7; the `sender` metrics label). */
  readonly sender: string;
  readonly sendingApplication: string;
  readonly sendingFacility: string;
  inbox: SenderInboxFigures;
  /** Per listener, since this process started. */
  listeners: Record<string, MessageCounts>;
}

/** One ASTM analyzer (H-5 sender name as sent): what the `astm_inbox` table holds for it. */
export interface AnalyzerHealth {
  readonly analyzer: string;
  inbox: Omit<SenderInboxFigures, 'duplicate'>;
}

/** The interface health view (`GET /ops/interfaces`). */
export interface InterfaceHealthSnapshot {
  /** When the figures were computed (ISO 8601). */
  readonly at: string;
  /** Start of the in-process counts (ISO 8601): they reset on restart, the inbox figures do not. */
  readonly countingSince: string;
  readonly listeners: ListenerHealth[];
  readonly senders: SenderHealth[];
  /** ASTM analyzers (the ASTM listener's durable inbox figures). */
  readonly analyzers: AnalyzerHealth[];
  /** Over HL7 senders and ASTM analyzers. */
  readonly totals: { readonly queueDepth: number; readonly deadLetters: number; readonly processingFailures: number };
}

interface InboxGroup {
  sending_application: string;
  sending_facility: string;
  state: string;
  n: number | string;
  tried_failed: number | string | null;
  last_at: number | string | null;
}

interface InboxPeer {
  sending_application: string;
  sending_facility: string;
  peer: string;
}

interface AstmGroup {
  sender: string;
  state: string;
  n: number | string;
  tried_failed: number | string | null;
  last_at: number | string | null;
}

interface InboxFigures {
  readonly groups: readonly InboxGroup[];
  readonly peers: readonly InboxPeer[];
  readonly astm: readonly AstmGroup[];
  readonly astmPeers: readonly { sender: string; peer: string }[];
}

const emptyCounts = (): MessageCounts => ({ messages: 0, acks: { AA: 0, AE: 0, AR: 0 }, lastMessageAt: null });

/** An inbox's figures before its rows are counted (an HL7 sender's also count duplicates). */
const emptyInbox = (): Omit<SenderInboxFigures, 'duplicate'> => ({
  total: 0,
  queueDepth: 0,
  processed: 0,
  deadLetters: 0,
  processingFailures: 0,
  lastReceivedAt: null,
  peers: [],
});

/** Adds one (sender, state) group of an inbox table to that sender's figures. */
function addGroup(
  f: Omit<SenderInboxFigures, 'duplicate'> & { duplicate?: number },
  g: { state: string; n: number | string; tried_failed: number | string | null; last_at: number | string | null },
): void {
  const n = Number(g.n);
  f.total += n;
  if (g.state === 'received') f.queueDepth += n;
  else if (g.state === 'processed') f.processed += n;
  else if (g.state === 'failed') f.deadLetters += n;
  else if (g.state === 'duplicate' && f.duplicate !== undefined) f.duplicate += n;
  f.processingFailures += Number(g.tried_failed ?? 0);
  if (g.last_at !== null) f.lastReceivedAt = Math.max(f.lastReceivedAt ?? 0, Number(g.last_at));
}

/** `MSH-3^MSH-4` as one label. */
export const senderLabel = (application: string, facility: string): string => `${application}^${facility}`;

/**
 * Interface health (integration research §6.4: per-interface status an operator can watch):
 * in-process counters fed by the MLLP listeners (connections, messages, ACK codes, framing errors,
 * refusals) and durable figures computed from the `hl7_inbox` and `astm_inbox` tables (queue depth,
 * dead letters, processing failures, last message per HL7 sender and per ASTM analyzer). The inbox
 * figures come from grouped queries (full scans of the inboxes), cached for `cacheMs` (default 1 s)
 * so that one scrape, which asks once per metric, and frequent polls do not rescan the tables.
 */
export class InterfaceHealth implements MllpListenerObserver {
  readonly #db: Dialect;
  readonly #now: () => number;
  readonly #cacheMs: number;
  readonly #since: number;
  readonly #listeners = new Map<string, ListenerHealth>();
  /** key: listener \0 sender */
  readonly #senders = new Map<string, { listener: string; app: string; fac: string; counts: MessageCounts }>();
  #cached: { at: number; value: Promise<InboxFigures> } | undefined;

  constructor(db: Dialect, options: { readonly now?: () => number; readonly cacheMs?: number } = {}) {
    this.#db = db;
    this.#now = options.now ?? Date.now;
    this.#cacheMs = options.cacheMs ?? 1000;
    this.#since = this.#now();
  }

  #listener(name: string): ListenerHealth {
    let l = this.#listeners.get(name);
    if (!l) {
      l = {
        listener: name,
        ...emptyCounts(),
        connectionsOpen: 0,
        connectionsTotal: 0,
        rejected: { allowlist: 0, 'tls-handshake': 0, garbage: 0 },
        framingErrors: {},
      };
      this.#listeners.set(name, l);
    }
    return l;
  }

  /** Registers a listener so that it shows (with zero counts) before its first connection. */
  register(listener: string): void {
    this.#listener(listener);
  }

  connectionOpened(listener: string): void {
    const l = this.#listener(listener);
    l.connectionsOpen++;
    l.connectionsTotal++;
  }

  connectionClosed(listener: string): void {
    this.#listener(listener).connectionsOpen--;
  }

  rejected(listener: string, _peer: string, why: MllpRejection): void {
    this.#listener(listener).rejected[why]++;
  }

  framingError(listener: string, _peer: string, code: string): void {
    const f = this.#listener(listener).framingErrors;
    f[code] = (f[code] ?? 0) + 1;
  }

  accepted(listener: string, _peer: string, _payload: Buffer, result: Hl7AcceptResult): void {
    const { app, fac, code } = readAck(result.ack);
    const at = this.#now();
    const key = `${listener}\0${senderLabel(app, fac)}`;
    let s = this.#senders.get(key);
    if (!s) {
      s = { listener, app, fac, counts: emptyCounts() };
      this.#senders.set(key, s);
    }
    for (const c of [this.#listener(listener), s.counts]) {
      c.messages++;
      if (code) c.acks[code]++;
      c.lastMessageAt = at;
    }
  }

  /** The current figures: in-process counts as of now, the inbox part at most `cacheMs` old. */
  async snapshot(): Promise<InterfaceHealthSnapshot> {
    const now = this.#now();
    if (!this.#cached || now - this.#cached.at >= this.#cacheMs) {
      const value = this.#queryInbox();
      this.#cached = { at: now, value };
      // A failed query is not cached.
      value.catch(() => {
        if (this.#cached?.value === value) this.#cached = undefined;
      });
    }
    return this.#assemble(now, await this.#cached.value);
  }

  async #queryInbox(): Promise<InboxFigures> {
    const groups = await this.#db.all<InboxGroup>(
      `SELECT sending_application, sending_facility, state, COUNT(*) AS n,
         SUM(CASE WHEN state = 'failed' AND attempts > 0 THEN 1 ELSE 0 END) AS tried_failed, MAX(received_at) AS last_at
       FROM hl7_inbox GROUP BY sending_application, sending_facility, state`,
    );
    const peers = await this.#db.all<InboxPeer>(
      'SELECT DISTINCT sending_application, sending_facility, peer FROM hl7_inbox',
    );
    const astm = await this.#db.all<AstmGroup>(
      `SELECT sender, state, COUNT(*) AS n,
         SUM(CASE WHEN state = 'failed' AND attempts > 0 THEN 1 ELSE 0 END) AS tried_failed, MAX(received_at) AS last_at
       FROM astm_inbox GROUP BY sender, state`,
    );
    const astmPeers = await this.#db.all<{ sender: string; peer: string }>(
      'SELECT DISTINCT sender, peer FROM astm_inbox',
    );
    return { groups, peers, astm, astmPeers };
  }

  #assemble(now: number, { groups, peers, astm, astmPeers }: InboxFigures): InterfaceHealthSnapshot {
    const senders = new Map<string, SenderHealth>();
    const sender = (app: string, fac: string): SenderHealth => {
      const label = senderLabel(app, fac);
      let s = senders.get(label);
      if (!s) {
        s = {
          sender: label,
          sendingApplication: app,
          sendingFacility: fac,
          inbox: { ...emptyInbox(), duplicate: 0 },
          listeners: {},
        };
        senders.set(label, s);
      }
      return s;
    };
    for (const g of groups) addGroup(sender(g.sending_application, g.sending_facility).inbox, g);
    for (const p of peers) sender(p.sending_application, p.sending_facility).inbox.peers.push(p.peer);
    for (const s of this.#senders.values()) {
      sender(s.app, s.fac).listeners[s.listener] = structuredClone(s.counts);
    }
    const list = [...senders.values()].sort((a, b) => a.sender.localeCompare(b.sender));
    for (const s of list) s.inbox.peers.sort();
    const analyzers = new Map<string, AnalyzerHealth>();
    const analyzer = (name: string): AnalyzerHealth => {
      let a = analyzers.get(name);
      if (!a) {
        a = { analyzer: name, inbox: emptyInbox() };
        analyzers.set(name, a);
      }
      return a;
    };
    for (const g of astm) addGroup(analyzer(g.sender).inbox, g);
    for (const p of astmPeers) analyzer(p.sender).inbox.peers.push(p.peer);
    const analyzerList = [...analyzers.values()].sort((a, b) => a.analyzer.localeCompare(b.analyzer));
    for (const a of analyzerList) a.inbox.peers.sort();
    const all = [...list.map((s) => s.inbox), ...analyzerList.map((a) => a.inbox)];
    return {
      at: new Date(now).toISOString(),
      countingSince: new Date(this.#since).toISOString(),
      listeners: [...this.#listeners.values()].map((l) => structuredClone(l)),
      senders: list,
      analyzers: analyzerList,
      totals: {
        queueDepth: all.reduce((n, f) => n + f.queueDepth, 0),
        deadLetters: all.reduce((n, f) => n + f.deadLetters, 0),
        processingFailures: all.reduce((n, f) => n + f.processingFailures, 0),
      },
    };
  }
}

/**
 * Sender and MSA-1 of an ACK built by `buildAck`: its MSH-5/MSH-6 are the request's MSH-3/MSH-4
 * (raw, as the inbox stores them), so the in-process counts and the inbox rows share one sender key.
 */
export function readAck(ack: string): { app: string; fac: string; code: AckCode | undefined } {
  const segments = ack.split(/\r\n?|\n/);
  const msh = segments[0] ?? '';
  const sep = msh[3] ?? '|';
  const fields = msh.split(sep);
  const msa = segments.find((s) => s.startsWith(`MSA${sep}`))?.split(sep)[1];
  const code = msa === 'AA' || msa === 'AE' || msa === 'AR' ? msa : undefined;
  return { app: fields[4] ?? '', fac: fields[5] ?? '', code };
}
