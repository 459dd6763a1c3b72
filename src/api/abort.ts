import { AbortedError } from '../core/errors.js';

/** `p`, or AbortedError as soon as `signal` fires (the work behind `p` is left to finish or fail). */
export function raceAbort<T>(p: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) return Promise.reject(new AbortedError());
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new AbortedError());
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

/**
 * A controller that aborts when any of `parents` does, detached again by `dispose()`. Used instead of
 * AbortSignal.any() so a mount-lifetime parent signal does not accumulate one dependant per request.
 */
export function linkedController(...parents: (AbortSignal | undefined)[]): {
  controller: AbortController;
  dispose: () => void;
} {
  const controller = new AbortController();
  const live = parents.filter((p): p is AbortSignal => p !== undefined);
  const onAbort = (): void => controller.abort();
  for (const p of live) {
    if (p.aborted) controller.abort();
    else p.addEventListener('abort', onAbort, { once: true });
  }
  return {
    controller,
    dispose: () => {
      for (const p of live) p.removeEventListener('abort', onAbort);
    },
  };
}

/**
 * Runs `fn` under `limit`. Cancelling while still queued rejects at once (the queued task then
 * exits without work); once `fn` runs, cancelling is left to `fn`, so a caller never sees the call
 * end while `fn` may still be using its callbacks (e.g. a download's sink).
 */
export function runLimited<T>(
  limit: (fn: () => Promise<T>) => Promise<T>,
  fn: () => Promise<T>,
  signal?: AbortSignal,
): Promise<T> {
  if (!signal) return limit(fn);
  if (signal.aborted) return Promise.reject(new AbortedError());
  return new Promise<T>((resolve, reject) => {
    let started = false;
    const onAbort = (): void => {
      if (!started) reject(new AbortedError());
    };
    signal.addEventListener('abort', onAbort, { once: true });
    limit(() => {
      started = true;
      return signal.aborted ? Promise.reject(new AbortedError()) : fn();
    })
      .then(resolve, reject)
      .finally(() => signal.removeEventListener('abort', onAbort));
  });
}
