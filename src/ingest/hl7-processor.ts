import type { Bundle } from '@medplum/fhirtypes';
import type { AuditLog } from '../audit/index.ts';
import { parseHl7 } from '../core/hl7/index.ts';
import { MAPPING_VERSION, mapHl7TextToFhir, type V2ToFhirMergeResult } from '../core/hl7/v2-to-fhir/index.ts';
import { applyConceptMaps, ConceptMapIndex } from '../core/terminology/index.ts';
import { processBundle } from '../fhir-api/bundle.ts';
import { type FhirService, INTERNAL } from '../fhir-api/fhir-service.ts';
import { mergePatients } from '../identity/patient-merge.ts';
import { PollLoop } from '../store/poll-loop.ts';
import type { Resource } from '../store/repository.ts';
import type { Hl7Inbox, Hl7InboxRow, Hl7ReprocessSummary } from './hl7-inbox.ts';
import { entryEffects, messageProvenanceEntries, type SourceMessage, sourceOfBundle } from './provenance.ts';
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
  /** Most messages taken per poll (default 200). */
  readonly batch?: number;
  /** Messages processed side by side (different patients only; default 8). */
  readonly concurrency?: number;
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
 * (`core/hl7/v2-to-fhir`, HL7 V2-to-FHIR IG) and written as one transaction Bundle; an ADT^A40
 * merges the patients through the identity service. The Bundles are idempotent (conditional
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
    const r = mapHl7TextToFhir(row.raw);
    if (!r.ok) {
      const where = r.segment ? ` (${r.segment}${r.field ? `-${r.field}` : ''})` : '';
      throw new Error(`HL7 error ${r.code} ${r.reason}${where}: ${r.message}`);
    }
    if (r.kind === 'merge') {
      await this.merge(r, row);
      return;
    }
    const index = this.terminology ? await this.terminology.index() : ConceptMapIndex.EMPTY;
    const terms = applyConceptMaps(r.bundle, index);
    const recorded = new Date(this.opts.service.repo.clock.now()).toISOString();
    const bundle = terms.bundle;
    if (this.terminology)
      bundle.entry = [...(bundle.entry ?? []), ...mapLocalCodeTaskEntries(terms.unmapped, recorded)];
    if (this.opts.provenance !== false) {
      const source = sourceOfBundle(bundle);
      const message: SourceMessage = {
        raw: row.raw,
        contentHash: row.contentHash,
        rowId: row.id,
        messageType: source?.messageType ?? r.messageType,
        controlId: source?.controlId ?? r.controlId,
        sendingApplication: source?.sendingApplication ?? row.sendingApplication,
        sendingFacility: source?.sendingFacility ?? row.sendingFacility,
      };
      await this.addProvenance(bundle, message, recorded, terms.conceptMaps);
    }
    const warnings = [...r.warnings, ...terms.warnings];
    if (warnings.length > 0) this.opts.onWarnings?.(row, warnings);
    const out = await processBundle(this.opts.service, bundle, INTERNAL);
    if (out.status >= 300) throw new Error(`FHIR transaction refused (${out.status}): ${out.body.slice(0, 500)}`);
  };

  /** Appends the Binary of the raw message and the Provenances of what the Bundle will write. */
  private async addProvenance(
    bundle: Bundle,
    message: SourceMessage,
    recorded: string,
    policies: readonly string[],
  ): Promise<void> {
    const entries = bundle.entry ?? [];
    const effects = await entryEffects(this.opts.service, entries);
    const created: string[] = [];
    const updated: string[] = [];
    for (const [fullUrl, effect] of effects) {
      if (effect === 'create') created.push(fullUrl);
      else if (effect === 'update') updated.push(fullUrl);
    }
    const patient = entries.find((e) => e.resource?.resourceType === 'Patient')?.fullUrl;
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
   * Processes what is waiting now; resolves with the counts. Messages about different patients run
   * side by side (`concurrency`, default 8: their transactions share commits on SQLite and pool
   * connections on PostgreSQL); messages about one patient run one after the other in arrival
   * order, so a correction is never overtaken by the result it corrects.
   */
  async runOnce(): Promise<Hl7ReprocessSummary> {
    const rows = await this.opts.inbox.list('received', this.opts.batch ?? 200);
    const total: { processed: number; failed: number; skipped: number } = { processed: 0, failed: 0, skipped: 0 };
    // A merge (ADT^A40) touches two patients: everything received before it is processed first,
    // and it runs alone.
    let run: Hl7InboxRow[] = [];
    for (const row of rows) {
      if (!isMerge(row)) {
        run.push(row);
        continue;
      }
      await this.runConcurrently(run, total);
      await this.runConcurrently([row], total);
      run = [];
    }
    await this.runConcurrently(run, total);
    return total;
  }

  private async runConcurrently(
    rows: readonly Hl7InboxRow[],
    total: { processed: number; failed: number; skipped: number },
  ): Promise<void> {
    if (rows.length === 0) return;
    const groups = new Map<string, Hl7InboxRow[]>();
    for (const row of rows) {
      const key = orderKey(row);
      const g = groups.get(key);
      if (g) g.push(row);
      else groups.set(key, [row]);
    }
    const queues = [...groups.values()];
    const worker = async () => {
      for (let g = queues.shift(); g; g = queues.shift()) {
        for (const row of g) {
          const s = await this.opts.inbox.reprocess(row.id, this.handle);
          total.processed += s.processed;
          total.failed += s.failed;
          total.skipped += s.skipped;
        }
      }
    };
    const width = Math.min(this.opts.concurrency ?? 8, queues.length);
    await Promise.all(Array.from({ length: width }, worker));
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

/**
 * Messages with the same key are processed in order: the first patient identifier (PID-3) — the
 * merged-away one (MRG-1) joins its survivor's queue through PID-3 too — or, without one, the
 * sender, so nothing without a patient key runs out of order either.
 */
function isMerge(row: Hl7InboxRow): boolean {
  return /^ADT\^A(40|34|35|36|39)/.test(row.messageType) || /\rMRG\|/.test(row.raw.toString('latin1'));
}

function orderKey(row: Hl7InboxRow): string {
  const parsed = parseHl7(row.raw);
  if (!parsed.ok) return `sender:${row.sendingApplication}^${row.sendingFacility}`;
  const pid = parsed.value.get('PID', 3);
  return pid ? `patient:${pid}` : `sender:${row.sendingApplication}^${row.sendingFacility}`;
}
