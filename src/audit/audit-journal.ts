import { createHash } from 'node:crypto';
import {
  closeSync,
  fdatasync,
  fdatasyncSync,
  fstatSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { AuditFields } from '../core/audit/audit-entry.ts';
import { fieldsFromValues, fieldValues } from './audit-table.ts';

const NEWLINE = 0x0a;
/**
 * A flushed segment grows in steps of this many bytes of zeros, written ahead of the entries (as
 * PostgreSQL fills a WAL segment with zeros before using it): an append then overwrites blocks the
 * file already has, so `fdatasync` writes those blocks only, and the file system's own journal
 * commits a new size once per step instead of on every flush. About 3,000 entries per step.
 */
const PREALLOCATE_BYTES = 1024 * 1024;
const ZEROS = Buffer.alloc(64 * 1024);
/** How much of a segment {@link AuditJournal.read} reads at a time. */
const READ_CHUNK_BYTES = 256 * 1024;
/**
 * {@link AuditJournal.minFlushIntervalMs} by default: none, a flush starts as soon as the last one
 * ended. On the 2-vCPU machine (PostgreSQL read bench, 16 connections) 1 ms halved the flushes'
 * CPU per read (~40 → ~25 µs on libuv's thread) but the loss figure stayed where it was (17.4 / 18.4
 * %), and 2 ms made it worse (24.4 / 31.0 %): the bench's closed loop pays each added wait in
 * throughput. Operators trade latency for CPU with DXHUB_AUDIT_FLUSH_DELAY_MS.
 */
export const DEFAULT_MIN_FLUSH_INTERVAL_MS = 0;

/** One line per entry: its values as a JSON array (audit-table.ts, FIELD_COLUMNS order). */
function journalLines(fields: readonly AuditFields[]): string {
  let text = '';
  for (const f of fields) text += `${JSON.stringify(fieldValues(f))}\n`;
  return text;
}

/** A segment file of the journal and what a reader found in it. */
export interface JournalChunk {
  readonly fields: AuditFields[];
  /** Byte offset after the last complete line read. */
  readonly end: number;
}

/**
 * Read audits on the embedded database go to an append-only journal first: segment files of JSON
 * lines in a directory next to the database (`<db>.audit-journal/`). An append is one `write(2)`
 * per turn of the event loop for every entry of that turn; once it returns, the entries survive a
 * crash of the process (they are in the kernel's page cache, the same guarantee the database's
 * WAL gives at `synchronous = NORMAL`), so the read may be answered. {@link AuditLog} moves them
 * into the hash chain in large batches, storing per segment the byte offset it has reached in the
 * same transaction, so each entry enters the chain exactly once.
 *
 * On PostgreSQL (`sync`) the journal is a directory of the server's own disk and each append is
 * also flushed to the disk (`fdatasync`, on libuv's thread pool) before the entries count as
 * written: the read is answered only then, so they survive a crash of the machine too, as a
 * committed row would (`synchronous_commit = on`).
 *
 * A flushed segment is filled with zeros ahead of its entries ({@link PREALLOCATE_BYTES}); its
 * entries end at the first zero byte ({@link dataEnd}).
 *
 * Segments are named `<time>-<pid>-<n>.jsonl`: sorted by name they are in the order they were
 * written. The current one is replaced by a new one past `maxSegmentBytes`; a segment that is no
 * longer written to and is fully moved is deleted.
 */
export class AuditJournal {
  readonly dir: string;
  private readonly maxSegmentBytes: number;
  private fd: number | undefined;
  private current: string | undefined;
  private size = 0;
  /** Bytes of the current segment on disk (zeros past `size`), when flushed. */
  private allocated = 0;
  private counter = 0;
  /** Flush each append to the disk ({@link appendSynced}). */
  readonly sync: boolean;
  /** Segments started so far: a flush that fails after its segment was closed (flushed then) is no loss. */
  private generation = 0;

  /** With {@link sync}: the least time between the starts of two flushes, in milliseconds. */
  readonly minFlushIntervalMs: number;

  constructor(dir: string, opts: { maxSegmentBytes?: number; sync?: boolean; minFlushIntervalMs?: number } = {}) {
    this.dir = dir;
    this.maxSegmentBytes = opts.maxSegmentBytes ?? 64 * 1024 * 1024;
    this.sync = opts.sync ?? false;
    this.minFlushIntervalMs = opts.minFlushIntervalMs ?? DEFAULT_MIN_FLUSH_INTERVAL_MS;
    mkdirSync(dir, { recursive: true });
  }

  /**
   * Appends entries and flushes them to the disk; resolves when they are there. One flush at a
   * time, as a database's group commit: a flush covers every append written before it started,
   * and resolves all of them. Appends made while a flush runs are kept in memory and written
   * together when it has ended, just before the next flush: no write to the file overlaps a flush
   * of it (a `write(2)` during an `fdatasync` of the same file waited for it, ~17 µs per read on
   * the server's thread in a profile), and a flush's entries go in one write. Under load a flush
   * starts at most every {@link minFlushIntervalMs} (PostgreSQL's `commit_delay` in spirit): each
   * flush costs ~60 µs of CPU and two thread wake-ups, whether it covers one entry or twenty.
   */
  appendSynced(fields: readonly AuditFields[]): Promise<void> {
    let text: string;
    try {
      text = journalLines(fields);
    } catch (err) {
      return Promise.reject(err);
    }
    const seq = ++this.appended;
    this.pendingText += text;
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ seq, resolve, reject });
      this.kick();
    });
  }

  /**
   * Resolves when every append so far is in the file and flushed (or has failed): those that wait
   * for a flush may still be in memory, where a reader of the file cannot see them.
   */
  synced(): Promise<void> {
    if (this.waiting.length === 0) return Promise.resolve();
    // An empty append: covered by the flush that follows every append before it.
    return this.appendSynced([]).catch(() => undefined);
  }

  /** Appends made so far (their sequence numbers). */
  private appended = 0;
  /** Lines of appends not written yet (they wait for the running flush or the flush timer). */
  private pendingText = '';
  /** Callers of {@link appendSynced} whose append no finished flush covers yet, in append order. */
  private waiting: { seq: number; resolve: () => void; reject: (err: unknown) => void }[] = [];
  private flushRunning = false;
  /** Set while the next flush waits for {@link minFlushIntervalMs} to pass. */
  private flushTimer: NodeJS.Timeout | undefined;
  /** When the last flush started (`performance.now()`). */
  private lastFlushStart = Number.NEGATIVE_INFINITY;
  /** Flushes started so far (for tests: group commit makes far fewer than appends). */
  flushes = 0;

  /** Starts the next flush when none runs or waits: at once, or when the minimum interval is over. */
  private kick(): void {
    if (this.flushRunning || this.flushTimer !== undefined || this.waiting.length === 0) return;
    const wait = this.lastFlushStart + this.minFlushIntervalMs - performance.now();
    if (wait > 0) {
      this.flushTimer = setTimeout(() => {
        this.flushTimer = undefined;
        this.kick();
      }, wait);
      return;
    }
    const upTo = this.appended;
    try {
      this.writePending();
    } catch (err) {
      // Not written: none of these entries may count as recorded.
      for (const w of this.waiting.splice(0)) w.reject(err);
      return;
    }
    this.startFlush(upTo);
  }

  /** Writes the appends held in memory, in one write. */
  private writePending(): void {
    if (this.pendingText === '') return;
    const text = this.pendingText;
    this.pendingText = '';
    this.write(text);
  }

  private startFlush(upTo: number): void {
    const fd = this.fd;
    const generation = this.generation;
    const settle = (err: unknown) => {
      this.flushRunning = false;
      let n = 0;
      while (n < this.waiting.length && this.waiting[n]!.seq <= upTo) n++;
      for (const w of this.waiting.splice(0, n)) {
        if (err) w.reject(err);
        else w.resolve();
      }
      this.kick();
    };
    this.flushRunning = true;
    this.lastFlushStart = performance.now();
    // Closed already (close()): every append was flushed when its segment closed.
    if (fd === undefined) {
      queueMicrotask(() => settle(undefined));
      return;
    }
    this.flushes++;
    fdatasync(fd, (err) => {
      // Closed meanwhile (a new segment, or close()): the segment was flushed before it closed.
      settle(err && generation === this.generation ? err : undefined);
    });
  }

  /** Appends entries; returns when the write returned (durable against a crash of this process). */
  append(fields: readonly AuditFields[]): void {
    if (fields.length === 0) return;
    this.write(journalLines(fields));
  }

  private write(text: string): void {
    const buf = Buffer.from(text, 'utf8');
    if (this.fd === undefined || this.size >= this.maxSegmentBytes) this.startSegment();
    const fd = this.fd!;
    if (this.sync && this.size + buf.length > this.allocated) this.preallocate(this.size + buf.length);
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off, this.size + off);
    this.size += buf.length;
  }

  /** Writes zeros up to at least `end`, in whole steps: the next flush also commits the new size. */
  private preallocate(end: number): void {
    const target = Math.ceil(end / PREALLOCATE_BYTES) * PREALLOCATE_BYTES;
    while (this.allocated < target) {
      this.allocated += writeSync(this.fd!, ZEROS, 0, Math.min(ZEROS.length, target - this.allocated), this.allocated);
    }
  }

  /** The segment files in write order, with the one being written marked. */
  segments(): { name: string; current: boolean }[] {
    return readdirSync(this.dir)
      .filter((n) => n.endsWith('.jsonl'))
      .sort()
      .map((name) => ({ name, current: name === this.current }));
  }

  /** Where a segment's entries end, in bytes (0 when it is gone): its size less a tail of zeros. */
  sizeOf(name: string): number {
    return dataEnd(join(this.dir, name));
  }

  /**
   * Up to `maxLines` complete lines of `name` from byte `from`. A line without its newline is
   * left for later (it is being written); `undefined` when the segment is gone.
   */
  read(name: string, from: number, maxLines: number): JournalChunk | undefined {
    let fd: number;
    try {
      fd = openSync(join(this.dir, name), 'r');
    } catch {
      return undefined;
    }
    try {
      let size = fstatSync(fd).size;
      const fields: AuditFields[] = [];
      // `pos`: file offset of buf[0] (after the last complete line); `at`: next offset to read.
      let pos = from;
      let at = from;
      let buf = Buffer.alloc(0);
      while (fields.length < maxLines && at < size) {
        // 256 kB at a time: a read entry's line is ~0.3 kB, so a move of 4,096 reads ~5 chunks
        // (a buffer of 1 kB per line read ~3x the bytes it parsed; reading megabytes to parse 256
        // lines cost a millisecond per move on the event loop).
        const chunk = Buffer.allocUnsafe(Math.min(READ_CHUNK_BYTES, size - at));
        let n = readSync(fd, chunk, 0, chunk.length, at);
        if (n <= 0) break;
        // The zeros written ahead of the entries: nothing is written past the first one yet.
        const zero = chunk.indexOf(0);
        if (zero >= 0 && zero < n) {
          n = zero;
          size = at + n;
        }
        at += n;
        buf = buf.length ? Buffer.concat([buf, chunk.subarray(0, n)]) : chunk.subarray(0, n);
        let start = 0;
        while (fields.length < maxLines) {
          const nl = buf.indexOf(NEWLINE, start);
          if (nl < 0) break;
          fields.push(fieldsFromValues(JSON.parse(buf.toString('utf8', start, nl)) as unknown[]));
          start = nl + 1;
        }
        pos += start;
        buf = buf.subarray(start);
      }
      return { fields, end: pos };
    } finally {
      closeSync(fd);
    }
  }

  /** Deletes a segment that is no longer written to and has been moved completely. */
  remove(name: string): void {
    if (name === this.current) throw new Error(`journal segment ${name} is still being written`);
    rmSync(join(this.dir, name), { force: true });
  }

  /**
   * Closes the current segment: what is pending is written first and flushed with it, so every
   * waiting append resolves (or, if the write or flush fails, rejects) here.
   */
  close(): void {
    if (this.flushTimer !== undefined) {
      clearTimeout(this.flushTimer);
      this.flushTimer = undefined;
    }
    let failed: unknown;
    try {
      this.writePending();
      this.closeSegment();
    } catch (err) {
      failed = err;
    }
    // A segment that failed to close is still the one written to (as before the pending text).
    if (failed === undefined) this.current = undefined;
    // A flush still running settles nothing more (and its error, if any, is moot: see startFlush).
    for (const w of this.waiting.splice(0)) {
      if (failed === undefined) w.resolve();
      else w.reject(failed);
    }
    if (failed !== undefined) throw failed;
  }

  private closeSegment(): void {
    if (this.fd === undefined) return;
    if (this.sync) fdatasyncSync(this.fd);
    this.generation++;
    closeSync(this.fd);
    this.fd = undefined;
  }

  private startSegment(): void {
    this.closeSegment();
    const stamp = Date.now().toString().padStart(15, '0');
    this.current = `${stamp}-${process.pid}-${String(this.counter++).padStart(6, '0')}.jsonl`;
    // Written at explicit offsets (a flushed segment has zeros ahead of its entries).
    this.fd = openSync(join(this.dir, this.current), 'wx');
    this.size = 0;
    this.allocated = 0;
    // The new file's directory entry must survive a crash of the machine too.
    if (this.sync) syncDirectory(this.dir);
  }
}

/**
 * Where the entries of a segment file end: its size, less the zeros a flushed segment has ahead of
 * its entries (0 when the file is gone). Reads the tail backwards, a block at a time.
 */
export function dataEnd(path: string): number {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return 0;
  }
  try {
    let end = fstatSync(fd).size;
    const block = Buffer.allocUnsafe(64 * 1024);
    while (end > 0) {
      const from = Math.max(0, end - block.length);
      const n = readSync(fd, block, 0, end - from, from);
      let i = n - 1;
      while (i >= 0 && block[i] === 0) i--;
      if (i >= 0) return from + i + 1;
      end = from;
    }
    return 0;
  } finally {
    closeSync(fd);
  }
}

function syncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Where the read-audit journal of a database lives: next to an embedded (SQLite) file; for
 * PostgreSQL under `postgresDir` (DXHUB_AUDIT_JOURNAL, `off`: none), in a subdirectory of its own
 * per database (host, port, database and dxhub's `schema` parameter: never user or password), so
 * that servers of different databases never move each other's entries; an in-memory database has
 * none.
 */
export function auditJournalOf(dbUrl: string, postgresDir = 'off'): string | undefined {
  const file = /^sqlite:(?!:memory:)(.+)$/.exec(dbUrl)?.[1];
  if (file) return `${file}.audit-journal`;
  if (!/^postgres(ql)?:/.test(dbUrl) || postgresDir === 'off') return undefined;
  const u = new URL(dbUrl);
  const database = decodeURIComponent(u.pathname.slice(1)) || 'postgres';
  const schema = u.searchParams.get('schema') ?? '';
  const key = `${u.hostname}:${u.port || '5432'}/${database}?schema=${schema}`;
  const name = `${database}${schema ? `.${schema}` : ''}`.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 60);
  return join(postgresDir, `${name}-${createHash('sha256').update(key).digest('hex').slice(0, 12)}`);
}
