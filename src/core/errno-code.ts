/**
 * Node system errors (fs, net, process.kill) carry a string `code` such as 'ENOENT'. These two helpers
 * are the only way src/ reads it, so no module casts to NodeJS.ErrnoException by hand. They are about
 * raw Node errors; typed WandbfsErrors are told apart with instanceof (see src/core/errors.ts).
 */

/** The system error code of `err` ('ENOENT', 'ECONNRESET', ...), or undefined when it has none. */
export function errnoCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined;
  const code = (err as { code: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/** True when `err` is a Node system error with one of `codes`. */
export function isErrno(err: unknown, ...codes: string[]): boolean {
  const code = errnoCode(err);
  return code !== undefined && codes.includes(code);
}
