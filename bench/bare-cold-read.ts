/**
 * The throughput floor of a cold read: the simplest fuse-native filesystem doing what any cold read
 * through Node + fuse-native must do. One file, `data.bin`: its first open starts a ranged download
 * of the URL into a scratch file (exactly like ranged-download.ts), MD5 follows the written prefix
 * in file order, and each FUSE read waits for the prefix to cover it, then reads the scratch file.
 * Run as a child process (a process must never make sync fs calls into its own mount):
 *
 *   node dist/bench/bare-cold-read.js <url> <bytes> <mountpoint> <scratch-file>
 *        [--streams 8] [--chunk-mib 8] [--no-md5 | --md5-worker]
 *
 * Prints one JSON line when the download and MD5 are done (before the last read is answered):
 * {"cpuSeconds": user+system since the first open, "md5": base64 or null, "bytes"}.
 * Unmounting or SIGTERM deletes nothing: the bench removes the scratch file.
 */
import { createHash, type Hash } from 'node:crypto';
import { openSync, read, writeSync } from 'node:fs';
import http from 'node:http';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { Fuse, fuseWithRawOptions, oneFileOps, serveUntilSignalled } from './lib/fuse.js';

const POST_BYTES = 4 * 1024 * 1024; // prefix growth between two posts to the MD5 worker

/** `written` bytes are in the scratch file (in order); `held` ones not hashed yet (ahead of prefix) */
type Chunk = { start: number; len: number; written: number; held: Buffer[] };

type Waiter = { end: number; resolve: () => void; reject: (err: Error) => void };

function writeAllAt(fd: number, buf: Buffer, pos: number): void {
  for (let off = 0; off < buf.length;) off += writeSync(fd, buf, off, buf.length - off, pos + off);
}

type Args = Record<'url' | 'mnt' | 'scratch', string> &
  Record<'bytes' | 'streams' | 'chunk', number> & { md5: 'main' | 'worker' | null };

function parse(): Args {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      streams: { type: 'string', default: '8' },
      'chunk-mib': { type: 'string', default: '8' },
      'no-md5': { type: 'boolean', default: false },
      'md5-worker': { type: 'boolean', default: false },
    },
  });
  const [url, bytesArg, mnt, scratch] = positionals;
  const bytes = Number(bytesArg);
  const streams = Number(values.streams);
  const chunk = Number(values['chunk-mib']) * 1024 * 1024;
  const md5 = values['no-md5'] ? null : values['md5-worker'] ? 'worker' : 'main';
  const ok = Number.isSafeInteger(bytes) && bytes > 0 && streams > 0 && chunk > 0;
  if (!url || !mnt || !scratch || !ok) {
    process.stderr.write(
      'usage: bare-cold-read <url> <bytes> <mountpoint> <scratch-file> [--streams N] [--chunk-mib N] [--no-md5 | --md5-worker]\n',
    );
    process.exit(2);
  }
  if (new URL(url).protocol !== 'http:') throw new Error('bare-cold-read speaks plain http only');
  return { url, bytes, mnt, scratch, streams, chunk, md5 };
}

/**
 * The download, the in-order MD5 and the contiguous prefix. MD5 is fed from the socket buffers, not
 * re-read from the scratch file: re-reading would add a page-cache copy per byte that a floor
 * should not pay (--md5-worker pays it to take MD5 off this thread: bare-md5-worker.ts). A chunk
 * ahead of the prefix keeps its buffers until the prefix reaches it; streams start no chunk more
 * than `window` bytes past the prefix, so held memory stays below ~window.
 */
class ColdRead {
  private readonly chunks: Chunk[] = [];
  private readonly hash: Hash | null;
  private readonly window: number;
  private fd = -1;
  private next = 0;
  /** index of the first chunk not yet wholly written */
  private head = 0;
  /** bytes [0, prefix) are written to the scratch file (and, with MD5 on this thread, hashed) */
  private prefix = 0;
  private waiters: Waiter[] = [];
  private failed: Error | null = null;
  private digest: string | null = null;
  private worker: Worker | null = null;
  private posted = 0;

  constructor(private readonly a: Args) {
    this.hash = a.md5 === 'main' ? createHash('md5') : null;
    this.window = 2 * a.streams * a.chunk;
    for (let start = 0; start < a.bytes; start += a.chunk)
      this.chunks.push({ start, len: Math.min(a.chunk, a.bytes - start), written: 0, held: [] });
  }

  start(): void {
    if (this.fd >= 0) return;
    // 'wx+': created exclusively like ranged-download's 'wx', and readable for the FUSE reads
    this.fd = openSync(this.a.scratch, 'wx+');
    if (this.a.md5 === 'worker') {
      this.worker = new Worker(new URL('./bare-md5-worker.js', import.meta.url), {
        workerData: { fd: this.fd, size: this.a.bytes },
      });
      this.worker.on('error', (err: Error) => this.fail(err));
      this.worker.on('message', (d: string) => {
        this.digest = d;
        this.release();
      });
    }
    const t0 = process.cpuUsage();
    const agent = new http.Agent({ keepAlive: true, maxSockets: this.a.streams });
    const stream = async (): Promise<void> => {
      for (let c = this.chunks[this.next++]; c; c = this.chunks[this.next++]) {
        await this.untilPrefix(c.start - this.window);
        await this.fetch(agent, c);
      }
    };
    Promise.all(Array.from({ length: this.a.streams }, stream))
      .then(() => this.untilPrefix(this.a.bytes)) // the MD5 too
      .then(() => {
        agent.destroy();
        const { user, system } = process.cpuUsage(t0);
        const report = { cpuSeconds: (user + system) / 1e6, md5: this.digest, bytes: this.prefix };
        process.stdout.write(`${JSON.stringify(report)}\n`);
      })
      .catch((err: unknown) => this.fail(err instanceof Error ? err : new Error(String(err))));
  }

  /** Resolves once [0, end) is written; the last byte counts only once the MD5 is known. */
  untilPrefix(end: number): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    if (end <= this.released()) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ end, resolve, reject }));
  }

  /** a reader that reads to EOF never gets an unverified file (wandbfs does the same) */
  private released(): number {
    return this.a.md5 && this.digest === null ? Math.min(this.prefix, this.a.bytes - 1) : this.prefix;
  }

  readAt(buf: Buffer, len: number, pos: number, cb: (bytesOrErrno: number) => void): void {
    read(this.fd, buf, 0, len, pos, (err, n) => cb(err ? Fuse.EIO : n));
  }

  private fetch(agent: http.Agent, c: Chunk): Promise<void> {
    const end = c.start + c.len - 1;
    return new Promise((resolve, reject) => {
      const req = http.get(this.a.url, { agent, headers: { range: `bytes=${c.start}-${end}` } }, (res) => {
        if (res.statusCode !== 206) {
          res.resume();
          reject(new Error(`range ${c.start}-${end}: HTTP ${String(res.statusCode)}, want 206`));
          return;
        }
        res.on('data', (buf: Buffer) => this.arrived(c, buf));
        const short = (): Error => new Error(`range ${c.start}-${end}: ended at ${c.start + c.written}`);
        res.on('end', () => (c.written === c.len ? resolve() : reject(short())));
        res.on('error', reject);
      });
      req.on('error', reject);
    });
  }

  private arrived(c: Chunk, buf: Buffer): void {
    if (c.written + buf.length > c.len) throw new Error(`range at ${c.start}: more bytes than asked for`);
    writeAllAt(this.fd, buf, c.start + c.written);
    c.written += buf.length;
    if (c !== this.chunks[this.head]) {
      if (this.hash) c.held.push(buf);
      return;
    }
    this.hash?.update(buf);
    this.advance();
  }

  private advance(): void {
    for (let c = this.chunks[this.head]; c; c = this.chunks[this.head]) {
      for (const b of c.held) this.hash?.update(b);
      c.held = [];
      this.prefix = c.start + c.written;
      if (c.written < c.len) break;
      this.head++;
    }
    if (this.head === this.chunks.length && this.hash) this.digest = this.hash.digest('base64');
    const post = this.prefix - this.posted >= POST_BYTES || this.prefix === this.a.bytes;
    if (this.worker && post && this.prefix > this.posted)
      this.worker.postMessage((this.posted = this.prefix));
    this.release();
  }

  private release(): void {
    const upTo = this.released();
    const ready = this.waiters.filter((w) => w.end <= upTo);
    this.waiters = this.waiters.filter((w) => w.end > upTo);
    for (const w of ready) w.resolve();
  }

  private fail(err: Error): void {
    process.stderr.write(`bare-cold-read: ${err.message}\n`);
    this.failed = err;
    for (const w of this.waiters) w.reject(err);
    this.waiters = [];
  }
}

function main(): void {
  const a = parse();
  const cold = new ColdRead(a);
  const fuse = fuseWithRawOptions(
    a.mnt,
    {
      ...oneFileOps(a.bytes, () => cold.start()),
      read(_path, _fd, buf, len, pos, cb) {
        const end = Math.min(pos + len, a.bytes);
        if (end <= pos) return cb(0);
        cold.untilPrefix(end).then(
          () => cold.readAt(buf, end - pos, pos, cb),
          () => cb(Fuse.EIO),
        );
      },
    },
    {
      force: true,
      autoUnmount: true,
      attrTimeout: 0,
      entryTimeout: 0,
      // a read may wait for the whole download (and its MD5): the 15 s default would be ETIMEDOUT
      timeout: { default: 30_000, read: 600_000 },
    },
    'ro,fsname=wandbfs-bench-bare,default_permissions',
  );
  serveUntilSignalled(fuse, 'bare-cold-read');
}

main();
