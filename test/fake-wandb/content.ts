/**
 * File contents of the fake server. Generated blobs are a pure function of (seed, offset), so a
 * multi-GiB checkpoint costs no memory or disk; their MD5 is computed once and memoized (in memory,
 * and on disk for big blobs so a second test process does not re-hash 5 GiB).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { hashInts, Prng } from './prng.js';

/** 1 MiB: generation unit and streaming chunk size (small writes cap a Node server's throughput). */
export const BLOCK_BYTES = 1 << 20;
const BLOCK_WORDS = BLOCK_BYTES >>> 2;
const WORD_MASK = BLOCK_WORDS - 1;
/** Bump when the byte generator changes so stale on-disk MD5 memos are not reused. */
const GENERATOR_VERSION = 1;
const DISK_MEMO_MIN_BYTES = 64 * BLOCK_BYTES;

let baseBlock: Uint32Array | undefined;

/** One pseudo-random 1 MiB block shared by every seed; each (seed, block) derives from it cheaply. */
function base(): Uint32Array {
  if (baseBlock === undefined) {
    const prng = new Prng(0x5eed1234);
    baseBlock = new Uint32Array(BLOCK_WORDS);
    for (let i = 0; i < BLOCK_WORDS; i++) baseBlock[i] = prng.nextU32();
  }
  return baseBlock;
}

/** Writes words [w0, w1) of block `block` of `seed` into dst starting at dstOff. */
function fillWords(
  dst: Uint32Array,
  dstOff: number,
  seed: number,
  block: number,
  w0: number,
  w1: number,
): void {
  const b = base();
  // Rotation + xor key + a per-word term: cheap, yet no two blocks or seeds repeat each other.
  const key = hashInts(seed, block);
  const rot = hashInts(key, 0x51ed) & WORD_MASK;
  const step = key | 1;
  const split = Math.min(w1, Math.max(w0, BLOCK_WORDS - rot));
  let o = dstOff - w0;
  for (let i = w0; i < split; i++) dst[o + i] = (b[i + rot] as number) ^ key ^ Math.imul(i, step);
  o = dstOff - w0;
  for (let i = split; i < w1; i++)
    dst[o + i] = (b[i + rot - BLOCK_WORDS] as number) ^ key ^ Math.imul(i, step);
}

/** Bytes [start, end) of the generated blob with this seed. Pure function of its arguments. */
export function generateBytes(seed: number, start: number, end: number): Buffer {
  const len = Math.max(0, end - start);
  // Bytes are a pure function of their position, so an unaligned range is the aligned range that
  // starts at the word below it, sliced.
  const lead = start % 4;
  const from = start - lead;
  const words = new Uint32Array(Math.ceil((len + lead) / 4));
  let pos = from;
  while (pos < end) {
    const block = Math.floor(pos / BLOCK_BYTES);
    const blockStart = block * BLOCK_BYTES;
    const blockEnd = Math.min(end, blockStart + BLOCK_BYTES);
    const w0 = (pos - blockStart) >>> 2;
    const w1 = (blockEnd - blockStart + 3) >>> 2;
    fillWords(words, (pos - from) >>> 2, seed, block, w0, w1);
    pos = blockEnd;
  }
  return Buffer.from(words.buffer, lead, len);
}

export interface BlobContent {
  readonly blobId: string;
  readonly sizeBytes: number;
  /** base64 MD5 (W&B form). Synchronous and memoized; the first call on a multi-GiB blob takes seconds. */
  readonly md5B64: string;
  /** Same as md5B64 but yields to the event loop while hashing; use this inside the server. */
  md5B64Async(): Promise<string>;
  /** Returns the memoized MD5 if already known, without computing it. */
  knownMd5B64(): string | undefined;
  /** Bytes [start, endExclusive) as one buffer; for small ranges. */
  read(start: number, endExclusive: number): Buffer;
  /** Bytes [start, endExclusive) as a stream of <= 1 MiB chunks. */
  stream(start?: number, endExclusive?: number): Readable;
  readonly contentType: string;
}

const md5Memo = new Map<string, string>();
const md5Pending = new Map<string, Promise<string>>();

function diskMemoPath(seed: number, size: number): string {
  return join(tmpdir(), 'wandbfs-fixture-cache', `gen-v${GENERATOR_VERSION}-${seed}-${size}.md5`);
}

function readDiskMemo(seed: number, size: number): string | undefined {
  try {
    const v = readFileSync(diskMemoPath(seed, size), 'utf8').trim();
    return /^[A-Za-z0-9+/]{22}==$/.test(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

function writeDiskMemo(seed: number, size: number, md5: string): void {
  try {
    const p = diskMemoPath(seed, size);
    mkdirSync(join(tmpdir(), 'wandbfs-fixture-cache'), { recursive: true });
    const tmp = `${p}.${process.pid}.tmp`;
    writeFileSync(tmp, md5);
    renameSync(tmp, p);
  } catch {
    // A memo is an optimisation; a read-only tmp dir only costs re-hashing.
  }
}

function chunkedStream(read: (s: number, e: number) => Buffer, start: number, end: number): Readable {
  let pos = start;
  return new Readable({
    highWaterMark: BLOCK_BYTES,
    read() {
      if (pos >= end) {
        this.push(null);
        return;
      }
      const next = Math.min(end, (Math.floor(pos / BLOCK_BYTES) + 1) * BLOCK_BYTES);
      const chunk = read(pos, next);
      pos = next;
      this.push(chunk);
    },
  });
}

function clampRange(size: number, start = 0, end = size): [number, number] {
  const s = Math.max(0, Math.min(size, start));
  return [s, Math.max(s, Math.min(size, end))];
}

class GeneratedBlob implements BlobContent {
  readonly contentType = 'application/octet-stream';
  constructor(
    readonly blobId: string,
    readonly seed: number,
    readonly sizeBytes: number,
  ) {}

  knownMd5B64(): string | undefined {
    const m = md5Memo.get(this.blobId);
    if (m !== undefined || this.sizeBytes < DISK_MEMO_MIN_BYTES) return m;
    const d = readDiskMemo(this.seed, this.sizeBytes);
    if (d !== undefined) md5Memo.set(this.blobId, d);
    return d;
  }

  get md5B64(): string {
    const known = this.knownMd5B64();
    if (known !== undefined) return known;
    const h = createHash('md5');
    for (let pos = 0; pos < this.sizeBytes; pos += BLOCK_BYTES) {
      h.update(generateBytes(this.seed, pos, Math.min(this.sizeBytes, pos + BLOCK_BYTES)));
    }
    return this.remember(h.digest('base64'));
  }

  md5B64Async(): Promise<string> {
    const known = this.knownMd5B64();
    if (known !== undefined) return Promise.resolve(known);
    if (this.sizeBytes < 4 * BLOCK_BYTES) return Promise.resolve(this.md5B64);
    let p = md5Pending.get(this.blobId);
    if (p === undefined) {
      p = (async () => {
        const h = createHash('md5');
        for (let pos = 0; pos < this.sizeBytes; pos += BLOCK_BYTES) {
          h.update(generateBytes(this.seed, pos, Math.min(this.sizeBytes, pos + BLOCK_BYTES)));
          await yieldToLoop();
        }
        md5Pending.delete(this.blobId);
        return this.remember(h.digest('base64'));
      })();
      md5Pending.set(this.blobId, p);
    }
    return p;
  }

  private remember(md5: string): string {
    md5Memo.set(this.blobId, md5);
    if (this.sizeBytes >= DISK_MEMO_MIN_BYTES) writeDiskMemo(this.seed, this.sizeBytes, md5);
    return md5;
  }

  read(start: number, endExclusive: number): Buffer {
    const [s, e] = clampRange(this.sizeBytes, start, endExclusive);
    return generateBytes(this.seed, s, e);
  }

  stream(start?: number, endExclusive?: number): Readable {
    const [s, e] = clampRange(this.sizeBytes, start, endExclusive);
    return chunkedStream((a, b) => generateBytes(this.seed, a, b), s, e);
  }
}

class LiteralBlob implements BlobContent {
  private bytes: Buffer | undefined;
  private md5: string | undefined;
  constructor(
    readonly blobId: string,
    private readonly make: () => Buffer,
    readonly contentType: string,
  ) {}

  private data(): Buffer {
    if (this.bytes === undefined) this.bytes = this.make();
    return this.bytes;
  }

  get sizeBytes(): number {
    return this.data().length;
  }

  get md5B64(): string {
    if (this.md5 === undefined) this.md5 = createHash('md5').update(this.data()).digest('base64');
    return this.md5;
  }

  md5B64Async(): Promise<string> {
    return Promise.resolve(this.md5B64);
  }

  knownMd5B64(): string | undefined {
    return this.md5B64;
  }

  read(start: number, endExclusive: number): Buffer {
    const [s, e] = clampRange(this.sizeBytes, start, endExclusive);
    return Buffer.from(this.data().subarray(s, e));
  }

  stream(start?: number, endExclusive?: number): Readable {
    const [s, e] = clampRange(this.sizeBytes, start, endExclusive);
    return chunkedStream((a, b) => this.read(a, b), s, e);
  }
}

/** Id of the generated blob (seed, size). Ids use only [A-Za-z0-9._-] so they are URL-path safe. */
export function generatedBlobId(seed: number, sizeBytes: number): string {
  return `g.${seed >>> 0}.${sizeBytes}`;
}

/** Registry of blobs: generated ones are derived from their id; literal ones are registered. */
export class BlobStore {
  private readonly literals = new Map<string, LiteralBlob>();

  /** Registers literal content under a content-derived id (same bytes => same id) and returns the id. */
  addLiteral(bytes: Buffer | string, contentType = 'text/plain; charset=utf-8'): string {
    const buf = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
    const id = `l.${createHash('md5').update(buf).digest('hex')}`;
    if (!this.literals.has(id)) this.literals.set(id, new LiteralBlob(id, () => buf, contentType));
    return id;
  }

  /** Registers lazily built content under a caller-chosen key (e.g. a manifest built on first use). */
  addLazy(key: string, make: () => Buffer, contentType: string): string {
    const id = `z.${key.replace(/[^A-Za-z0-9_-]/g, '_')}`;
    this.literals.set(id, new LiteralBlob(id, make, contentType));
    return id;
  }

  get(blobId: string): BlobContent | undefined {
    const lit = this.literals.get(blobId);
    if (lit !== undefined) return lit;
    const m = /^g\.(\d{1,10})\.(\d{1,16})$/.exec(blobId);
    if (m === null) return undefined;
    const seed = Number(m[1]);
    const size = Number(m[2]);
    if (seed > 0xffffffff || !Number.isSafeInteger(size)) return undefined;
    return new GeneratedBlob(blobId, seed, size);
  }
}
