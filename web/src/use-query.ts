/**
 * One asynchronous load per view section: its own loading and error state, cancelled (AbortSignal)
 * when the inputs change or the view closes, so a slow query never blocks the rest of a screen.
 * `reload()` refreshes in the background (the old data stays on screen until the new arrives).
 */
import { type DependencyList, useCallback, useEffect, useRef, useState } from 'react';

export interface Query<T> {
  readonly data?: T;
  readonly error?: Error;
  readonly loading: boolean;
  reload(): void;
}

export function useQuery<T>(load: ((signal: AbortSignal) => Promise<T>) | undefined, deps: DependencyList): Query<T> {
  const [state, setState] = useState<{ data?: T; error?: Error; loading: boolean }>({ loading: Boolean(load) });
  const [round, setRound] = useState(0);
  // A reload keeps showing the data it refreshes; new inputs start from nothing.
  const keep = useRef(false);
  // biome-ignore lint/correctness/useExhaustiveDependencies: the caller's deps decide when to reload
  useEffect(() => {
    if (!load) return;
    const ctl = new AbortController();
    const refresh = keep.current;
    keep.current = false;
    setState((s) => (refresh ? { ...s, loading: true, error: undefined } : { loading: true }));
    load(ctl.signal).then(
      (data) => {
        if (!ctl.signal.aborted) setState({ data, loading: false });
      },
      (error: unknown) => {
        if (!ctl.signal.aborted)
          setState({ error: error instanceof Error ? error : new Error(String(error)), loading: false });
      },
    );
    return () => ctl.abort();
  }, [...deps, round]);
  const reload = useCallback(() => {
    keep.current = true;
    setRound((r) => r + 1);
  }, []);
  return { ...state, reload };
}
