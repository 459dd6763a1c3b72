import { PermanentError } from './errors.js';

/**
 * Narrowing of untyped JSON (GraphQL data, manifests) into typed records. Every failure names the
 * path of the offending value, so a malformed response is reported precisely and never as a crash
 * deep inside a caller.
 */
export type Obj = Record<string, unknown>;

export class MalformedResponseError extends PermanentError {
  constructor(path: string, expected: string) {
    super(`malformed W&B response: ${path} is not ${expected}`);
  }
}

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function asObj(v: unknown, path: string): Obj {
  if (!isObj(v)) throw new MalformedResponseError(path, 'an object');
  return v;
}

export function optObj(o: Obj, key: string, path: string): Obj | null {
  const v = o[key];
  return v === null || v === undefined ? null : asObj(v, `${path}.${key}`);
}

export function reqObj(o: Obj, key: string, path: string): Obj {
  return asObj(o[key], `${path}.${key}`);
}

export function str(o: Obj, key: string, path: string): string {
  const v = o[key];
  if (typeof v !== 'string') throw new MalformedResponseError(`${path}.${key}`, 'a string');
  return v;
}

export function optStr(o: Obj, key: string, path: string): string | null {
  const v = o[key];
  if (v === null || v === undefined) return null;
  if (typeof v !== 'string') throw new MalformedResponseError(`${path}.${key}`, 'a string');
  return v;
}

/** Int64 fields may arrive as numbers or numeric strings depending on the server's serializer. */
export function num(o: Obj, key: string, path: string): number {
  const v = optNum(o, key, path);
  if (v === null) throw new MalformedResponseError(`${path}.${key}`, 'a number');
  return v;
}

export function optNum(o: Obj, key: string, path: string): number | null {
  const v = o[key];
  if (v === null || v === undefined) return null;
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v)) return Number(v);
  throw new MalformedResponseError(`${path}.${key}`, 'a number');
}

export function bool(o: Obj, key: string, path: string): boolean {
  const v = o[key];
  if (typeof v !== 'boolean') throw new MalformedResponseError(`${path}.${key}`, 'a boolean');
  return v;
}

export function arr(o: Obj, key: string, path: string): unknown[] {
  const v = o[key];
  if (!Array.isArray(v)) throw new MalformedResponseError(`${path}.${key}`, 'a list');
  return v;
}

export function strList(o: Obj, key: string, path: string): string[] {
  const v = o[key];
  if (v === null || v === undefined) return [];
  if (!Array.isArray(v) || !v.every((x): x is string => typeof x === 'string')) {
    throw new MalformedResponseError(`${path}.${key}`, 'a list of strings');
  }
  return v;
}
