import assert from 'node:assert/strict';
import { it } from 'node:test';
import { funnelLimits, funnelPosition } from './funnel.ts';

it('funnel limits follow p0 ± z·√(p0(1−p0)/n) (Spiegelhalter 2005) and narrow with n', () => {
  // p0 = 0.1, n = 100: se = 0.03 → 95 % limits 0.0412–0.1588, 99.8 % 0.0073–0.1927.
  const l = funnelLimits(0.1, 100);
  assert.ok(Math.abs(l.lower95 - 0.0412) < 1e-4 && Math.abs(l.upper95 - 0.1588) < 1e-4);
  assert.ok(Math.abs(l.lower998 - 0.0073) < 1e-4 && Math.abs(l.upper998 - 0.1927) < 1e-4);
  const big = funnelLimits(0.1, 10_000);
  assert.ok(big.upper95 - big.lower95 < l.upper95 - l.lower95);
  assert.equal(funnelPosition(0.25, l), 'above-998');
  assert.equal(funnelPosition(0.17, l), 'above-95');
  assert.equal(funnelPosition(0.1, l), 'within');
  assert.equal(funnelLimits(0.5, 0).upper998, 1);
});
