import { createHash } from 'node:crypto';
import type { Observation, Patient } from '@medplum/fhirtypes';
import {
  ageAdjustedDDimerCutoff,
  anionGap,
  type Code,
  codeKey,
  type DerivedDefinition,
  egfrCkdEpi2021,
  fib4,
  type RuleSet,
} from '../core/results/index.ts';
import { isVerified, type ResultContext, valueIn } from './result-context.ts';
import { ageInYears, codesOf, DERIVED_TAG_SYSTEM, effectiveOf, RULE_SET_TAG_SYSTEM } from './result-facts.ts';

const has = (o: Observation, c: Code) => codesOf(o).some((x) => codeKey(x) === codeKey(c));

/** The inputs of a derived value, found around the trigger (same specimen, or the patient's within the window). */
async function inputsFor(
  def: DerivedDefinition,
  trigger: Observation,
  ctx: ResultContext,
  verifiedInBatch: ReadonlySet<string>,
): Promise<Observation[] | undefined> {
  const effective = effectiveOf(trigger, 0);
  const found: Observation[] = [];
  for (const code of def.inputs) {
    if (has(trigger, code)) {
      found.push(trigger);
      continue;
    }
    const pool =
      def.windowHours === 0
        ? (await ctx.specimenResults(trigger.specimen?.reference)).filter((o) => has(o, code))
        : trigger.subject?.reference
          ? await ctx.history(
              trigger.subject.reference,
              code,
              effective + 1,
              effective - def.windowHours * 3_600_000,
              1,
            )
          : [];
    const input = pool.find((o) => isVerified(o, verifiedInBatch));
    if (!input) return undefined;
    found.push(input);
  }
  return found;
}

/** The value of a derived definition from its inputs (in the rule set's units) and the patient, with a note. */
function compute(
  def: DerivedDefinition,
  rules: RuleSet,
  inputs: Observation[],
  patient: Patient | undefined,
  at: number,
): { value: number; note?: string } | undefined {
  const unitOf = (c: Code) => rules.analyses.find((a) => codeKey(a.code) === codeKey(c))?.unit ?? '';
  const v = inputs.map((o, i) => valueIn(o, unitOf(def.inputs[i]!)));
  if (v.some((x) => x === undefined)) return undefined;
  const [a, b, c] = v as number[];
  const age = ageInYears(patient?.birthDate, at);
  const sex = patient?.gender === 'male' || patient?.gender === 'female' ? patient.gender : undefined;
  switch (def.kind) {
    case 'egfr-ckd-epi-2021': {
      if (age === undefined || !sex) return undefined;
      const e = egfrCkdEpi2021(a!, age, sex);
      return e === undefined ? undefined : { value: e };
    }
    case 'anion-gap':
      return { value: anionGap(a!, b!, c!) };
    case 'fib-4': {
      if (age === undefined) return undefined;
      const f = fib4(age, a!, b!, c!);
      return f === undefined ? undefined : { value: f };
    }
    case 'age-adjusted-d-dimer-cutoff': {
      if (age === undefined) return undefined;
      const cutoff = ageAdjustedDDimerCutoff(age);
      const above = a! >= cutoff;
      return {
        value: cutoff,
        note: `D-dimer ${a} mg/L FEU is ${above ? 'at or above' : 'below'} the age-adjusted cut-off ${cutoff} / D-dimer ${a} mg/L FEU er ${above ? 'på eller over' : 'under'} den aldersjusterede grænse ${cutoff}`,
      };
    }
  }
}

/**
 * Derived Observations (status final, `derivedFrom` its inputs) that a verified result completes.
 * The id is a hash of the definition and the input ids, so reprocessing writes the same resource.
 */
export async function derivedObservations(
  rules: RuleSet,
  trigger: Observation,
  ctx: ResultContext,
  verifiedInBatch: ReadonlySet<string>,
): Promise<Observation[]> {
  const out: Observation[] = [];
  for (const def of rules.derived) {
    if (!def.inputs.some((c) => has(trigger, c))) continue;
    const inputs = await inputsFor(def, trigger, ctx, verifiedInBatch);
    if (!inputs) continue;
    const at = Math.max(...inputs.map((o) => effectiveOf(o, 0)));
    const patient = await ctx.patient(trigger);
    const r = compute(def, rules, inputs, patient, at);
    if (!r) continue;
    const key = createHash('sha1')
      .update(`${def.kind}|${inputs.map((o) => o.id).join('|')}`)
      .digest('hex');
    out.push({
      resourceType: 'Observation',
      id: `rp-${key.slice(0, 32)}`,
      meta: {
        tag: [
          { system: DERIVED_TAG_SYSTEM, code: def.kind },
          { system: RULE_SET_TAG_SYSTEM, code: rules.version },
        ],
      },
      status: 'final',
      category: trigger.category,
      code: { coding: [{ ...def.code }], text: def.code.display },
      subject: trigger.subject,
      ...(def.windowHours === 0 && trigger.specimen ? { specimen: trigger.specimen } : {}),
      effectiveDateTime: new Date(at).toISOString(),
      valueQuantity: { value: r.value, unit: def.unit, system: 'http://unitsofmeasure.org', code: def.unit },
      derivedFrom: inputs.map((o) => ({ reference: `Observation/${o.id}` })),
      note: [{ text: `${def.source}${r.note ? `. ${r.note}` : ''}` }],
    });
  }
  return out;
}
