import assert from 'node:assert/strict';
import { test } from 'node:test';
import { freshRepo, testDialects } from '../../test/support/dialects.ts';
import { simulateOrders } from '../../test/support/ops-simulation.ts';
import type { BottleneckAlert } from './bottleneck-monitor.ts';
import { BottleneckMonitor } from './bottleneck-monitor.ts';
import { IndicatorState } from './indicator-state.ts';
import { DEFAULT_OPERATIONS_CONFIG } from './operations-config.ts';

const DAY0 = Date.parse('2026-11-02T00:00:00Z');
const FIVE_MIN = 5 * 60_000;

/**
 * Plays simulated order timelines into the real indicator state (database) in 5-minute steps of
 * an injected clock, ticking the detector at each step; returns the alerts raised.
 */
async function play(
  dialect: 'sqlite' | 'postgres',
  hours: number,
  slowdown?: { section: string; from: number; factor: number },
) {
  const repo = await freshRepo(dialect);
  try {
    const config = DEFAULT_OPERATIONS_CONFIG;
    const state = new IndicatorState(repo.db, config);
    const monitor = new BottleneckMonitor(repo.db, () => config);
    state.onStageMove = (m) => monitor.move(m);
    const inputs = simulateOrders({ seed: 11, start: DAY0, hours, sections: ['S1', 'S2'], slowdown });
    const raised: BottleneckAlert[] = [];
    let i = 0;
    for (let now = DAY0 + FIVE_MIN; now <= DAY0 + hours * 3_600_000; now += FIVE_MIN) {
      const batch = [];
      while (i < inputs.length && inputs[i]!.at <= now) batch.push(inputs[i++]!);
      await state.apply(batch);
      raised.push(...(await monitor.tick(now)).raised);
    }
    return { raised, monitor };
  } finally {
    await repo.close();
  }
}

for (const dialect of await testDialects()) {
  test(`${dialect}: two normal days with a morning rush raise no bottleneck alert`, async () => {
    const { raised } = await play(dialect, 48);
    assert.deepEqual(
      raised.map((a) => a.message),
      [],
    );
  });

  test(`${dialect}: analysis slowing fourfold in one section raises an alert naming stage, section and size within an hour, from the queue outgrowing its arrivals`, async () => {
    const from = DAY0 + 34 * 3_600_000; // day 2, 10:00 UTC (after a day of baseline)
    const { raised } = await play(dialect, 40, { section: 'S1', from, factor: 4 });
    assert.ok(raised.length > 0, 'an alert is raised');
    const first = raised[0]!;
    assert.equal(first.section, 'S1');
    assert.equal(first.stage, 'received', 'the queue waiting for analysis');
    const delayMin = (Date.parse(first.raisedAt) - from) / 60_000;
    assert.ok(delayMin > 0 && delayMin <= 60, `raised ${delayMin} min after the slowdown began`);
    assert.ok(first.queue >= 10, first.message);
    assert.equal(first.cause, 'queue', first.message);
    assert.match(first.message, /would wait at the normal pace/);
    assert.match(first.message, /stage 'received' in section S1/);
    assert.ok(
      raised.every((a) => a.section === 'S1'),
      'the healthy section raises nothing',
    );
  });
}
