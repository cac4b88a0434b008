import { type SilenceSettings, silenceVerdict } from '../core/operations/interface-silence.ts';
import type { InterfaceHealth } from '../ingest/interface-health.ts';
import type { Dialect } from '../store/dialect/dialect.ts';

/**
 * Interface and device health for management information: the ingest view (`/ops/interfaces`:
 * per HL7 sender messages, ACK codes, queue depth, dead letters) plus, per HL7 sender and per
 * ASTM analyzer, the last contact, the messages of the last window and whether it has been silent
 * longer than normal.
 */
export async function interfaceStatus(db: Dialect, health: InterfaceHealth, now: number, silence: SilenceSettings) {
  const since = now - silence.windowMs;
  const hl7 = await db.all<{ application: string; facility: string; n: number | string; last: number | string | null }>(
    `SELECT sending_application AS application, sending_facility AS facility,
            SUM(CASE WHEN received_at >= ? THEN 1 ELSE 0 END) AS n, MAX(received_at) AS last
       FROM hl7_inbox GROUP BY sending_application, sending_facility`,
    [since],
  );
  const astm = await db.all<{
    sender: string;
    n: number | string;
    last: number | string | null;
    queued: number | string;
    failed: number | string;
  }>(
    `SELECT sender, SUM(CASE WHEN received_at >= ? THEN 1 ELSE 0 END) AS n, MAX(received_at) AS last,
            SUM(CASE WHEN state = 'received' THEN 1 ELSE 0 END) AS queued,
            SUM(CASE WHEN state = 'failed' THEN 1 ELSE 0 END) AS failed
       FROM astm_inbox GROUP BY sender`,
    [since],
  );
  const verdict = (n: number | string, last: number | string | null) => {
    const v = silenceVerdict(Number(n), last === null ? null : Number(last), now, silence);
    return {
      lastContact: last === null ? null : new Date(Number(last)).toISOString(),
      messagesInWindow: Number(n),
      normalGapMinutes: v.normalGapMs === null ? null : Math.round(v.normalGapMs / 600) / 100,
      silentMinutes: v.silentForMs === null ? null : Math.round(v.silentForMs / 60_000),
      silent: v.silent,
    };
  };
  return {
    at: new Date(now).toISOString(),
    windowHours: silence.windowMs / 3_600_000,
    hl7Senders: hl7.map((r) => ({ sender: `${r.application}^${r.facility}`, ...verdict(r.n, r.last) })),
    analyzers: astm.map((r) => ({
      analyzer: r.sender,
      ...verdict(r.n, r.last),
      queueDepth: Number(r.queued),
      failed: Number(r.failed),
    })),
    ingest: await health.snapshot(),
  };
}
