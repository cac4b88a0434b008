/**
 * Micro-benchmark (not a test): validations per second of a typical lab Observation on one core.
 * Run: `npx node src/core/fhir/validator/validator.bench.ts`.
 */

import { getValidator } from './index.ts';
import { labObservation } from './lab-observation.fixture.ts';

const loadStart = performance.now();
const validator = getValidator();
const loadMs = performance.now() - loadStart;

// Parsed JSON, as a server sees it after JSON.parse.
const observation: unknown = JSON.parse(JSON.stringify(labObservation()));
const size = JSON.stringify(observation).length;
if (validator.validate(observation).length > 0) throw new Error('benchmark resource should be valid');

function run(iterations: number): number {
  let issues = 0;
  for (let i = 0; i < iterations; i++) issues += validator.validate(observation).length;
  return issues;
}

run(20_000); // warm-up: let the JIT optimise the walk
const rounds: number[] = [];
for (let round = 0; round < 5; round++) {
  const iterations = 100_000;
  const start = performance.now();
  run(iterations);
  rounds.push(iterations / ((performance.now() - start) / 1000));
}
rounds.sort((a, b) => a - b);
const median = rounds[Math.floor(rounds.length / 2)] ?? 0;
console.log(`definitions loaded and compiled in ${loadMs.toFixed(0)} ms`);
console.log(
  `lab Observation (${size} bytes JSON): ${Math.round(median).toLocaleString('en')} validations/s (median of 5)`,
);
