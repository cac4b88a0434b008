/**
 * Serialises runs of `run` and lets concurrent callers share one: a caller arriving while a run
 * is under way waits for the next run, which starts after it arrived (so whatever was committed
 * before the call is seen), and all callers waiting for that next run share it.
 */
export function coalesced(run: () => Promise<void>): () => Promise<void> {
  let tail: Promise<void> = Promise.resolve();
  let waiting: Promise<void> | undefined;
  return () => {
    if (waiting) return waiting;
    const next = tail.then(() => {
      waiting = undefined;
      return run();
    });
    waiting = next;
    tail = next.catch(() => undefined);
    return next;
  };
}
