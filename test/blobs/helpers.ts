import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadMigrations, openDb, type Db } from '../../src/core/db.js';
import { md5FromHex, type Digest } from '../../src/core/digest.js';
import { packageRoot } from '../../src/core/package-root.js';
import type { RangeSource } from '../../src/blobs/types.js';

/** Byte at absolute position p of the generated test content (cheap, position-dependent). */
export function byteAt(p: number): number {
  const lo = p % 0x100000000;
  const hi = Math.floor(p / 0x100000000);
  return (Math.imul(lo, 31) ^ (lo >>> 11) ^ (lo >>> 19) ^ Math.imul(hi, 97)) & 0xff;
}

export function generate(start: number, end: number): Buffer {
  const b = Buffer.allocUnsafe(end - start);
  for (let i = 0; i < b.length; i++) b[i] = byteAt(start + i);
  return b;
}

export function md5Of(buf: Buffer): Digest {
  const d = md5FromHex(createHash('md5').update(buf).digest('hex'));
  if (!d) throw new Error('bad md5');
  return d;
}

export interface TestSourceOptions {
  /** Bytes per sink call. */
  pieceBytes?: number;
  /** Delay before each piece. */
  delayMs?: number;
  /** Flip the byte at this absolute position. */
  corruptAt?: number;
  /** Stop sending (hang until aborted) at this absolute position. */
  hangAt?: number;
  /** Bytes at or after holdFrom are sent only once `hold` resolves. */
  holdFrom?: number;
  hold?: Promise<void>;
}

/** An in-process RangeSource over generated (or given) bytes that records what was fetched. */
export class TestSource implements RangeSource {
  readonly ranges: [number, number][] = [];
  bytesSent = 0;
  constructor(
    readonly sizeBytes: number,
    private readonly opts: TestSourceOptions = {},
    private readonly data?: Buffer,
  ) {}

  describe(): string {
    return 'test/source.bin';
  }

  async fetchRange(
    start: number,
    endExclusive: number,
    sink: (chunk: Buffer) => Promise<void>,
    signal: AbortSignal,
  ): Promise<void> {
    this.ranges.push([start, endExclusive]);
    const piece = this.opts.pieceBytes ?? 256 * 1024;
    for (let pos = start; pos < endExclusive; pos += piece) {
      if (signal.aborted) throw new Error('aborted');
      if (this.opts.hangAt !== undefined && pos + piece > this.opts.hangAt) {
        await new Promise<void>((resolve) =>
          signal.addEventListener('abort', () => resolve(), { once: true }),
        );
        throw new Error('aborted while hanging');
      }
      if (this.opts.hold && pos + piece > (this.opts.holdFrom ?? 0)) await this.opts.hold;
      if (this.opts.delayMs) await new Promise((r) => setTimeout(r, this.opts.delayMs));
      const end = Math.min(endExclusive, pos + piece);
      const chunk = this.data ? Buffer.from(this.data.subarray(pos, end)) : generate(pos, end);
      const c = this.opts.corruptAt;
      if (c !== undefined && c >= pos && c < end) chunk[c - pos] = (chunk[c - pos] ?? 0) ^ 0xff;
      this.bytesSent += chunk.length;
      await sink(chunk);
    }
  }
}

export async function tempDir(tag: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `wandbfs-blobs-${tag}-`));
}

/**
 * Opens the cache db. Until the meta peer's 001 migration exists, the blob migration alone is
 * applied as version 1 (openDb requires 001.. without gaps).
 */
export function openTestDb(dir: string): Db {
  const root = packageRoot();
  if (existsSync(join(root, 'migrations', '001_meta.sql')))
    return openDb({ dir, migrations: loadMigrations() });
  const sql = readFileSync(join(root, 'migrations', '002_blobs.sql'), 'utf8');
  return openDb({ dir, migrations: [{ version: 1, name: 'blobs', sql }] });
}

export async function readAll(
  reader: { read(b: Buffer, l: number, p: number): Promise<number> },
  size: number,
  step = 128 * 1024,
): Promise<Buffer> {
  const out = Buffer.alloc(size);
  for (let pos = 0; pos < size; pos += step) {
    const n = await reader.read(out.subarray(pos), Math.min(step, size - pos), pos);
    if (n !== Math.min(step, size - pos)) throw new Error(`short read at ${pos}: ${n}`);
  }
  return out;
}
