/**
 * Cold fill throughput of the blob cache against a plain `curl -o` of the same URL, in one run,
 * over a local HTTP server with optional injected latency and per-connection bandwidth cap.
 * Prints a table; not a test. Usage (after `npx tsc -p .`):
 *   node dist/bench/blob-fill.js [--size-mib 128] [--chunk-mib 8] [--streams 8] [--sweep] [--random N]
 * --sweep also tries chunk sizes x stream counts in the capped scenario (to choose defaults).
 * --random N: N cold random 4 KiB reads (one at a time, like fio psync) on a fresh cache, with urgent
 * ranges on (default 256 KiB) and off (each miss waits for its chunk), against the same ranges
 * fetched directly by HTTP, under 20 ms per request + 50 MiB/s per connection. --random-only skips
 * the sequential scenarios (use a large --size-mib so the background fill cannot finish first).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createBlobCache } from '../src/blobs/store.js';
import type { RangeSource } from '../src/blobs/types.js';
import { openDb } from '../src/core/db.js';
import { md5FromHex } from '../src/core/digest.js';
import { blobPath } from '../src/blobs/path.js';

const MiB = 1024 * 1024;

interface Faults {
  latencyMs: number;
  bytesPerSec: number;
}

const { values } = parseArgs({
  options: {
    'size-mib': { type: 'string', default: '128' },
    'chunk-mib': { type: 'string', default: '8' },
    streams: { type: 'string', default: '8' },
    sweep: { type: 'boolean', default: false },
    random: { type: 'string', default: '0' },
    'random-only': { type: 'boolean', default: false },
  },
});
const SIZE = Number(values['size-mib']) * MiB;

// Content: a pseudo-random 8 MiB block repeated (cheap to serve, incompressible within a block).
const BLOCK = Buffer.alloc(8 * MiB);
for (let i = 0, x = 0x12345678; i < BLOCK.length; i++) {
  x = (Math.imul(x, 1103515245) + 12345) >>> 0;
  BLOCK[i] = x >>> 24;
}
function contentMd5(size: number): string {
  const h = createHash('md5');
  for (let p = 0; p < size; p += BLOCK.length) h.update(BLOCK.subarray(0, Math.min(BLOCK.length, size - p)));
  return h.digest('hex');
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function startServer(size: number, faults: () => Faults): Promise<{ url: string; close: () => void }> {
  const server = http.createServer({ highWaterMark: MiB }, (req, res) => {
    void (async () => {
      const f = faults();
      let start = 0;
      let end = size;
      const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
      if (m) {
        start = Number(m[1]);
        end = m[2] ? Math.min(size, Number(m[2]) + 1) : size;
      }
      if (f.latencyMs > 0) await sleep(f.latencyMs);
      res.writeHead(m ? 206 : 200, {
        'content-length': end - start,
        ...(m ? { 'content-range': `bytes ${start}-${end - 1}/${size}` } : {}),
      });
      const piece = f.bytesPerSec > 0 ? 64 * 1024 : MiB;
      const t0 = Date.now();
      for (let p = start; p < end;) {
        const off = p % BLOCK.length;
        const n = Math.min(piece, end - p, BLOCK.length - off);
        const ok = res.write(BLOCK.subarray(off, off + n));
        p += n;
        if (!ok) await new Promise((r) => res.once('drain', r));
        if (res.destroyed) return;
        if (f.bytesPerSec > 0) {
          const due = t0 + ((p - start) / f.bytesPerSec) * 1000;
          if (due > Date.now()) await sleep(due - Date.now());
        }
      }
      res.end();
    })();
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({ url: `http://127.0.0.1:${port}/blob.bin`, close: () => server.close() });
    }),
  );
}

function httpSource(url: string): RangeSource {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  return {
    describe: () => 'bench/blob.bin',
    fetchRange: (start, endExclusive, sink, signal) =>
      new Promise<void>((resolve, reject) => {
        const req = http.get(
          url,
          { agent, signal, headers: { range: `bytes=${start}-${endExclusive - 1}` } },
          (res) => {
            void (async () => {
              try {
                for await (const chunk of res) await sink(chunk as Buffer);
                resolve();
              } catch (err) {
                res.destroy();
                reject(err instanceof Error ? err : new Error(String(err)));
              }
            })();
          },
        );
        req.on('error', reject);
      }),
  };
}

async function timeCurl(url: string, dir: string): Promise<number> {
  const out = join(dir, 'curl.out');
  const t0 = performance.now();
  // Async: the server runs in this process, a sync child would deadlock it.
  await promisify(execFile)('curl', ['-s', '-f', '-o', out, url]);
  const secs = (performance.now() - t0) / 1000;
  const { size } = await stat(out);
  if (size !== SIZE) throw new Error(`curl got ${size} bytes`);
  await rm(out);
  return secs;
}

/** Cold fill: open, read the whole file sequentially in 1 MiB reads; also time until the blob is committed. */
async function timeCache(
  url: string,
  hex: string,
  chunkBytes: number,
  streams: number,
): Promise<{ readSecs: number; commitSecs: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'wandbfs-bench-blob-'));
  const db = openDb({ dir });
  const cache = createBlobCache({ dir, db, sdkCacheDir: null, chunkBytes, streams, minFreeBytes: 0 });
  const digest = md5FromHex(hex)!;
  try {
    const t0 = performance.now();
    const r = await cache.open({ digest, sizeBytes: SIZE, source: () => httpSource(url) });
    const buf = Buffer.alloc(MiB);
    for (let p = 0; p < SIZE; p += MiB) await r.read(buf, MiB, p);
    const readSecs = (performance.now() - t0) / 1000;
    await r.close();
    while (!(await stat(blobPath(dir, digest)).catch(() => null))) await sleep(5);
    const commitSecs = (performance.now() - t0) / 1000;
    if (cache.counters().integrityFailures > 0) throw new Error('integrity failure');
    return { readSecs, commitSecs };
  } finally {
    await cache.close();
    db.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Offsets of N 4 KiB reads spread over the file (a fixed LCG: the same offsets every run). */
function randomOffsets(n: number): number[] {
  const out: number[] = [];
  for (let i = 0, x = 0x2545f491; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out.push(Math.floor((x / 0x100000000) * (SIZE / 4096 - 1)) * 4096);
  }
  return out;
}

/** IOPS of N cold random 4 KiB reads through a fresh cache (urgentKiB 0 = wait for whole chunks). */
async function randomCache(url: string, hex: string, offsets: number[], urgentKiB: number): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'wandbfs-bench-blob-'));
  const db = openDb({ dir });
  const cache = createBlobCache({
    dir,
    db,
    sdkCacheDir: null,
    minFreeBytes: 0,
    urgentRangeBytes: urgentKiB * 1024,
  });
  try {
    const r = await cache.open({ digest: md5FromHex(hex)!, sizeBytes: SIZE, source: () => httpSource(url) });
    const buf = Buffer.alloc(4096);
    const t0 = performance.now();
    for (const p of offsets) await r.read(buf, 4096, p);
    const secs = (performance.now() - t0) / 1000;
    await r.close();
    return offsets.length / secs;
  } finally {
    await cache.close();
    db.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** IOPS of the same 4 KiB ranges fetched one by one straight from the server. */
async function randomDirect(url: string, offsets: number[]): Promise<number> {
  const src = httpSource(url);
  const t0 = performance.now();
  for (const p of offsets) {
    await src.fetchRange(p, p + 4096, () => Promise.resolve(), new AbortController().signal);
  }
  return offsets.length / ((performance.now() - t0) / 1000);
}

const mbps = (secs: number): string => ((SIZE / MiB / secs).toFixed(0) + ' MiB/s').padStart(12);

async function main(): Promise<void> {
  const hex = contentMd5(SIZE);
  let current: Faults = { latencyMs: 0, bytesPerSec: 0 };
  const server = await startServer(SIZE, () => current);
  const scratch = await mkdtemp(join(tmpdir(), 'wandbfs-bench-curl-'));
  const chunk = Number(values['chunk-mib']) * MiB;
  const streams = Number(values.streams);
  const scenarios: [string, Faults][] = [
    ['no faults', { latencyMs: 0, bytesPerSec: 0 }],
    ['latency 50 ms', { latencyMs: 50, bytesPerSec: 0 }],
    ['cap 32 MiB/s/conn', { latencyMs: 0, bytesPerSec: 32 * MiB }],
    ['50 ms + 32 MiB/s/conn', { latencyMs: 50, bytesPerSec: 32 * MiB }],
  ];
  process.stdout.write(`file ${SIZE / MiB} MiB, cache chunk ${chunk / MiB} MiB x ${streams} streams\n\n`);
  process.stdout.write(
    `${'scenario'.padEnd(24)}${'curl -o'.padStart(12)}${'cache read'.padStart(12)}${'+verify'.padStart(12)}  ratio\n`,
  );
  try {
    for (const [name, f] of values['random-only'] ? [] : scenarios) {
      current = f;
      const curl = await timeCurl(server.url, scratch);
      const c = await timeCache(server.url, hex, chunk, streams);
      process.stdout.write(
        `${name.padEnd(24)}${mbps(curl)}${mbps(c.readSecs)}${mbps(c.commitSecs)}  ${(curl / c.readSecs).toFixed(2)}x\n`,
      );
    }
    const n = Number(values.random);
    if (n > 0) {
      current = { latencyMs: 20, bytesPerSec: 50 * MiB };
      const offsets = randomOffsets(n);
      const direct = await randomDirect(server.url, offsets);
      const urgent = await randomCache(server.url, hex, offsets, 256);
      const chunks = await randomCache(server.url, hex, offsets, 0);
      const iops = (x: number): string => `${x.toFixed(1)} IOPS (${(x / direct).toFixed(2)}x direct)`;
      process.stdout.write(`\ncold random 4 KiB reads, ${n} one at a time, 20 ms + 50 MiB/s/conn\n`);
      process.stdout.write(`  direct HTTP ranges        ${direct.toFixed(1)} IOPS\n`);
      process.stdout.write(`  cache, urgent 256 KiB     ${iops(urgent)}\n`);
      process.stdout.write(`  cache, whole chunks       ${iops(chunks)}\n`);
    }
    if (values.sweep) {
      current = { latencyMs: 50, bytesPerSec: 32 * MiB };
      process.stdout.write(`\nsweep at 50 ms + 32 MiB/s/conn (cache read throughput)\n`);
      for (const c of [4, 8, 16]) {
        for (const s of [2, 4, 8]) {
          const t = await timeCache(server.url, hex, c * MiB, s);
          process.stdout.write(`  chunk ${String(c).padStart(2)} MiB x ${s} streams ${mbps(t.readSecs)}\n`);
        }
      }
    }
  } finally {
    server.close();
    await rm(scratch, { recursive: true, force: true });
  }
}

await main();
