import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { getValidator } from '../fhir/validator/index.ts';
import { CPR_SYSTEM, hasCprModulus11, parseCpr } from '../identity/index.ts';
import { ROLES } from '../security/roles.ts';
import {
  ACUTE_HOURS,
  CRITICAL_SHARE,
  DEMO_ANALYSES,
  DEMO_UTC_OFFSET_MS,
  type DemoOrder,
  demoAnalysis,
  demoPatient,
  demoPatientResource,
  deviceResources,
  encounterResource,
  faultWindow,
  GP_HOURS,
  LOCAL_ANALYSIS_SYSTEM,
  liveArrivals,
  liveEvent,
  orderResources,
  patientHistory,
  REGION_ORGANISATIONS,
  regionResources,
  staffResources,
  TURNAROUND,
} from './index.ts';

const END = Date.parse('2026-11-29T00:00:00Z');
const YEAR = 365.25 * 86_400_000;
const PATIENTS = 1500;

/** A seeded run: 1,500 patients with 5 years of history. */
function run(seed: number) {
  const orders: DemoOrder[] = [];
  const patients = [];
  for (let i = 0; i < PATIENTS; i++) {
    const p = demoPatient(seed, i, END);
    patients.push(p);
    orders.push(...patientHistory(seed, p, END - 5 * YEAR, END).orders);
  }
  return { patients, orders };
}
const { patients, orders } = run(7);
const localHour = (t: number) => new Date(t + DEMO_UTC_OFFSET_MS).getUTCHours();

/** Pearson chi-square of observed counts against expected proportions. */
function chiSquare(observed: readonly number[], weights: readonly number[]): number {
  const n = observed.reduce((a, b) => a + b, 0);
  const total = weights.reduce((a, b) => a + b, 0);
  let x2 = 0;
  observed.forEach((o, i) => {
    const e = (n * weights[i]!) / total;
    if (e > 0) x2 += (o - e) ** 2 / e;
  });
  return x2;
}

/** Kolmogorov–Smirnov distance between a sample and a log-normal CDF (median, sigma). */
function ksLogNormal(sample: readonly number[], median: number, sigma: number): number {
  const erf = (x: number) => {
    // Abramowitz–Stegun 7.1.26 (|error| < 1.5e-7).
    const t = 1 / (1 + 0.3275911 * Math.abs(x));
    const y =
      1 -
      ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) *
        t *
        Math.exp(-x * x);
    return x >= 0 ? y : -y;
  };
  const cdf = (x: number) => 0.5 * (1 + erf(Math.log(x / median) / (sigma * Math.SQRT2)));
  const s = [...sample].sort((a, b) => a - b);
  let d = 0;
  s.forEach((x, i) => {
    d = Math.max(d, Math.abs(cdf(x) - i / s.length), Math.abs(cdf(x) - (i + 1) / s.length));
  });
  return d;
}

describe('demo generator', () => {
  it('is deterministic: the same seed gives the same patients, orders and live stream; another seed differs', () => {
    const again = run(7);
    assert.deepEqual(
      again.orders.slice(0, 300).map((o) => orderResources(o)),
      orders.slice(0, 300).map((o) => orderResources(o)),
    );
    const other = run(8);
    assert.notDeepEqual(
      other.orders.slice(0, 50).map((o) => o.results.map((r) => r.value)),
      orders.slice(0, 50).map((o) => o.results.map((r) => r.value)),
    );
    const live = (s: number) =>
      Array.from({ length: 50 }, (_, n) => liveEvent(s, n, { patientCount: 300, at: END + n * 60_000, runId: 'x' }));
    assert.deepEqual(live(3), live(3));
    const a = liveArrivals(3, END, 300);
    const b = liveArrivals(3, END, 300);
    for (let i = 0; i < 100; i++) assert.equal(a.next().value, b.next().value);
    assert.deepEqual(faultWindow(3, END), faultWindow(3, END + 1000));
  });

  it('CPR numbers follow the synthetic scheme: valid format, fail modulus 11, never 1 January, unique; ~1 % D-eCPR only', () => {
    const seen = new Set<string>();
    let ecprOnly = 0;
    for (const p of patients) {
      const parsed = parseCpr(p.cpr);
      assert.ok(parsed.ok, p.cpr);
      assert.equal(hasCprModulus11(p.cpr), false, p.cpr);
      assert.notEqual(p.cpr.slice(0, 4), '0101');
      assert.ok(!seen.has(p.cpr));
      seen.add(p.cpr);
      if (!p.identifier.some((i) => i.system === CPR_SYSTEM)) ecprOnly++;
      for (const i of p.identifier.filter((x) => x.system !== CPR_SYSTEM))
        assert.match(i.value, /^\d{6}[0-9A-Z][A-Z]{2}\d$/);
    }
    // Binomial(1500, 0.01): mean 15, sd ≈ 3.9.
    assert.ok(ecprOnly >= 4 && ecprOnly <= 30, `${ecprOnly} patients with only a D-eCPR`);
  });

  it('workload is diurnal: emergency arrivals follow ACUTE_HOURS and GP samples GP_HOURS (chi-square, df 23)', () => {
    const acute = Array(24).fill(0) as number[];
    const gp = Array(24).fill(0) as number[];
    for (const o of orders) {
      if (o.kind !== 'lab') continue;
      if (o.requester.startsWith('demo-gp-')) gp[localHour(o.authored)]!++;
      else if (o.priority === 'stat' && o.what === 'acute-basic') acute[localHour(o.authored - 12 * 60_000)]!++;
    }
    // GP samples: never outside 08–15.
    assert.equal(gp.slice(0, 8).reduce((a, b) => a + b, 0) + gp.slice(16).reduce((a, b) => a + b, 0), 0);
    const gpX2 = chiSquare(gp.slice(8, 16), GP_HOURS.slice(8, 16));
    assert.ok(gpX2 < 24.3, `GP chi-square ${gpX2.toFixed(1)} (df 7, p = 0.001 at 24.3)`);
    // Emergency: the first order is 5–20 min after arrival, shifted back ~12 min above.
    const acuteX2 = chiSquare(acute, ACUTE_HOURS);
    process.stdout.write(
      `# chi-square GP ${gpX2.toFixed(1)}, acute ${acuteX2.toFixed(1)} (n = ${acute.reduce((a, b) => a + b, 0)}); acute against a flat day ${chiSquare(acute, Array(24).fill(1)).toFixed(0)}\n`,
    );
    assert.ok(acuteX2 < 49.7, `acute chi-square ${acuteX2.toFixed(1)} (df 23, p = 0.001 at 49.7)`);
    assert.ok(acute[11]! > 2 * acute[3]!, 'more arrivals late morning than at night');
  });

  it('turnaround: receipt → result of routine GP samples is log-normal as configured (KS distance < 0.05)', () => {
    const gp = orders.filter((o) => o.requester.startsWith('demo-gp-'));
    const minutes = gp.map((o) => (o.issued - o.received) / 60_000);
    const [m, s] = TURNAROUND.analysis.routine;
    const d = ksLogNormal(minutes, m, s);
    process.stdout.write(
      `# KS ${d.toFixed(3)} (n = ${minutes.length}); against the stat model ${ksLogNormal(minutes, ...TURNAROUND.analysis.stat).toFixed(3)}\n`,
    );
    assert.ok(d < 0.05, `KS ${d.toFixed(3)} on ${minutes.length} samples`);
    for (const o of orders)
      assert.ok(o.authored <= o.collected && o.collected <= o.received && o.received < o.issued, o.id);
    const stat = orders
      .filter((o) => o.priority === 'stat')
      .map((o) => (o.issued - o.received) / 60_000)
      .sort((a, b) => a - b);
    assert.ok(stat[Math.floor(stat.length / 2)]! < 60, 'stat (Haste) median under 1 h');
  });

  it('chronic patients get repeated HbA1c every 2–6 months; some repeats are over-ordering inside 2 months', () => {
    const diabetic = patients.filter((p) => p.conditions.has('diabetes'));
    assert.ok(diabetic.length > 60, `${diabetic.length} diabetic patients`);
    const gaps: number[] = [];
    let over = 0;
    let hba1c = 0;
    for (const p of diabetic) {
      const mine = orders.filter((o) => o.patient.index === p.index && o.what === 'hba1c' && !o.overOrder);
      hba1c += mine.length;
      over += orders.filter((o) => o.patient.index === p.index && o.what === 'hba1c' && o.overOrder).length;
      for (let i = 1; i < mine.length; i++) gaps.push((mine[i]!.authored - mine[i - 1]!.authored) / 86_400_000);
    }
    const inside = gaps.filter((g) => g >= 80 && g <= 190).length / gaps.length;
    assert.ok(inside > 0.9, `${(inside * 100).toFixed(0)} % of HbA1c intervals within 2–6 months`);
    const share = over / hba1c;
    assert.ok(share > 0.04 && share < 0.13, `over-ordering share ${share.toFixed(3)}`);
    const diabeticValues = orders
      .filter((o) => o.what === 'hba1c' && o.patient.conditions.has('diabetes'))
      .flatMap((o) => o.results.map((r) => r.value));
    const median = diabeticValues.sort((a, b) => a - b)[Math.floor(diabeticValues.length / 2)]!;
    assert.ok(median > 48, `diabetic HbA1c median ${median} above the 48 mmol/mol cut-off`);
  });

  it('acute admissions bring troponin pairs 1–3 h apart, D-dimer, CRP and imaging with reports', () => {
    const byEncounter = new Map<string, DemoOrder[]>();
    for (const o of orders) if (o.encounter) byEncounter.set(o.encounter, [...(byEncounter.get(o.encounter) ?? []), o]);
    assert.ok(byEncounter.size > 100, `${byEncounter.size} encounters`);
    let pairs = 0;
    for (const list of byEncounter.values()) {
      const trop = list.filter((o) => o.what === 'troponin');
      if (trop.length === 2) {
        pairs++;
        const h = (trop[1]!.authored - trop[0]!.authored) / 3_600_000;
        assert.ok(h >= 1 && h <= 3, `troponin repeat after ${h} h`);
      }
    }
    assert.ok(pairs > 20);
    assert.ok(orders.some((o) => o.what === 'ddimer'));
    const imaging = orders.filter((o) => o.kind === 'imaging');
    assert.ok(imaging.length > 30);
    for (const o of imaging) assert.ok(o.conclusion && o.conclusion.length > 10);
  });

  it('critical values and corrections occur at about their configured shares; values are flagged', () => {
    const withLimits = orders.flatMap((o) => o.results).filter((r) => r.analysis.critical);
    const critical = withLimits.filter((r) => r.critical).length / withLimits.length;
    assert.ok(
      critical > CRITICAL_SHARE * 0.5 && critical < CRITICAL_SHARE * 4,
      `critical share ${critical.toFixed(4)}`,
    );
    const corrected = orders.flatMap((o) => o.results).filter((r) => r.correctedFrom !== undefined).length;
    assert.ok(corrected > 0);
    const res = orders.filter((o) => o.results.some((r) => r.critical)).flatMap((o) => orderResources(o));
    assert.ok(res.some((r) => JSON.stringify(r.interpretation ?? '').match(/"HH"|"LL"/)));
  });

  it('codes are only catalogue codes; stage timestamps and performer sections are on the resources', () => {
    const codes = new Set(DEMO_ANALYSES.map((a) => `${a.system}|${a.code}`));
    const sections = new Set(
      REGION_ORGANISATIONS.filter((u) => u.role === 'lab' || u.role === 'imaging').map((u) => `Organization/${u.code}`),
    );
    for (const o of orders.slice(0, 2000)) {
      for (const r of orderResources(o)) {
        if (r.resourceType === 'Observation') {
          const c = (r.code as { coding: { system: string; code: string }[] }).coding[0]!;
          assert.ok(codes.has(`${c.system}|${c.code}`), `${c.system}|${c.code}`);
          assert.ok(typeof r.issued === 'string');
        }
        if (r.resourceType === 'ServiceRequest') assert.ok(typeof r.authoredOn === 'string');
        if (r.resourceType === 'Specimen') {
          assert.ok(typeof r.receivedTime === 'string');
          assert.ok(typeof (r.collection as { collectedDateTime: string }).collectedDateTime === 'string');
        }
        if (r.resourceType === 'DiagnosticReport') {
          assert.ok(sections.has((r.performer as { reference: string }[])[0]!.reference));
        }
        if (r.resourceType === 'ImagingStudy') assert.ok(typeof r.started === 'string');
      }
    }
    assert.equal(demoAnalysis('ddimer').system, LOCAL_ANALYSIS_SYSTEM);
  });

  it('staff cover every professional role of the access model; every staff unit is in the region', () => {
    const staff = staffResources(1).filter((r) => r.resourceType === 'PractitionerRole');
    const roles = new Set(staff.map((r) => (r.code as { coding: { code: string }[] }[])[0]!.coding[0]!.code));
    const professional = Object.keys(ROLES).filter((k) => k !== 'citizen' && k !== 'integration');
    assert.deepEqual([...roles].sort(), professional.sort());
    const units = new Set(REGION_ORGANISATIONS.map((u) => `Organization/${u.code}`));
    for (const r of staff) assert.ok(units.has((r.organization as { reference: string }).reference));
  });

  it('every generated resource is valid FHIR R4 (the validator the API uses; seeding bypasses the API)', () => {
    const sample = [
      ...regionResources(),
      ...staffResources(1),
      ...deviceResources(),
      ...patients.slice(0, 200).map(demoPatientResource),
      ...orders.filter((o) => o.patient.index < 200).flatMap((o) => orderResources(o)),
      ...patients
        .slice(0, 200)
        .flatMap((p) => patientHistory(7, p, END - 5 * YEAR, END).encounters.map((e) => encounterResource(e, END))),
    ];
    const types = new Set(sample.map((r) => r.resourceType));
    for (const t of [
      'Organization',
      'Location',
      'Practitioner',
      'PractitionerRole',
      'Device',
      'Patient',
      'Encounter',
      'ServiceRequest',
      'Specimen',
      'Observation',
      'DiagnosticReport',
      'ImagingStudy',
    ]) {
      assert.ok(types.has(t), t);
    }
    const v = getValidator();
    for (const r of sample) {
      const errors = v.validate(r).filter((i) => i.severity === 'error');
      assert.deepEqual(errors, [], `${r.resourceType}/${r.id}`);
    }
  });
});
