/**
 * The background loop of a worker that polls the database (inbox processors, outbox consumers,
 * the delivery queue): run `step` again at once while it finds work, otherwise wait `pollMs` or
 * until {@link PollLoop.notify}; a throw goes to `onError` and the loop goes on.
 */
export class PollLoop {
  readonly #step: () => Promise<boolean>;
  readonly #pollMs: number;
  readonly #onError: ((err: unknown) => void) | undefined;
  #running = false;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;

  /** `step` resolves true when it found work (then it runs again without waiting). */
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
        if (!busy && this.#running) {
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
