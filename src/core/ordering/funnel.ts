/**
 * Funnel-plot control limits for a proportion (Spiegelhalter DJ, "Funnel plots for comparing
 * institutional performance", Stat Med 2005;24:1185–1202): for a unit with n cases and a target
 * proportion p0, the limits are p0 ± z·√(p0(1−p0)/n), clipped to [0, 1]; z = 1.96 (95 %) and
 * 3.09 (99.8 %). A unit outside the 99.8 % limits differs from the target more than chance explains,
 * whatever its size.
 */
export interface FunnelLimits {
  readonly n: number;
  readonly lower95: number;
  readonly upper95: number;
  readonly lower998: number;
  readonly upper998: number;
}

export const Z95 = 1.96;
export const Z998 = 3.09;

export function funnelLimits(p0: number, n: number): FunnelLimits {
  if (n <= 0) return { n, lower95: 0, upper95: 1, lower998: 0, upper998: 1 };
  const se = Math.sqrt((p0 * (1 - p0)) / n);
  const clamp = (x: number) => Math.min(1, Math.max(0, x));
  return {
    n,
    lower95: clamp(p0 - Z95 * se),
    upper95: clamp(p0 + Z95 * se),
    lower998: clamp(p0 - Z998 * se),
    upper998: clamp(p0 + Z998 * se),
  };
}

/** Where a unit's observed proportion lies against its limits. */
export function funnelPosition(
  observed: number,
  l: FunnelLimits,
): 'above-998' | 'above-95' | 'within' | 'below-95' | 'below-998' {
  if (observed > l.upper998) return 'above-998';
  if (observed > l.upper95) return 'above-95';
  if (observed < l.lower998) return 'below-998';
  if (observed < l.lower95) return 'below-95';
  return 'within';
}
