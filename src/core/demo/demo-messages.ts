import { buildOruR01 } from '../hl7/oru-from-fhir.ts';
import type { DemoOrder } from './demo-orders.ts';
import { demoPatientResource } from './demo-patients.ts';
import { DEMO_PLACER_NAMESPACE, orderResources } from './demo-resources.ts';

const COPENHAGEN = new Intl.DateTimeFormat('sv-SE', {
  timeZone: 'Europe/Copenhagen',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});

/** `YYYYMMDDHHMMSS` in Copenhagen local time, as LIS02-A2 instruments send it (no offset). */
export function astmLocalTime(ms: number): string {
  return COPENHAGEN.format(new Date(ms)).replace(/\D/g, '');
}

/** The simulated LIS's HL7 v2 names (MSH-3/4) and the hub's (MSH-5/6). */
export const DEMO_LIS = { application: 'DEMO-LIS', facility: 'DEMO-RSD', hub: 'DXHUB', hubFacility: 'RSD' } as const;

/**
 * The ORU^R01 a LIS (or, for imaging, a RIS) sends for a resulted order: PID from the Patient (CPR), OBR from the
 * report, one OBX per result (built by `core/hl7/oru-from-fhir.ts`, the same encoder dxhub uses
 * outbound). A corrected result is sent in its final, corrected state.
 */
export function oruForOrder(
  o: DemoOrder,
  controlId: string,
  placer: readonly [value: string, namespace: string] = [o.id, DEMO_PLACER_NAMESPACE],
): string {
  const resources = orderResources(o);
  const report = resources.find((r) => r.resourceType === 'DiagnosticReport')!;
  const latest = new Map<string, Record<string, unknown>>();
  for (const r of resources) if (r.resourceType === 'Observation') latest.set(r.id, r);
  // An imaging report (RIS) is one text OBX with the conclusion, coded as the procedure.
  if (o.kind === 'imaging') latest.set('report', { status: 'final', code: report.code, valueString: o.conclusion });
  return buildOruR01({
    report,
    observations: [...latest.values()],
    patient: demoPatientResource(o.patient),
    sendingApplication: DEMO_LIS.application,
    sendingFacility: DEMO_LIS.facility,
    receivingApplication: DEMO_LIS.hub,
    receivingFacility: DEMO_LIS.hubFacility,
    controlId,
    at: new Date(o.issued).toISOString(),
    // OBR-2: the placer number the order channel gave the ServiceRequest, so results meet their order.
    placer,
  });
}

/**
 * The ASTM E1394 records an analyzer sends for a lab order's sample (header, patient, order with
 * the tube barcode in O-3, one R record per result, terminator). Test codes are the analyzer's own
 * (`astmCode`); the hub keeps them in the sender's local code system.
 */
export function astmForOrder(o: DemoOrder, analyzer: string): string[] {
  const tests = o.results.map((r) => `^^^${r.analysis.astmCode}`).join('\\');
  const records = [
    `H|\\^&|||${analyzer}|||||||P|1|${astmLocalTime(o.issued)}`,
    'P|1',
    `O|1|${o.id}||${tests}|${o.priority === 'stat' ? 'S' : 'R'}||${astmLocalTime(o.collected)}`,
  ];
  o.results.forEach((r, i) => {
    const flag = r.critical
      ? r.analysis.critical?.high !== undefined && r.value > r.analysis.critical.high
        ? 'HH'
        : 'LL'
      : 'N';
    records.push(
      `R|${i + 1}|^^^${r.analysis.astmCode}|${r.value}|${r.analysis.unit}||${flag}||${r.correctedFrom === undefined ? 'F' : 'C'}||||${astmLocalTime(o.issued)}`,
    );
  });
  records.push('L|1|N');
  return records;
}

/** A deliberately broken HL7 message (MSH-9 missing) for the fault injector: the hub must refuse it with a NAK. */
export function brokenOru(controlId: string): string {
  return [
    `MSH|^~\\&|${DEMO_LIS.application}|${DEMO_LIS.facility}|${DEMO_LIS.hub}|${DEMO_LIS.hubFacility}|20261129120000||`,
    `PID|1||${controlId}`,
    '',
  ].join('\r');
}
