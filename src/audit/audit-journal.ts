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
  statSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { AuditFields } from '../core/audit/audit-entry.ts';
import { fieldsFromValues, fieldValues } from './audit-table.ts';

const NEWLINE = 0x0a;

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
  private counter = 0;
  /** Flush each append to the disk ({@link appendSynced}). */
  readonly sync: boolean;
  /** Segments started so far: a flush that fails after its segment was closed (flushed then) is no loss. */
  private generation = 0;

  constructor(dir: string, opts: { maxSegmentBytes?: number; sync?: boolean } = {}) {
    this.dir = dir;
    this.maxSegmentBytes = opts.maxSegmentBytes ?? 64 * 1024 * 1024;
    this.sync = opts.sync ?? false;
    mkdirSync(dir, { recursive: true });
  }

  /**
   * Appends entries and flushes them to the disk; resolves when they are there. One flush at a
   * time, as a database's group commit: appends made while one runs share the next.
   */
  appendSynced(fields: readonly AuditFields[]): Promise<void> {
    try {
      this.append(fields);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.flush();
  }

  private flushing: Promise<void> | undefined;
  private nextFlush: Promise<void> | undefined;

  /** A flush that covers every write made before this call. */
  private flush(): Promise<void> {
    if (!this.flushing) {
      const fd = this.fd!;
      const generation = this.generation;
      const done = new Promise<void>((resolve, reject) =>
        fdatasync(fd, (err) => {
          // Closed meanwhile (a new segment, or close()): the segment was flushed before it closed.
          if (err && generation === this.generation) reject(err);
          else resolve();
        }),
      );
      this.flushing = done;
      // Cleared before the waiters of the next flush run (registered later), so they start it.
      const clear = () => {
        this.flushing = undefined;
      };
      done.then(clear, clear);
      return done;
    }
    const after = () => {
      this.nextFlush = undefined;
      return this.flush();
    };
    this.nextFlush ??= this.flushing.then(after, after);
    return this.nextFlush;
  }

  /** Appends entries; returns when the write returned (durable against a crash of this process). */
  append(fields: readonly AuditFields[]): void {
    if (fields.length === 0) return;
    let text = '';
    // One line per entry: its values as a JSON array (audit-table.ts, FIELD_COLUMNS order).
    for (const f of fields) text += `${JSON.stringify(fieldValues(f))}\n`;
    const buf = Buffer.from(text, 'utf8');
    if (this.fd === undefined || this.size >= this.maxSegmentBytes) this.startSegment();
    let off = 0;
    while (off < buf.length) off += writeSync(this.fd!, buf, off, buf.length - off);
    this.size += buf.length;
  }

  /** The segment files in write order, with the one being written marked. */
  segments(): { name: string; current: boolean }[] {
    return readdirSync(this.dir)
      .filter((n) => n.endsWith('.jsonl'))
      .sort()
      .map((name) => ({ name, current: name === this.current }));
  }

  /** Size of a segment in bytes (0 when it is gone). */
  sizeOf(name: string): number {
    try {
      return statSync(join(this.dir, name)).size;
    } catch {
      return 0;
    }
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
      const size = fstatSync(fd).size;
      const fields: AuditFields[] = [];
      // `pos`: file offset of buf[0] (after the last complete line); `at`: next offset to read.
      let pos = from;
      let at = from;
      let buf = Buffer.alloc(0);
      while (fields.length < maxLines && at < size) {
        // About as much as `maxLines` entries take (a line is ~0.5 KB): reading megabytes to parse
        // 256 lines cost a millisecond per move on the event loop.
        const chunk = Buffer.allocUnsafe(Math.min(Math.max(64 * 1024, maxLines * 1024), size - at));
        const n = readSync(fd, chunk, 0, chunk.length, at);
        if (n <= 0) break;
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

  close(): void {
    this.closeSegment();
    this.current = undefined;
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
    this.fd = openSync(join(this.dir, this.current), 'a');
    this.size = 0;
    // The new file's directory entry must survive a crash of the machine too.
    if (this.sync) syncDirectory(this.dir);
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
