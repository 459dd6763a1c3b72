/** Shared set-up for the API tests against the fake W&B server. */
import type { WandbApiClient, WandbApiOptions } from '../../src/api/client.js';
import { createWandbApi } from '../../src/api/client.js';
import type { RangeSource } from '../../src/blobs/types.js';
import type { Logger } from '../../src/core/log.js';
import { createLogger } from '../../src/core/log.js';
import type { RunFileFx } from '../fake-wandb/fixture-types.js';
import type { FakeWandb } from '../fake-wandb/server.js';

export interface CapturedLog {
  logger: Logger;
  lines: string[];
}

export function captureLog(level: 'debug' | 'warn' = 'debug'): CapturedLog {
  const lines: string[] = [];
  return { logger: createLogger({ level, sink: { write: (l) => lines.push(l) } }), lines };
}

export function apiFor(fake: FakeWandb, options: Partial<WandbApiOptions> = {}): WandbApiClient {
  return createWandbApi({
    baseUrl: fake.url,
    apiKey: fake.apiKey,
    // Short waits so fault tests stay fast; the policy logic is covered in retry.test.ts.
    retry: { baseDelayMs: 5, maxDelayMs: 50, maxAttempts: 12, deadlineMs: 30_000 },
    downloadRetry: { baseDelayMs: 5, maxDelayMs: 50, maxAttempts: 12, deadlineMs: 30_000 },
    ...options,
  });
}

export async function collect<T>(pages: AsyncIterable<T[]>): Promise<T[]> {
  const out: T[] = [];
  for await (const page of pages) out.push(...page);
  return out;
}

/** W&B's {"k": {"value": v}} config as users see it. */
export function unwrapFixtureConfig(config: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) {
    if (k === '_wandb' || k === 'wandb_version') continue;
    out[k] = typeof v === 'object' && v !== null && 'value' in v ? (v as { value: unknown }).value : v;
  }
  return out;
}

export async function readRange(
  source: RangeSource,
  start: number,
  end: number,
  signal = new AbortController().signal,
): Promise<Buffer> {
  const parts: Buffer[] = [];
  await source.fetchRange(start, end, async (c) => void parts.push(Buffer.from(c)), signal);
  return Buffer.concat(parts);
}

/** A fixture value as the API layer hands it on: W&B's NaN / ±Infinity as the strings 'NaN', ... */
export function plainJson<T>(value: T): T {
  return JSON.parse(
    JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)),
  ) as T;
}

/** The largest run file of a project in the fake's fixture (the multi-MiB one download tests use). */
export function largestRunFile(
  fake: FakeWandb,
  entity: string,
  project: string,
): { run: string; file: RunFileFx } {
  let best: { run: string; file: RunFileFx } | null = null;
  for (const r of fake.fixture.project(entity, project)?.runs ?? []) {
    for (const f of r.files) if (!best || f.sizeBytes > best.file.sizeBytes) best = { run: r.name, file: f };
  }
  if (!best) throw new Error(`no run files in ${entity}/${project}`);
  return best;
}
