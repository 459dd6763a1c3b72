import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../core/errors.js';
import { registerSecret } from '../core/log.js';
import { MissingApiKeyError } from './errors.js';
import { netrcLookup, parseNetrc } from './netrc.js';

export const DEFAULT_BASE_URL = 'https://api.wandb.ai';

export type Env = Record<string, string | undefined>;

/** Where the key came from, for `wandbfs status` and error hints; never the key itself. */
export type ApiKeySource = 'env' | `netrc:${string}`;

export interface Credentials {
  baseUrl: string;
  apiKey: string;
  source: ApiKeySource;
}

export interface CredentialOptions {
  /** the `--base-url` flag, if given */
  baseUrl?: string;
  env?: Env;
  homeDir?: string;
  /** returns the file's text, or null when it does not exist or cannot be read */
  readTextFile?: (path: string) => string | null;
}

/** `--base-url`, else WANDB_BASE_URL, else https://api.wandb.ai; trailing '/' stripped like the SDK. */
export function resolveBaseUrl(flag: string | undefined, env: Env = process.env): string {
  const raw = nonEmpty(flag) ?? nonEmpty(env.WANDB_BASE_URL) ?? DEFAULT_BASE_URL;
  const trimmed = raw.trim().replace(/\/+$/, '');
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    throw new ConfigError(`invalid W&B base URL: ${trimmed}`, 'expected e.g. https://api.wandb.ai');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`W&B base URL must be http(s): ${trimmed}`);
  }
  if (url.username || url.password) {
    // Credentials in the URL would end up in logs; the key belongs in WANDB_API_KEY or netrc.
    throw new ConfigError('W&B base URL must not contain credentials', 'use WANDB_API_KEY or netrc');
  }
  return trimmed;
}

/** The netrc `machine` name `wandb login` writes for a base URL: its host[:port]. */
export function netrcMachine(baseUrl: string): string {
  return new URL(baseUrl).host;
}

/** netrc file to read: $NETRC, else ~/.netrc, else ~/_netrc (as the W&B SDK does). */
export function netrcCandidates(env: Env, home: string): string[] {
  const explicit = nonEmpty(env.NETRC);
  if (explicit !== undefined) return [explicit];
  return [join(home, '.netrc'), join(home, '_netrc')];
}

/**
 * WANDB_API_KEY first, then netrc, matching the W&B CLI. The key is registered with the logger's
 * redaction before it is returned, so no later log line can contain it.
 */
export function resolveApiKey(
  baseUrl: string,
  options: Omit<CredentialOptions, 'baseUrl'> = {},
): { apiKey: string; source: ApiKeySource } {
  const env = options.env ?? process.env;
  const fromEnv = nonEmpty(env.WANDB_API_KEY)?.trim();
  if (fromEnv) {
    registerSecret(fromEnv);
    return { apiKey: fromEnv, source: 'env' };
  }
  const machine = netrcMachine(baseUrl);
  const read = options.readTextFile ?? readTextFileOrNull;
  for (const path of netrcCandidates(env, options.homeDir ?? homedir())) {
    const text = read(path);
    if (text === null) continue;
    const entry = netrcLookup(parseNetrc(text), machine);
    const password = entry?.password?.trim();
    if (password) {
      registerSecret(password);
      return { apiKey: password, source: `netrc:${path}` };
    }
    // Only the first existing file counts, like Python's netrc lookup.
    break;
  }
  throw new MissingApiKeyError(machine);
}

export function resolveCredentials(options: CredentialOptions = {}): Credentials {
  const baseUrl = resolveBaseUrl(options.baseUrl, options.env ?? process.env);
  return { baseUrl, ...resolveApiKey(baseUrl, options) };
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === '' ? undefined : v;
}

function readTextFileOrNull(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}
