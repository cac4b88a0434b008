import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  DEFAULT_DETECTOR,
  type DetectorState,
  expectedQueue,
  initialDetector,
  stepDetector,
  WAIT_BINS,
  waitSurvival,
} from './bottleneck-detector.ts';

test('the survival of a learnt wait distribution and the queue it expects (hand-computed)', () => {
  // Two orders waited 1 minute, two waited 2 minutes.
  const waits = [0, 2, 2];
  assert.deepEqual(waitSurvival(waits), [1, 0.75, 0.25]);
  const s: DetectorState = { ...initialDetector(), waits };
  // One order arrived this minute, one a minute ago, two two minutes ago.
  const e = expectedQueue(s, [1, 1, 2]);
  assert.equal(e.mean, 1 + 0.75 + 2 * 0.25);
  assert.equal(e.variance, 0.75 * 0.25 + 2 * 0.25 * 0.75);
});

test('the queue statistic raises when orders stop leaving and stays quiet when the queue follows its arrivals', () => {
  // A stage whose orders wait 10 minutes, learnt from 400 departures.
  const waits = new Array(WAIT_BINS).fill(0);
  waits[10] = 400;
  const learnt: DetectorState = { ...initialDetector(), waits, waitsSeen: 400 };
  const arrivals = new Array(30).fill(1); // one order a minute for 30 minutes
  // Normal: the ten orders of the last ten minutes wait (ages 0–9, S = 1; age 10, S = 0.5).
  let s = learnt;
  for (let t = 0; t < 20; t++) {
    const step = stepDetector(s, { queue: 10, throughputPerHour: 60, meanAgeSeconds: 300, arrivalsByAge: arrivals });
    assert.equal(step.signal, undefined, `tick ${t}`);
    s = step.state;
  }
  assert.equal(s.cusum, 0);
  // Nothing leaves: every arrival of the last 30 minutes still waits.
  let raisedAt = -1;
  s = learnt;
  for (let t = 0; t < 10 && raisedAt < 0; t++) {
    const step = stepDetector(s, { queue: 30, throughputPerHour: 0, meanAgeSeconds: 900, arrivalsByAge: arrivals });
    if (step.signal === 'raise') {
      raisedAt = t;
      assert.equal(step.cause, 'queue');
    }
    s = step.state;
  }
  assert.ok(raisedAt >= 0 && raisedAt <= 2, `raised at tick ${raisedAt}`);
  // Not before the wait distribution has seen enough departures.
  const young: DetectorState = { ...learnt, waitsSeen: DEFAULT_DETECTOR.minWaits - 1 };
  const step = stepDetector(young, { queue: 30, throughputPerHour: 0, meanAgeSeconds: 900, arrivalsByAge: arrivals });
  assert.equal(step.signal, undefined);
});
