/**
 * Lets pending I/O callbacks (HTTP requests, socket data) run before the caller goes on. A loop
 * that works through a backlog awaits this between rounds: with SQLite's synchronous calls, awaits
 * alone resolve as microtasks and would keep I/O waiting until the whole backlog is done.
 */
export function yieldToIo(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve));
}

/**
 * Cooperative time slices for background work on the server's thread: {@link tick} yields to
 * pending I/O once `ms` have passed since the last yield, so a long batch (a consumer planning a
 * few hundred results on SQLite's synchronous calls) holds the event loop for at most about `ms`
 * at a time instead of its whole duration, and requests are answered in between.
 */
export class IoSlice {
  readonly #ms: number;
  #since = performance.now();

  constructor(ms = 2) {
    this.#ms = ms;
  }

  /** Yields to pending I/O when the current slice is used up; otherwise resolves at once. */
  async tick(): Promise<void> {
    if (performance.now() - this.#since < this.#ms) return;
    await yieldToIo();
    this.#since = performance.now();
  }
}

/**
 * The background loop of a worker that polls the database (inbox processors, outbox consumers,
 * the delivery queue): run `step` again while it says more work is waiting (after letting pending
 * I/O run), otherwise wait `pollMs` or until {@link PollLoop.notify}; a throw goes to `onError` and
 * the loop goes on.
 *
 * "More is waiting" means a full batch, not merely some work: a consumer that caught up with a
 * steady trickle (results arriving one by one) and polled again at once would poll hundreds of
 * times a second for one or two events each, and pay a poll's queries for every event.
 */
export class PollLoop {
  readonly #step: () => Promise<boolean>;
  readonly #pollMs: number;
  readonly #onError: ((err: unknown) => void) | undefined;
  #running = false;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;

  /** `step` resolves true when more work is waiting, e.g. its batch was full (then it runs again without waiting). */
  constructor(step: () => Promise<boolean>, pollMs: number, onError?: (err: unknown) => void) {
    this.#step = step;
    this.#pollMs = pollMs;
    this.#onError = onError;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = (async () => {
      while (this.#running) {
        let busy = false;
        try {
          busy = await this.#step();
        } catch (err) {
          this.#onError?.(err);
        }
        // Busy: yield to the event loop's I/O before the next step. On SQLite (synchronous calls)
        // a backlog would otherwise run step after step in microtasks and no HTTP request would
        // be answered until the backlog is gone.
        if (busy) await yieldToIo();
        else if (this.#running) {
          await new Promise<void>((resolve) => {
            const t = setTimeout(resolve, this.#pollMs);
            this.#wake = () => {
              clearTimeout(t);
              resolve();
            };
          });
          this.#wake = undefined;
        }
      }
    })();
  }

  /** Work arrived: look now instead of at the next poll. */
  notify(): void {
    this.#wake?.();
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#wake?.();
    await this.#loop;
  }
}
