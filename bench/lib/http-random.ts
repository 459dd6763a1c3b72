/**
 * The network's bar for cold random reads: the same 4 KiB ranges fio reads through a mount, fetched
 * straight from the file's URL with ranged HTTP GETs, one at a time (like fio's psync) on one
 * keep-alive connection. What a reader that skipped the filesystem would get.
 */
import { fork } from 'node:child_process';
import { readFile, truncate, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fioRandRead } from './readers.js';
import { makeTempDir } from './tmp.js';

/**
 * The offsets fio's randread visits, in order, for a file of `sizeBytes`. With randrepeat=1 fio's
 * sequence depends only on the region's size and the block size (not on the file or its contents,
 * nor on time_based), so a run over a sparse file of the same size records exactly the offsets a run
 * over the mount starts with.
 */
export async function fioOffsets(sizeBytes: number, bs: number, count: number): Promise<number[]> {
  const dir = await makeTempDir('fio-offsets');
  try {
    const file = join(dir.path, 'sparse.bin');
    await writeFile(file, '');
    await truncate(file, sizeBytes);
    const log = join(dir.path, 'iolog');
    await fioRandRead(file, {
      bs: String(bs),
      ioBytes: count * bs,
      maxSeconds: 300,
      invalidate: false,
      sizeBytes,
      writeIolog: log,
    });
    // iolog v3 lines: "<ms> <file> read <offset> <length>"
    const offsets: number[] = [];
    for (const line of (await readFile(log, 'utf8')).split('\n')) {
      const f = line.split(' ');
      if (f[2] === 'read' && f[4] === String(bs)) offsets.push(Number(f[3]));
    }
    if (offsets.length === 0) throw new Error('fio recorded no reads in its iolog');
    return offsets;
  } finally {
    await dir.remove();
  }
}

export interface DirectReads {
  iops: number;
  ops: number;
  seconds: number;
  /** TCP connections opened (1 when keep-alive held) */
  connections: number;
}

/** GET one range; resolves with the body's length, rejects unless the answer is 206. */
function getRange(
  url: URL,
  agent: http.Agent,
  start: number,
  end: number,
): Promise<{ n: number; reused: boolean }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent, headers: { range: `bytes=${start}-${end}` } }, (res) => {
      if (res.statusCode !== 206) {
        res.resume();
        reject(new Error(`GET bytes=${start}-${end} answered ${String(res.statusCode)}, not 206`));
        return;
      }
      let n = 0;
      res.on('data', (b: Buffer) => {
        n += b.length;
      });
      res.on('end', () => resolve({ n, reused: req.reusedSocket }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

/**
 * Fetches `bs` bytes at each offset in order, one request at a time, until the offsets run out or
 * `maxSeconds` have passed. A short or non-206 answer is an error, never a fast number.
 */
export async function directRandomReads(
  urlText: string,
  offsets: readonly number[],
  bs: number,
  maxSeconds: number,
): Promise<DirectReads> {
  const url = new URL(urlText);
  if (url.protocol !== 'http:') throw new Error(`direct reads speak plain HTTP, not ${url.protocol}`);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const t0 = performance.now();
    const deadline = t0 + maxSeconds * 1000;
    let ops = 0;
    let connections = 0;
    for (const off of offsets) {
      if (performance.now() >= deadline) break;
      const r = await getRange(url, agent, off, off + bs - 1);
      if (r.n !== bs) throw new Error(`short body at ${off}: ${r.n} of ${bs} bytes`);
      if (!r.reused) connections++;
      ops++;
    }
    const seconds = (performance.now() - t0) / 1000;
    return { iops: ops / seconds, ops, seconds, connections };
  } finally {
    agent.destroy();
  }
}

export interface DirectReadsJob {
  url: string;
  offsets: readonly number[];
  bs: number;
  seconds: number;
}

const childScript = join(dirname(fileURLToPath(import.meta.url)), '..', 'http-random-child.js');

/**
 * directRandomReads in a child process (bench/http-random-child.ts): client and server then cross
 * a process boundary on every request, as they do between wandbfs's daemon and storage.
 */
export function directRandomReadsInChild(job: DirectReadsJob): Promise<DirectReads> {
  return new Promise((resolve, reject) => {
    const child = fork(childScript, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let answered = false;
    child.once('message', (m: { ok?: DirectReads; error?: string }) => {
      answered = true;
      if (m.ok) resolve(m.ok);
      else reject(new Error(`direct reads in a child process failed: ${m.error ?? 'no answer'}`));
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      if (!answered) reject(new Error(`direct-read child exited with ${String(code)} before answering`));
    });
    child.send(job);
  });
}
