import type { Logger } from '../core/log.js';
import { PermanentError } from './errors.js';
import { isObj } from './shape.js';

/** Keys W&B keeps in Run.config for itself; the SDK hides them from users and so do we. */
export const INTERNAL_CONFIG_KEYS: ReadonlySet<string> = new Set(['_wandb', 'wandb_version']);

/** Parses a JSONString field that must hold an object; null/empty means {}. */
export function parseJsonObject(text: string | null, what: string): Record<string, unknown> {
  if (text === null || text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
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
