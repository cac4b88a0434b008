import type { AuditLog } from '../audit/index.ts';
import { MAPPING_VERSION, mapHl7TextToFhir, type V2ToFhirMergeResult } from '../core/hl7/v2-to-fhir/index.ts';
import { processBundle } from '../fhir-api/bundle.ts';
import { type FhirService, INTERNAL } from '../fhir-api/fhir-service.ts';
import { mergePatients } from '../identity/patient-merge.ts';
import type { Resource } from '../store/repository.ts';
import type { Hl7Inbox, Hl7InboxRow, Hl7ReprocessSummary } from './hl7-inbox.ts';

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
  readonly onError?: (err: unknown) => void;
}

/**
 * Turns stored HL7 v2 messages into FHIR: each `received` row of the inbox is mapped
 * (`core/hl7/v2-to-fhir`, HL7 V2-to-FHIR IG) and written as one transaction Bundle; an ADT^A40
 * merges the patients through the identity service. The Bundles are idempotent (conditional
 * creates and updates keyed on the message's identifiers), so a message processed again after a
 * crash — or reprocessed after a mapping fix — has the effect of processing it once. A message that
 * does not map is marked failed with the reason (HL7 table 0357 code, segment and field) and stays
 * in the dead-letter view until it is reprocessed.
 */
export class Hl7Processor {
  private readonly opts: Hl7ProcessorOptions;
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  constructor(opts: Hl7ProcessorOptions) {
    this.opts = opts;
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
    const bundle = r.bundle as unknown as { type: string };
    const out = await processBundle(this.opts.service, bundle, INTERNAL);
    if (out.status >= 300) throw new Error(`FHIR transaction refused (${out.status}): ${out.body.slice(0, 500)}`);
  };

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
    }
  }

  /** Processes what is waiting now; resolves with the counts. */
  async runOnce(): Promise<Hl7ReprocessSummary> {
    return this.opts.inbox.reprocess({ state: 'received', limit: this.opts.batch ?? 200 }, this.handle);
  }

  /** Polls the inbox until {@link stop}. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        let n = 0;
        try {
          const s = await this.runOnce();
          n = s.processed + s.failed;
        } catch (err) {
          this.opts.onError?.(err);
        }
        if (n === 0 && this.running) {
          await new Promise<void>((resolve) => {
            const t = setTimeout(resolve, this.opts.pollMs ?? 100);
            this.wake = () => {
              clearTimeout(t);
              resolve();
            };
          });
          this.wake = undefined;
        }
      }
    })();
  }

  /** A message was just stored: look now instead of at the next poll. */
  notify(): void {
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }
}
