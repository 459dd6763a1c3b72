import { AbortedError } from '../core/errors.js';
import { IntegrityError, StallError } from './errors.js';
import type { RangeSource } from './types.js';

/**
 * Fetches [start, end) into `buf` from offset 0, aborting when no byte arrives for stallMs.
 * Used by the streaming (uncached) path, where the bytes never touch the cache.
 */
export async function fetchInto(
  source: RangeSource,
  start: number,
  end: number,
  buf: Buffer,
  stallMs: number,
  onBytes: (n: number) => void,
): Promise<void> {
  const ac = new AbortController();
  let stalled = false;
  let timer = setTimeout(onStall, stallMs);
  function onStall(): void {
    stalled = true;
    ac.abort();
  }
  let got = 0;
  try {
    await source.fetchRange(
      start,
      end,
      (chunk) => {
        if (ac.signal.aborted) return Promise.reject(new AbortedError());
        if (got + chunk.length > end - start) {
          return Promise.reject(
            new IntegrityError(`${source.describe()}: server sent more bytes than requested`),
          );
        }
        chunk.copy(buf, got);
        got += chunk.length;
        onBytes(chunk.length);
        clearTimeout(timer);
        timer = setTimeout(onStall, stallMs);
        return Promise.resolve();
      },
      ac.signal,
    );
  } catch (err) {
    if (stalled) throw new StallError(source.describe(), stallMs);
    throw err;
  } finally {
    clearTimeout(timer);
  }
  if (got !== end - start) {
    throw new IntegrityError(`${source.describe()}: got ${got} of ${end - start} bytes at offset ${start}`);
  }
}
