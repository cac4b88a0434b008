import { parseAstmMessages } from '../core/astm/index.ts';
import { processBundle } from '../fhir-api/bundle.ts';
import { type FhirService, INTERNAL } from '../fhir-api/fhir-service.ts';
import { PollLoop } from '../store/poll-loop.ts';
import type { AstmInbox, AstmInboxRow, AstmReprocessSummary } from './astm-inbox.ts';
import { findSpecimensBySampleId } from './astm-specimens.ts';
import { type AstmSpecimenContext, astmSampleId, DEFAULT_ASTM_SPECIMEN_SYSTEM, mapAstmToFhir } from './astm-to-fhir.ts';

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
  readonly onError?: (err: unknown) => void;
}

/**
 * Turns stored ASTM messages into FHIR: each `received` row is parsed (delimiters from its H
 * record), its samples are looked up among the stored Specimens (so results meet the HL7 order's
 * Specimen, its patient and its ServiceRequests), and each message is written as one transaction
 * Bundle (`mapAstmToFhir`). The Bundle is idempotent — conditional creates of Device and Specimen,
 * conditional updates of Observations keyed on sender, sample and test code — so processing a
 * message again gives the same resources. Messages without results (host queries) are marked
 * processed with a note.
 */
export class AstmProcessor {
  readonly #o: AstmProcessorOptions;
  readonly #poller: PollLoop;

  constructor(options: AstmProcessorOptions) {
    this.#o = options;
    this.#poller = new PollLoop(
      async () => {
        const s = await this.runOnce();
        return s.processed + s.failed > 0;
      },
      options.pollMs ?? 100,
      options.onError,
    );
  }

  /** Maps and stores one inbox row; resolves with a note when nothing was written, throws with the reason when it cannot. */
  readonly handle = async (row: AstmInboxRow): Promise<string | undefined> => {
    const parsed = parseAstmMessages(row.raw);
    if (!parsed.ok) throw new Error(`ASTM error ${parsed.error.code}: ${parsed.error.message}`);
    const system = this.#o.specimenSystem ?? DEFAULT_ASTM_SPECIMEN_SYSTEM;
    const notes: string[] = [];
    let written = 0;
    for (const message of parsed.value) {
      const specimens = new Map<string, AstmSpecimenContext>();
      for (const r of message.results()) {
        const id = astmSampleId(r.order);
        if (id === '' || specimens.has(id)) continue;
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
      const mapped = mapAstmToFhir(message, {
        specimens,
        specimenSystem: system,
        ...(this.#o.timeZone ? { timeZone: this.#o.timeZone } : {}),
      });
      notes.push(...mapped.notes);
      if (mapped.observations === 0) continue;
      const out = await processBundle(this.#o.service, mapped.bundle, INTERNAL);
      if (out.status >= 300) throw new Error(`FHIR transaction refused (${out.status}): ${out.body.slice(0, 500)}`);
      written += mapped.observations;
    }
    if (written === 0) notes.push('no results to map');
    return notes.length ? notes.join('; ').slice(0, 2000) : undefined;
  };

  /** Processes what is waiting now; resolves with the counts. */
  runOnce(): Promise<AstmReprocessSummary> {
    return this.#o.inbox.reprocess({ state: 'received', limit: this.#o.batch ?? 200 }, this.handle);
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
