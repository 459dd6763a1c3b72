import { PermanentError } from './errors.js';

/** A range source's arguments: a caller asking for [start, end) outside the integers is a bug, never retried. */
export function assertByteRange(start: number, endExclusive: number, label: string): void {
  if (
    !Number.isSafeInteger(start) ||
    !Number.isSafeInteger(endExclusive) ||
    start < 0 ||
    endExclusive < start
  ) {
    throw new PermanentError(`invalid byte range [${start}, ${endExclusive}) for ${label}`);
  }
}
