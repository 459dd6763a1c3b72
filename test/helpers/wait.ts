/**
 * Deadline-based waits for work that finishes in the background (a blob commit, a refresh, a log
 * line, an unmount, a daemon exit). A test never asserts such work the moment the foreground call
 * returns: it waits for it with a deadline and, past the deadline, fails saying what it waited for.
 */
export interface WaitOptions {
  /** give up after this long; default 15 s (generous: the CI machine is shared and can be slow) */
  timeoutMs?: number;
  /** pause between checks; default 25 ms */
  stepMs?: number;
}

const DEFAULT_TIMEOUT_MS = 15_000;

/** Resolves once check() is true; throws "timed out after N s waiting for <what>" otherwise. */
export async function waitUntil(
  what: string,
  check: () => boolean | Promise<boolean>,
  opts: WaitOptions = {},
): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() >= until) break;
    await new Promise((r) => setTimeout(r, opts.stepMs ?? 25));
  }
  // One last look: the deadline may have passed while the previous check was running.
  if (await check()) return;
  throw new Error(`timed out after ${(timeoutMs / 1000).toFixed(1)} s waiting for ${what}`);
}

/** Waits until get() returns a value other than undefined, and returns it. */
export async function waitForValue<T>(
  what: string,
  get: () => T | undefined | Promise<T | undefined>,
  opts: WaitOptions = {},
): Promise<T> {
  let value: T | undefined;
  await waitUntil(
    what,
    async () => {
      value = await get();
      return value !== undefined;
    },
    opts,
  );
  return value as T;
}
