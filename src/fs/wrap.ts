import type { Logger } from '../core/log.js';
import { errorMessage, WandbfsError } from '../core/errors.js';
import { Errno, errnoName, isRoutine } from './errno.js';
import { BadResultError, OpTimeoutError } from './errors.js';
import { IntegrityError } from '../blobs/errors.js';

/** fuse-native's callback: the first argument is always a number (errno ≤ 0, or a byte count for read). */
export type FuseCallback = (code: number, ...values: unknown[]) => void;

/**
 * How a handler's result becomes a reply:
 * - 'value': cb(0, value); the value must not be null/undefined (fuse-native hangs the caller on it)
 * - 'count': cb(n) with a non-negative integer byte count (read)
 * - 'values': cb(0, ...array) (readdir: names, stats)
 * - 'void':  cb(0)
 */
export type ReplyKind = 'value' | 'values' | 'count' | 'void';

export interface OpStats {
  ops: number;
  errors: Record<string, number>;
  timeouts: number;
  inFlight: number;
}

/** One per mount: every wrap() of that mount's handlers shares it (src/fs/mount.ts builds it). */
export interface WrapContext {
  log: Logger;
  stats: OpStats;
  /** Per-operation deadline in ms (null: none). A late result after the deadline is dropped. */
  deadlineMs(op: string): number | null;
  /** Error objects this mount has already logged; see alreadyReported(). */
  reported: WeakSet<object>;
}

/**
 * One log line per failure, not per FUSE op: a failed download rejects every waiting read with the
 * same error object (kernel readahead sends several), and the blob cache already logs integrity
 * failures itself, naming the digest. The set lives in the mount's context, not the module, so two
 * mounts in one process (tests) never silence each other.
 */
function alreadyReported(reported: WeakSet<object>, err: unknown): boolean {
  if (err instanceof IntegrityError) return true;
  if (typeof err !== 'object' || err === null) return false;
  if (reported.has(err)) return true;
  reported.add(err);
  return false;
}

export function newOpStats(): OpStats {
  return { ops: 0, errors: {}, timeouts: 0, inFlight: 0 };
}

/**
 * Wraps one async handler for fuse-native. Whatever the handler does (resolve, reject, throw
 * synchronously, return garbage, never settle) the kernel gets exactly one numeric reply, so no
 * caller is ever stuck in D-state. Failures are logged once with op, path and errno.
 *
 * `orphan` takes a result that arrives after the deadline's error was sent: the kernel never learnt
 * of it, so nobody else will ever free what it holds (an open's file handle is never released).
 */
export function wrap<A extends unknown[]>(
  ctx: WrapContext,
  op: string,
  kind: ReplyKind,
  fn: (...args: A) => Promise<unknown>,
  orphan?: (result: unknown) => Promise<void>,
): (...args: [...A, FuseCallback]) => void {
  return (...all: [...A, FuseCallback]) => {
    const cb = all[all.length - 1] as FuseCallback;
    const args = all.slice(0, -1) as unknown as A;
    const path = typeof args[0] === 'string' ? args[0] : '';
    ctx.stats.ops++;
    ctx.stats.inFlight++;
    let done = false;
    let timer: NodeJS.Timeout | undefined;

    const fail = (err: unknown): void => {
      if (done) return;
      const quiet = alreadyReported(ctx.reported, err);
      const name = errnoName(err);
      finish(Errno[name]);
      ctx.stats.errors[name] = (ctx.stats.errors[name] ?? 0) + 1;
      const fields = {
        op,
        path,
        errno: name,
        ...(err instanceof WandbfsError ? { code: err.code } : {}),
        error: errorMessage(err),
      };
      if (isRoutine(name) || quiet) ctx.log.debug('fuse op failed', fields);
      else ctx.log.warn('fuse op failed', fields);
    };

    const finish = (code: number, ...values: unknown[]): void => {
      if (done) return;
      done = true;
      ctx.stats.inFlight--;
      if (timer) clearTimeout(timer);
      try {
        cb(code, ...values);
      } catch (err) {
        // The native side rejected our reply; nothing more can be sent for this request.
        ctx.log.error('fuse reply rejected', { op, path, error: errorMessage(err) });
      }
    };

    const succeed = (result: unknown): void => {
      if (done) return orphan ? dropLate(ctx, op, path, () => orphan(result)) : undefined;
      if (kind === 'void') return finish(0);
      if (kind === 'count') {
        if (typeof result === 'number' && Number.isSafeInteger(result) && result >= 0) return finish(result);
        return fail(new BadResultError(op, 'an invalid byte count'));
      }
      if (kind === 'values') {
        if (Array.isArray(result)) return finish(0, ...(result as unknown[]));
        return fail(new BadResultError(op, 'no values'));
      }
      if (result === null || result === undefined) {
        return fail(new BadResultError(op, 'no value'));
      }
      finish(0, result);
    };

    const deadline = ctx.deadlineMs(op);
    if (deadline !== null) {
      timer = setTimeout(() => {
        ctx.stats.timeouts++;
        fail(new OpTimeoutError(op, path, deadline));
      }, deadline);
      // A safety net, not a reason to keep the process alive after the unmount.
      timer.unref();
    }

    try {
      fn(...args).then(succeed, fail);
    } catch (err) {
      fail(err);
    }
  };
}

/** Frees a result that came too late to be replied (see wrap's `orphan`); never throws. */
function dropLate(ctx: WrapContext, op: string, path: string, free: () => Promise<void>): void {
  ctx.log.debug('freeing the result of an op that finished after its deadline', { op, path });
  void Promise.resolve()
    .then(free)
    .catch((err: unknown) =>
      ctx.log.warn('could not free a late result', { op, path, error: errorMessage(err) }),
    );
}

/** Replies a result a synchronous first try produced: counted, and never thrown back into libfuse. */
function replyNow(
  ctx: WrapContext,
  op: string,
  path: string,
  cb: FuseCallback,
  ...reply: [number, ...unknown[]]
): void {
  ctx.stats.ops++;
  try {
    cb(...reply);
  } catch (err) {
    ctx.log.error('fuse reply rejected', { op, path, error: errorMessage(err) });
  }
}

/**
 * wrap() for an op memory can often answer at once (a warm getattr or getxattr): `fast` returns the
 * value or null, and only then does the request take the wrapped async path with its deadline and
 * promise chain, which also reports every failure (a throw from `fast` falls through to it).
 */
export function wrapCached<A extends unknown[]>(
  ctx: WrapContext,
  op: string,
  fast: (...args: A) => unknown,
  slow: (...args: A) => Promise<unknown>,
): (...args: [...A, FuseCallback]) => void {
  const wrapped = wrap(ctx, op, 'value', slow);
  return (...all: [...A, FuseCallback]) => {
    const args = all.slice(0, -1) as unknown as A;
    let v: unknown;
    try {
      v = fast(...args);
    } catch {
      v = null;
    }
    if (v === null || v === undefined) return wrapped(...all);
    const path = typeof args[0] === 'string' ? args[0] : '';
    replyNow(ctx, op, path, all[all.length - 1] as FuseCallback, 0, v);
  };
}

type ReadArgs = [path: string, fh: number, buf: Buffer, length: number, position: number];

/**
 * wrap() for `read`, with a synchronous first try: `fast` answers a request it can answer at once
 * (a cached blob's inline pread, a loaded window) or returns null, and only then does the request take the
 * wrapped async path with its deadline and promise chain. A throw from `fast` also falls through,
 * so every failure is reported by the one path that maps it to an errno.
 */
export function wrapRead(
  ctx: WrapContext,
  fast: (fh: number, buf: Buffer, length: number, position: number) => number | null,
  slow: (...args: ReadArgs) => Promise<number>,
): (...args: [...ReadArgs, FuseCallback]) => void {
  const wrapped = wrap(ctx, 'read', 'count', slow);
  return (path, fh, buf, length, position, cb) => {
    let n: number | null;
    try {
      n = fast(fh, buf, length, position);
    } catch {
      n = null;
    }
    if (n === null || !Number.isSafeInteger(n) || n < 0) return wrapped(path, fh, buf, length, position, cb);
    replyNow(ctx, 'read', path, cb, n);
  };
}
