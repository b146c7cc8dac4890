import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Simulated time for the handler's real code: a discrete-event scheduler. Every mocked AWS call
 * waits on a timer here; when nothing else can run (the microtask queue is drained), the clock
 * jumps to the next timer. While installed, `Date.now()` and `new Date()` read this clock and
 * `AbortSignal.timeout(ms)` fires at simulated `now + ms`, so the handler's TimeBudget, its
 * send deadline and the ledger's leases all run on simulated time. The handler's own CPU time
 * counts as zero.
 *
 * Each Lambda invocation runs inside `owner.run(id, ...)`: its timers carry the id, and when the
 * invocation is killed at its timeout those timers are dropped, so its code never runs again
 * (as when Lambda stops the runtime).
 */

interface Timer {
  at: number;
  seq: number;
  owner: string | undefined;
  fire: () => void;
  cancelled: boolean;
}

const RealDate = Date;
const realTimeout = AbortSignal.timeout.bind(AbortSignal);

export class Simulation {
  now: number;
  readonly owner = new AsyncLocalStorage<string>();
  private readonly heap: Timer[] = [];
  private seq = 0;
  private readonly killed = new Set<string>();
  private installed = false;

  constructor(start: number) {
    this.now = start;
  }

  /** Resolves after `ms` of simulated time; rejects like the SDK if `signal` aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(abortError(signal));
        return;
      }
      const timer = this.at(this.now + Math.max(0, ms), () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      });
      const onAbort = () => {
        timer.cancelled = true;
        reject(abortError(signal!));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  at(at: number, fire: () => void): Timer {
    const timer: Timer = {
      at,
      seq: this.seq++,
      owner: this.owner.getStore(),
      fire,
      cancelled: false,
    };
    this.push(timer);
    return timer;
  }

  /** The invocation is gone: none of its pending timers will fire. */
  kill(owner: string): void {
    this.killed.add(owner);
  }

  /** Runs until `main` settles; the clock only moves when nothing else can run. */
  async run<T>(main: Promise<T>, maxSimulatedMs: number): Promise<T> {
    let done = false;
    let failed: unknown;
    let value: T | undefined;
    main.then(
      (v) => {
        done = true;
        value = v;
      },
      (e: unknown) => {
        done = true;
        failed = e ?? new Error('rejected');
      },
    );
    const limit = this.now + maxSimulatedMs;
    for (;;) {
      await drain();
      if (done) break;
      const next = this.pop();
      if (!next) throw new Error('simulation deadlock: nothing scheduled and the run is not done');
      if (next.cancelled || (next.owner !== undefined && this.killed.has(next.owner))) continue;
      if (next.at > limit) throw new Error(`simulation ran past ${maxSimulatedMs} ms`);
      this.now = Math.max(this.now, next.at);
      next.fire();
    }
    if (failed !== undefined) throw failed;
    return value as T;
  }

  /** Date.now(), new Date() and AbortSignal.timeout() on simulated time. */
  install(): void {
    if (this.installed) return;
    this.installed = true;
    const clock = () => this.now;
    class SimulatedDate extends RealDate {
      constructor(...args: unknown[]) {
        if (args.length === 0) super(clock());
        else super(...(args as [number]));
      }
      static override now(): number {
        return clock();
      }
      static override [Symbol.hasInstance](value: unknown): boolean {
        return value instanceof RealDate;
      }
    }
    globalThis.Date = SimulatedDate as DateConstructor;
    AbortSignal.timeout = (ms: number) => {
      const controller = new AbortController();
      this.at(this.now + ms, () =>
        controller.abort(
          new DOMException('The operation was aborted due to timeout', 'TimeoutError'),
        ),
      );
      return controller.signal;
    };
  }

  uninstall(): void {
    if (!this.installed) return;
    this.installed = false;
    globalThis.Date = RealDate;
    AbortSignal.timeout = realTimeout;
  }

  private push(t: Timer): void {
    const h = this.heap;
    h.push(t);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private pop(): Timer | undefined {
    const h = this.heap;
    if (!h.length) return undefined;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l]!, h[m]!)) m = l;
        if (r < h.length && before(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}

const before = (x: Timer, y: Timer) => x.at < y.at || (x.at === y.at && x.seq < y.seq);

/** Lets every pending promise continuation run (nothing in the simulated path uses real I/O). */
function drain(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** What the SDK throws when a request's abortSignal fires. */
function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  const message = reason instanceof Error ? reason.message : 'Request aborted';
  return Object.assign(new Error(message), { name: 'AbortError' });
}
