/**
 * "Silence longer than normal" for a sender or analyzer: normal is the mean gap between its
 * messages over the look-back window; a sender is silent when its last message is older than
 * `factor` normal gaps and at least `minSilenceMs` (a sender of one message a day is not late
 * after a minute); a sender with nothing for a whole window is silent. Pure; the figures come
 * from the inbox tables.
 */
export interface SilenceSettings {
  readonly windowMs: number;
  readonly factor: number;
  readonly minSilenceMs: number;
}

export const DEFAULT_SILENCE: SilenceSettings = { windowMs: 24 * 3600_000, factor: 5, minSilenceMs: 15 * 60_000 };

export interface SilenceVerdict {
  /** Mean gap between messages in the window (ms), null with fewer than two. */
  readonly normalGapMs: number | null;
  readonly silentForMs: number | null;
  readonly silent: boolean;
}

export function silenceVerdict(
  messagesInWindow: number,
  lastAt: number | null,
  now: number,
  s: SilenceSettings = DEFAULT_SILENCE,
): SilenceVerdict {
  const silentForMs = lastAt === null ? null : Math.max(0, now - lastAt);
  const normalGapMs = messagesInWindow >= 2 ? s.windowMs / messagesInWindow : null;
  // Nothing for a whole window from a sender seen before is silence whatever its normal pace.
  const silent =
    silentForMs !== null &&
    (silentForMs > s.windowMs ||
      (normalGapMs !== null && silentForMs > Math.max(s.factor * normalGapMs, s.minSilenceMs)));
  return { normalGapMs, silentForMs, silent };
}
