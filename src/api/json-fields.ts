import type { Logger } from '../core/log.js';
import { PermanentError } from './errors.js';
import { isObj } from './shape.js';

/** Keys W&B keeps in Run.config for itself; the SDK hides them from users and so do we. */
export const INTERNAL_CONFIG_KEYS: ReadonlySet<string> = new Set(['_wandb', 'wandb_version']);

/**
 * W&B writes JSONString fields as "extended JSON": summaries and configs hold bare NaN, Infinity and
 * -Infinity (wandb-core runsummary; the SDK reads them with Python's json.loads). Plain JSON, which
 * every layer above stores and renders, has no such numbers, so they become the strings 'NaN',
 * 'Infinity' and '-Infinity' (what metadata.json shows, docs/semantics.md).
 */
const NON_FINITE = /"(?:[^"\\]|\\.)*"|(-?)\b(NaN|Infinity)\b/g;

export function parseExtendedJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    let found = false;
    const plain = text.replace(NON_FINITE, (m: string, minus: string, word: string | undefined) => {
      if (word === undefined) return m;
      found = true;
      return word === 'NaN' ? '"NaN"' : `"${minus}Infinity"`;
    });
    if (!found) throw err;
    return JSON.parse(plain);
  }
}

/** Parses a JSONString field that must hold an object; null/empty means {}. */
export function parseJsonObject(text: string | null, what: string): Record<string, unknown> {
  if (text === null || text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = parseExtendedJson(text);
  } catch (err) {
    throw new PermanentError(`${what} is not valid JSON`, { cause: err });
  }
  // Some servers double-encode JSONString values; one more level is harmless to accept.
  if (typeof parsed === 'string') return parseJsonObject(parsed, what);
  if (parsed === null) return {};
  if (!isObj(parsed)) throw new PermanentError(`${what} is JSON but not an object`);
  return parsed;
}

/**
 * One bad record must not hide its siblings: a malformed JSON field becomes {} and a warning,
 * and the record (run, artifact version) is still listed.
 */
export function parseJsonObjectLenient(
  text: string | null,
  what: string,
  logger: Logger,
): Record<string, unknown> {
  try {
    return parseJsonObject(text, what);
  } catch (err) {
    logger.warn('ignoring malformed JSON field', { what, error: err });
    return {};
  }
}

/** W&B stores config as {"key": {"value": v, "desc": ...}}; users see {"key": v} (as the SDK shows). */
export function unwrapRunConfig(raw: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(raw)) {
    if (INTERNAL_CONFIG_KEYS.has(key)) continue;
    out[key] = isObj(v) && Object.prototype.hasOwnProperty.call(v, 'value') ? v.value : v;
  }
  return out;
}
