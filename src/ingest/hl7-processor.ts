import type { Bundle, BundleEntry } from '@medplum/fhirtypes';
import type { AuditLog } from '../audit/index.ts';
import { MAPPING_VERSION, mapHl7TextToFhir, type V2ToFhirMergeResult } from '../core/hl7/v2-to-fhir/index.ts';
import { applyConceptMapsInPlace, ConceptMapIndex } from '../core/terminology/index.ts';
import { processBundle } from '../fhir-api/bundle.ts';
import { type FhirService, INTERNAL } from '../fhir-api/fhir-service.ts';
import { mergePatients } from '../identity/patient-merge.ts';
import { PollLoop } from '../store/poll-loop.ts';
import type { Resource } from '../store/repository.ts';
import { type PlannedMessage, planHl7Message, writeHl7Batch } from './hl7-batch-writer.ts';
import type { Hl7Inbox, Hl7InboxRow, Hl7ReprocessSummary } from './hl7-inbox.ts';
import {
  entryEffects,
  messageProvenanceEntries,
  type SourceMessage,
  sourceOfBundle,
  splitEffects,
} from './provenance.ts';
import { ConceptMapCache } from './terminology-cache.ts';
import { mapLocalCodeTaskEntries } from './terminology-tasks.ts';

/** Options of {@link Hl7Processor}. */
export interface Hl7ProcessorOptions {
  readonly inbox: Hl7Inbox;
  readonly service: FhirService;
  /** Merges (ADT^A40) are audited here, in their transaction. */
  readonly audit?: AuditLog;
  /** Idle wait between polls of the inbox (ms, default 100). */
  readonly pollMs?: number;
  /** Most messages taken (and claimed) per poll (default 200). */
  readonly batch?: number;
  /**
   * Most messages written in one batch transaction (default 50). While it runs, other writers of
   * the store wait — on SQLite also the inbox's own accepts, i.e. the ACKs — so a batch is kept
   * short; the per-batch statements are few enough that 50 messages amortise them.
   */
  readonly batchMessages?: number;
  /**
   * Write each poll's messages in batch transactions (default true); `false` runs every message
   * through the general transaction path on its own, as {@link Hl7Processor.handle} does.
   */
  readonly batchWrites?: boolean;
  readonly onError?: (err: unknown) => void;
  /**
   * Per-sender ConceptMaps applied to each message (target codes, units, mapping Tasks). Default: a
   * {@link ConceptMapCache} of the ConceptMaps in the same store; `false` leaves codes as sent and
   * makes no Tasks.
   */
  readonly terminology?: ConceptMapCache | false;
  /** Binary of the raw message and Provenance of what it wrote, in the same transaction (default true). */
  readonly provenance?: boolean;
  /** Non-fatal findings of a processed message: mapping warnings, units left unconverted. */
  readonly onWarnings?: (row: Hl7InboxRow, warnings: readonly string[]) => void;
}

/**
 * Turns stored HL7 v2 messages into FHIR: each `received` row of the inbox is mapped
 * (`core/hl7/v2-to-fhir`, HL7 V2-to-FHIR IG) to one transaction Bundle; consecutive messages are
 * written together in batch transactions ({@link runOnce}, `hl7-batch-writer.ts`) with the effect
 * of writing their Bundles one after the other; an ADT^A40 merges the patients through the
 * identity service. The Bundles are idempotent (conditional
 * creates and updates keyed on the message's identifiers), so a message processed again after a
 * crash — or reprocessed after a mapping fix — has the effect of processing it once. A message that
 * does not map is marked failed with the reason (HL7 table 0357 code, segment and field) and stays
 * in the dead-letter view until it is reprocessed.
 *
 * Before it is written, a Bundle gets (1) the NPU/LOINC codings and units the sender's ConceptMaps
 * give its local codes (`core/terminology`), and a mapping Task per local code no map mentions, one
 * open Task per code (`terminology-tasks.ts`); (2) the raw message as `Binary/hl7v2-<sha256>` and a
 * Provenance of the resources the run creates and of those it updates (`provenance.ts`), all in the
 * same transaction.
 */
export class Hl7Processor {
  private readonly opts: Hl7ProcessorOptions;
  private readonly terminology: ConceptMapCache | undefined;
  private readonly poller: PollLoop;
  /**
   * How messages went since start: written in a batch transaction, run alone through the
   * transaction path (merges, messages a batch cannot express, members of a failed batch), and
   * batch transactions that failed and were run message by message (the last one's reason).
   */
  readonly stats: { batched: number; alone: number; failedBatches: number; lastBatchError: string | undefined } = {
    batched: 0,
    alone: 0,
    failedBatches: 0,
    lastBatchError: undefined,
  };

  constructor(opts: Hl7ProcessorOptions) {
    this.opts = opts;
    this.terminology =
      opts.terminology === false ? undefined : (opts.terminology ?? new ConceptMapCache(opts.service.repo));
    this.poller = new PollLoop(
      async () => {
        const s = await this.runOnce();
        return s.processed + s.failed > 0;
      },
      opts.pollMs ?? 100,
      opts.onError,
    );
  }

  /** Maps and stores one inbox row; throws with the reason when it cannot. */
  readonly handle = async (row: Hl7InboxRow): Promise<void> => {
    const p = this.prepare(row, await this.conceptMaps());
    if (p.kind === 'merge') {
      await this.merge(p.result, row);
      return;
    }
    if (p.warnings.length > 0) this.opts.onWarnings?.(row, p.warnings);
    const bundle: Bundle = { resourceType: 'Bundle', type: 'transaction', entry: p.entries };
    if (p.message) await this.addProvenance(bundle, p.message, p.recorded, p.policies);
    const out = await processBundle(this.opts.service, bundle, INTERNAL);
    if (out.status >= 300) throw new Error(`FHIR transaction refused (${out.status}): ${out.body.slice(0, 500)}`);
  };

  private conceptMaps(): Promise<ConceptMapIndex> | ConceptMapIndex {
    return this.terminology ? this.terminology.index() : ConceptMapIndex.EMPTY;
  }

  /**
   * Maps one row: the transaction entries (mapping, then the sender's ConceptMaps and a mapping
   * Task per unmapped local code), what its Provenance needs, and its warnings; or the merge of an
   * ADT^A40. Throws with the reason (HL7 table 0357 code, segment, field) when it does not map.
   */
  private prepare(row: Hl7InboxRow, index: ConceptMapIndex): Prepared {
    const r = mapHl7TextToFhir(row.raw);
    if (!r.ok) {
      const where = r.segment ? ` (${r.segment}${r.field ? `-${r.field}` : ''})` : '';
      throw new Error(`HL7 error ${r.code} ${r.reason}${where}: ${r.message}`);
    }
    if (r.kind === 'merge') return { kind: 'merge', result: r };
    // The Bundle was just mapped for this call: no copy needed.
    const terms = applyConceptMapsInPlace(r.bundle, index);
    const recorded = new Date(this.opts.service.repo.clock.now()).toISOString();
    const bundle = terms.bundle;
    const entries = [
      ...(bundle.entry ?? []),
      ...(this.terminology ? mapLocalCodeTaskEntries(terms.unmapped, recorded) : []),
    ];
    let message: SourceMessage | undefined;
    if (this.opts.provenance !== false) {
      const source = sourceOfBundle(bundle);
      message = {
        raw: row.raw,
        contentHash: row.contentHash,
        rowId: row.id,
        messageType: source?.messageType ?? r.messageType,
        controlId: source?.controlId ?? r.controlId,
        sendingApplication: source?.sendingApplication ?? row.sendingApplication,
        sendingFacility: source?.sendingFacility ?? row.sendingFacility,
      };
    }
    return {
      kind: 'bundle',
      entries,
      message,
      recorded,
      policies: terms.conceptMaps,
      warnings: [...r.warnings, ...terms.warnings],
    };
  }

  /** Appends the Binary of the raw message and the Provenances of what the Bundle will write. */
  private async addProvenance(
    bundle: Bundle,
    message: SourceMessage,
    recorded: string,
    policies: readonly string[],
  ): Promise<void> {
    const entries = bundle.entry ?? [];
    const { created, updated } = splitEffects(await entryEffects(this.opts.service, entries));
    const patient = patientFullUrl(entries);
    bundle.entry = [
      ...entries,
      ...messageProvenanceEntries({ message, created, updated, recorded, policies, ...(patient ? { patient } : {}) }),
    ];
  }

  private async merge(r: V2ToFhirMergeResult, row: Hl7InboxRow): Promise<void> {
    const repo = this.opts.service.repo;
    const find = async (identifiers: readonly { system?: string; value?: string }[]) => {
      for (const i of identifiers) {
        if (!i.system || !i.value) continue;
        const res = await this.opts.service.search('Patient', [['identifier', `${i.system}|${i.value}`]], INTERNAL);
        const entry = (JSON.parse(res.body!) as { entry?: { resource: Resource }[] }).entry?.[0];
        if (entry) return entry.resource;
      }
      return undefined;
    };
    const merged: string[] = [];
    for (const m of r.merges) {
      const replaced = await find(m.replaced);
      // Nothing of the replaced patient is stored here: nothing to merge.
      if (!replaced?.id) continue;
      let surviving = await find(m.surviving);
      if (!surviving) {
        const created = await this.opts.service.create(
          'Patient',
          { resourceType: 'Patient', identifier: m.surviving },
          { ...INTERNAL, prefer: 'representation' },
        );
        surviving = JSON.parse(created.body!) as Resource;
      }
      if (surviving.id === replaced.id) continue;
      // Already merged (the message came again, or was reprocessed): nothing more to do.
      const links = (replaced.link as { type?: string; other?: { reference?: string } }[] | undefined) ?? [];
      if (links.some((l) => l.type === 'replaced-by' && l.other?.reference === `Patient/${surviving!.id}`)) continue;
      await mergePatients(
        repo,
        {
          sourceId: replaced.id,
          targetId: surviving.id!,
          reason: `HL7 ADT^A40 ${row.controlId ?? ''} from ${row.sendingApplication ?? '?'}^${row.sendingFacility ?? '?'} (${MAPPING_VERSION})`,
        },
        { audit: this.opts.audit, agent: `hl7:${row.sendingApplication ?? 'unknown'}` },
      );
      merged.push(`Patient/${surviving.id}`, `Patient/${replaced.id}`);
    }
    // The identity service's own Provenance records the merge; this one ties it to the raw message.
    // It is a second transaction: a crash between the two leaves the merge without this record.
    if (merged.length === 0 || this.opts.provenance === false) return;
    const entries = messageProvenanceEntries({
      message: {
        raw: row.raw,
        contentHash: row.contentHash,
        rowId: row.id,
        messageType: r.messageType,
        controlId: r.controlId,
        sendingApplication: row.sendingApplication,
        sendingFacility: row.sendingFacility,
      },
      created: [],
      updated: merged,
      recorded: new Date(repo.clock.now()).toISOString(),
    });
    const out = await processBundle(
      this.opts.service,
      { resourceType: 'Bundle', type: 'transaction', entry: entries },
      INTERNAL,
    );
    if (out.status >= 300) throw new Error(`FHIR transaction refused (${out.status}): ${out.body.slice(0, 500)}`);
  }

  /**
   * Processes what is waiting now; resolves with the counts. The rows are claimed together, mapped,
   * and written in arrival order in batch transactions ({@link writeHl7Batch}: conditional creates
   * and updates resolved for the whole batch with a few set-based reads, every resource written with
   * one `putMany`, the rows marked processed in the same transaction), with the effect of
   * processing them one after the other: a correction is never overtaken by the result it corrects.
   * A row that does not map is marked failed on its own; a merge (ADT^A40) and any message the
   * batch cannot express run alone through the transaction path, in their place; when a batch
   * transaction fails, its messages are run one by one, so that only the bad one fails.
   */
  async runOnce(): Promise<Hl7ReprocessSummary> {
    const rows = await this.opts.inbox.list('received', this.opts.batch ?? 200);
    const total = { processed: 0, failed: 0, skipped: 0 };
    if (rows.length === 0) return total;
    if (this.opts.batchWrites === false) {
      for (const row of rows) {
        const s = await this.opts.inbox.reprocess(row.id, this.handle);
        total.processed += s.processed;
        total.failed += s.failed;
        total.skipped += s.skipped;
      }
      return total;
    }
    const claimed = await this.opts.inbox.claim(rows);
    total.skipped = rows.length - claimed.size;
    const index = await this.conceptMaps();
    let pending: { row: Hl7InboxRow; planned: PlannedMessage; warnings: readonly string[] }[] = [];
    const flush = async () => {
      if (pending.length > 0) await this.writeBatch(pending, total);
      pending = [];
    };
    for (const row of rows) {
      if (!claimed.has(row.id)) continue;
      // A merge touches two patients: everything before it is written first, and it runs alone.
      if (isMerge(row)) {
        await flush();
        await this.runAlone(row, total);
        continue;
      }
      let p: Prepared;
      try {
        p = this.prepare(row, index);
      } catch (e) {
        await this.fail(row, e, total);
        continue;
      }
      let planned: PlannedMessage | undefined;
      if (p.kind === 'bundle') {
        try {
          planned = planHl7Message({
            rowId: row.id,
            entries: p.entries,
            ...(p.message ? { provenance: this.provenanceOf(p, p.message, p.entries) } : {}),
          });
        } catch {
          // Not expressible in a batch (or refused): the transaction path gives the exact outcome.
          planned = undefined;
        }
      }
      if (!planned || p.kind !== 'bundle') {
        await flush();
        await this.runAlone(row, total);
        continue;
      }
      pending.push({ row, planned, warnings: p.warnings });
      if (pending.length >= (this.opts.batchMessages ?? 50)) await flush();
    }
    await flush();
    return total;
  }

  private provenanceOf(
    p: Extract<Prepared, { kind: 'bundle' }>,
    message: SourceMessage,
    entries: readonly BundleEntry[],
  ): (created: string[], updated: string[]) => BundleEntry[] {
    const patient = patientFullUrl(entries);
    return (created, updated) =>
      messageProvenanceEntries({
        message,
        created,
        updated,
        recorded: p.recorded,
        policies: p.policies,
        ...(patient ? { patient } : {}),
      });
  }

  /** One batch transaction; when it fails, each of its messages on its own. */
  private async writeBatch(
    batch: readonly { row: Hl7InboxRow; planned: PlannedMessage; warnings: readonly string[] }[],
    total: { processed: number; failed: number },
  ): Promise<void> {
    const ids = batch.map((b) => b.row.id);
    try {
      await writeHl7Batch(
        this.opts.service.repo,
        batch.map((b) => b.planned),
        (w) => this.opts.inbox.markProcessedIn(w.tx, ids),
      );
    } catch (e) {
      // Nothing of the batch was written: isolate the message that failed it (the mapping runs again).
      this.stats.failedBatches++;
      this.stats.lastBatchError = e instanceof Error ? e.message : String(e);
      for (const b of batch) await this.runAlone(b.row, total);
      return;
    }
    total.processed += batch.length;
    this.stats.batched += batch.length;
    for (const b of batch) if (b.warnings.length > 0) this.opts.onWarnings?.(b.row, b.warnings);
  }

  /** A claimed row through {@link handle}, marked processed or failed with the reason. */
  private async runAlone(row: Hl7InboxRow, total: { processed: number; failed: number }): Promise<void> {
    this.stats.alone++;
    try {
      await this.handle(row);
    } catch (e) {
      await this.fail(row, e, total);
      return;
    }
    await this.opts.inbox.markProcessed(row.id);
    total.processed++;
  }

  private async fail(row: Hl7InboxRow, e: unknown, total: { failed: number }): Promise<void> {
    await this.opts.inbox.markFailed(row.id, e instanceof Error ? e.message : String(e));
    total.failed++;
  }

  /** Polls the inbox until {@link stop}. */
  start(): void {
    this.poller.start();
  }

  /** A message was just stored: look now instead of at the next poll. */
  notify(): void {
    this.poller.notify();
  }

  stop(): Promise<void> {
    return this.poller.stop();
  }
}

/** ADT^A40 and the other merge/link events (or any message with an MRG segment). */
function isMerge(row: Hl7InboxRow): boolean {
  return /^ADT\^A(40|34|35|36|39)/.test(row.messageType) || /\rMRG\|/.test(row.raw.toString('latin1'));
}

/** The fullUrl of the message's Patient entry (Binary.securityContext of the raw message). */
function patientFullUrl(entries: readonly BundleEntry[]): string | undefined {
  return entries.find((e) => e.resource?.resourceType === 'Patient')?.fullUrl;
}

/** A mapped row: transaction entries with what their Provenance needs, or a merge. */
type Prepared =
  | { readonly kind: 'merge'; readonly result: V2ToFhirMergeResult }
  | {
      readonly kind: 'bundle';
      readonly entries: BundleEntry[];
      readonly message: SourceMessage | undefined;
      readonly recorded: string;
      readonly policies: readonly string[];
      readonly warnings: readonly string[];
    };
