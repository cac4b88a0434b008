import type { BundleEntry } from '@medplum/fhirtypes';
import { type AstmMessage, parseAstmMessages } from '../core/astm/index.ts';
import { applyConceptMapsInPlace, ConceptMapIndex } from '../core/terminology/index.ts';
import { processBundle } from '../fhir-api/bundle.ts';
import { type FhirService, INTERNAL } from '../fhir-api/fhir-service.ts';
import { PollLoop } from '../store/poll-loop.ts';
import type { AstmInbox, AstmInboxRow, AstmReprocessSummary } from './astm-inbox.ts';
import { findSpecimensBySampleId } from './astm-specimens.ts';
import { type AstmSpecimenContext, astmSampleId, DEFAULT_ASTM_SPECIMEN_SYSTEM, mapAstmToFhir } from './astm-to-fhir.ts';
import { type PlannedMessage, planHl7Message, writeHl7Batch } from './hl7-batch-writer.ts';
import { entryEffects, messageProvenanceEntries, type SourceMessage, splitEffects } from './provenance.ts';
import { ConceptMapCache } from './terminology-cache.ts';
import { mapLocalCodeTaskEntries } from './terminology-tasks.ts';

/** Options of {@link AstmProcessor}. */
export interface AstmProcessorOptions {
  readonly inbox: AstmInbox;
  readonly service: FhirService;
  /** System of Specimens created for unknown samples (see {@link DEFAULT_ASTM_SPECIMEN_SYSTEM}). */
  readonly specimenSystem?: string;
  /** IANA zone of instrument date-times; default Europe/Copenhagen. */
  readonly timeZone?: string;
  /** Idle wait between polls of the inbox (ms, default 100). */
  readonly pollMs?: number;
  /** Most messages taken per poll (default 200). */
  readonly batch?: number;
  /**
   * Write the messages of a poll in batch transactions (default true; `writeHl7Batch`), at most
   * `batchMessages` (default 50) per transaction. Off: each message alone through the transaction
   * path.
   */
  readonly batchWrites?: boolean;
  readonly batchMessages?: number;
  /** The raw message as a Binary and a Provenance of what it creates and updates (default true). */
  readonly provenance?: boolean;
  /**
   * The ConceptMaps applied to the analyzers' local test codes and a mapping Task per local code
   * no map mentions, as for HL7 senders (default: a cache over the store's ConceptMaps; `false`:
   * neither).
   */
  readonly terminology?: ConceptMapCache | false;
  readonly onError?: (err: unknown) => void;
}

/** A row's messages mapped to transaction entries (those with results), and its notes. */
interface Prepared {
  readonly bundles: {
    readonly entries: BundleEntry[];
    readonly observations: number;
    readonly patient?: string;
    /** The ConceptMaps (`url|version`) that added codes (the Provenance's policies). */
    readonly policies: readonly string[];
  }[];
  readonly notes: string[];
}

/**
 * Turns stored ASTM messages into FHIR: each `received` row is parsed (delimiters from its H
 * record), its samples are looked up among the stored Specimens (so results meet the HL7 order's
 * Specimen, its patient and its ServiceRequests), and each message is mapped to transaction entries
 * (`mapAstmToFhir`), the analyzer's ConceptMaps applied to its local test codes (NPU or LOINC codes
 * added, a mapping Task per local code no map mentions, as for HL7 senders), with the raw message
 * as `Binary/astm-<sha256>` and a Provenance of what it creates and of what it updates
 * (`provenance.ts`), all written together. The entries are
 * idempotent — conditional creates of Device and Specimen, conditional updates of Observations
 * keyed on sender, sample and test code — so processing a message again gives the same resources.
 * The messages of a poll are written in batch transactions, as the HL7 processor writes its own
 * (`writeHl7Batch`: with the effect of writing them one after the other, the rows marked processed
 * in the same transaction); a row holding several messages, and every message of a batch that
 * failed, goes alone through the transaction path. Messages without results (host queries) are
 * marked processed with a note.
 */
export class AstmProcessor {
  readonly #o: AstmProcessorOptions;
  readonly #poller: PollLoop;
  readonly #terminology: ConceptMapCache | undefined;
  /** Messages written in batch transactions and alone, and batch transactions that failed (the last one's reason). */
  readonly stats: { batched: number; alone: number; failedBatches: number; lastBatchError: string | undefined } = {
    batched: 0,
    alone: 0,
    failedBatches: 0,
    lastBatchError: undefined,
  };

  constructor(options: AstmProcessorOptions) {
    this.#o = options;
    this.#terminology =
      options.terminology === false ? undefined : (options.terminology ?? new ConceptMapCache(options.service.repo));
    this.#poller = new PollLoop(
      async () => {
        const s = await this.runOnce();
        return s.processed + s.failed > 0;
      },
      options.pollMs ?? 100,
      options.onError,
    );
  }

  /**
   * Parses a row and maps each of its messages, with the sender's ConceptMaps applied to its local
   * codes and a mapping Task per local code no map mentions; throws with the reason when it does
   * not parse.
   */
  async #prepare(row: AstmInboxRow, recorded: string, index: ConceptMapIndex): Promise<Prepared> {
    const parsed = parseAstmMessages(row.raw);
    if (!parsed.ok) throw new Error(`ASTM error ${parsed.error.code}: ${parsed.error.message}`);
    const notes: string[] = [];
    const bundles: Prepared['bundles'][number][] = [];
    for (const message of parsed.value) {
      const specimens = await this.#specimens(message);
      const mapped = mapAstmToFhir(message, {
        specimens,
        specimenSystem: this.#o.specimenSystem ?? DEFAULT_ASTM_SPECIMEN_SYSTEM,
        ...(this.#o.timeZone ? { timeZone: this.#o.timeZone } : {}),
      });
      notes.push(...mapped.notes);
      if (mapped.observations === 0) continue;
      // The Bundle was just mapped for this call: no copy needed.
      const terms = applyConceptMapsInPlace(mapped.bundle, index);
      notes.push(...terms.warnings);
      // The raw bytes are about the patient the results are for (Binary.securityContext).
      const patient = [...specimens.values()].find((x) => x.subject)?.subject;
      bundles.push({
        entries: [
          ...(terms.bundle.entry ?? []),
          ...(this.#terminology ? mapLocalCodeTaskEntries(terms.unmapped, recorded) : []),
        ],
        observations: mapped.observations,
        policies: terms.conceptMaps,
        ...(patient ? { patient } : {}),
      });
    }
    return { bundles, notes };
  }

  #conceptMaps(): Promise<ConceptMapIndex> | ConceptMapIndex {
    return this.#terminology ? this.#terminology.index() : ConceptMapIndex.EMPTY;
  }

  /** The stored Specimens the message's sample ids name (one each; an ambiguous id is left out). */
  async #specimens(message: AstmMessage): Promise<Map<string, AstmSpecimenContext>> {
    const system = this.#o.specimenSystem ?? DEFAULT_ASTM_SPECIMEN_SYSTEM;
    const specimens = new Map<string, AstmSpecimenContext>();
    const tried = new Set<string>();
    for (const r of message.results()) {
      const id = astmSampleId(r.order);
      if (id === '' || tried.has(id)) continue;
      tried.add(id);
      const found = await findSpecimensBySampleId(this.#o.service, id, system);
      // Several Specimens with this barcode in other systems: ambiguous, so the hub keeps its own.
      if (found.length !== 1) continue;
      const s = found[0]!;
      const requests = (s.request ?? []).map((x) => x.reference).filter((x): x is string => !!x);
      specimens.set(id, {
        reference: `Specimen/${s.id}`,
        ...(s.subject?.reference ? { subject: s.subject.reference } : {}),
        ...(requests.length ? { requests } : {}),
      });
    }
    return specimens;
  }

  /**
   * The Binary and Provenance entries of one of a row's mapped messages, once it is known what the
   * message creates and updates (undefined when provenance is off).
   */
  #provenanceOf(
    row: AstmInboxRow,
    b: Prepared['bundles'][number],
    recorded: string,
  ): ((created: string[], updated: string[]) => BundleEntry[]) | undefined {
    if (this.#o.provenance === false) return undefined;
    const message: SourceMessage = {
      format: 'astm',
      raw: row.raw,
      contentHash: row.contentHash,
      rowId: row.id,
      messageType: '',
      controlId: '',
      sendingApplication: row.sender,
      sendingFacility: '',
    };
    return (created, updated) =>
      messageProvenanceEntries({
        message,
        created,
        updated,
        recorded,
        policies: b.policies,
        ...(b.patient ? { patient: b.patient } : {}),
      });
  }

  /** Maps and stores one inbox row; resolves with a note when nothing was written, throws with the reason when it cannot. */
  readonly handle = async (row: AstmInboxRow): Promise<string | undefined> => {
    const recorded = new Date(this.#o.service.repo.clock.now()).toISOString();
    const p = await this.#prepare(row, recorded, await this.#conceptMaps());
    let written = 0;
    for (const b of p.bundles) {
      const entries = [...b.entries];
      const provenance = this.#provenanceOf(row, b, recorded);
      if (provenance) {
        const { created, updated } = splitEffects(await entryEffects(this.#o.service, entries));
        entries.push(...provenance(created, updated));
      }
      const out = await processBundle(
        this.#o.service,
        { resourceType: 'Bundle', type: 'transaction', entry: entries },
        INTERNAL,
      );
      if (out.status >= 300) throw new Error(`FHIR transaction refused (${out.status}): ${out.body.slice(0, 500)}`);
      written += b.observations;
    }
    return noteOf(p.notes, written);
  };

  /**
   * Processes what is waiting now; resolves with the counts. The rows are claimed together, mapped
   * and written in arrival order in batch transactions; see the class comment.
   */
  async runOnce(): Promise<AstmReprocessSummary> {
    const inbox = this.#o.inbox;
    const limit = this.#o.batch ?? 200;
    if (this.#o.batchWrites === false) return inbox.reprocess({ state: 'received', limit }, this.handle);
    const rows = await inbox.list('received', limit);
    const total = { processed: 0, failed: 0, skipped: 0 };
    if (rows.length === 0) return total;
    const claimed = await inbox.claim(rows);
    total.skipped = rows.length - claimed.size;
    const recorded = new Date(this.#o.service.repo.clock.now()).toISOString();
    // The ConceptMaps as of this poll, for all of its rows.
    const index = await this.#conceptMaps();
    let pending: { row: AstmInboxRow; planned: PlannedMessage; note: string | undefined }[] = [];
    const flush = async () => {
      if (pending.length > 0) await this.#writeBatch(pending, total);
      pending = [];
    };
    for (const row of rows) {
      if (!claimed.has(row.id)) continue;
      let p: Prepared;
      try {
        p = await this.#prepare(row, recorded, index);
      } catch (e) {
        await this.#fail(row, e, total);
        continue;
      }
      const b = p.bundles.length === 1 ? p.bundles[0]! : undefined;
      let planned: PlannedMessage | undefined;
      if (b) {
        const provenance = this.#provenanceOf(row, b, recorded);
        try {
          planned = planHl7Message({ rowId: row.id, entries: b.entries, ...(provenance ? { provenance } : {}) });
        } catch {
          // Not expressible in a batch (or refused): the transaction path gives the exact outcome.
          planned = undefined;
        }
      }
      if (!planned || !b) {
        // Nothing to write (a host query), several messages in one row, or not for a batch.
        await flush();
        await this.#runAlone(row, total);
        continue;
      }
      pending.push({ row, planned, note: noteOf(p.notes, b.observations) });
      if (pending.length >= (this.#o.batchMessages ?? 50)) await flush();
    }
    await flush();
    return total;
  }

  /** One batch transaction; when it fails, each of its messages on its own. */
  async #writeBatch(
    batch: readonly { row: AstmInboxRow; planned: PlannedMessage; note: string | undefined }[],
    total: { processed: number; failed: number },
  ): Promise<void> {
    try {
      await writeHl7Batch(
        this.#o.service.repo,
        batch.map((b) => b.planned),
        async (w) => {
          // Rows with the same note (most have none) are marked in one statement.
          const byNote = new Map<string | null, number[]>();
          for (const b of batch) {
            const key = b.note ?? null;
            byNote.set(key, [...(byNote.get(key) ?? []), b.row.id]);
          }
          for (const [note, ids] of byNote) await this.#o.inbox.markProcessedIn(w.tx, ids, note);
        },
      );
    } catch (e) {
      // Nothing of the batch was written: isolate the message that failed it (mapped again).
      this.stats.failedBatches++;
      this.stats.lastBatchError = e instanceof Error ? e.message : String(e);
      for (const b of batch) await this.#runAlone(b.row, total);
      return;
    }
    total.processed += batch.length;
    this.stats.batched += batch.length;
  }

  /** A claimed row through {@link handle}, marked processed (with its note) or failed with the reason. */
  async #runAlone(row: AstmInboxRow, total: { processed: number; failed: number }): Promise<void> {
    this.stats.alone++;
    let note: string | undefined;
    try {
      note = await this.handle(row);
    } catch (e) {
      await this.#fail(row, e, total);
      return;
    }
    await this.#o.inbox.markProcessed(row.id, note ?? null);
    total.processed++;
  }

  async #fail(row: AstmInboxRow, e: unknown, total: { failed: number }): Promise<void> {
    await this.#o.inbox.markFailed(row.id, e instanceof Error ? e.message : String(e));
    total.failed++;
  }

  /** Polls the inbox until {@link stop}. */
  start(): void {
    this.#poller.start();
  }

  /** A message was just stored: look now instead of at the next poll. */
  notify(): void {
    this.#poller.notify();
  }

  /** Stops polling after the current batch. */
  stop(): Promise<void> {
    return this.#poller.stop();
  }
}

/** The note a processed row keeps: the mapping's notes, or that nothing was mapped. */
function noteOf(notes: readonly string[], written: number): string | undefined {
  const all = written === 0 ? [...notes, 'no results to map'] : notes;
  return all.length ? all.join('; ').slice(0, 2000) : undefined;
}
