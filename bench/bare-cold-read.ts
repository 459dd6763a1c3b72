/**
 * The throughput floor of a cold read: the simplest fuse-native filesystem that does what a cold
 * read through any Node + fuse-native filesystem must do. It shows one file, `data.bin`; its first
 * open starts a parallel ranged download of the URL into a scratch file (exactly like
 * ranged-download.ts), the bytes are hashed with MD5 in file order as the written prefix grows, and
 * each FUSE read waits for the prefix to cover it, then is answered from the scratch file. Run as a
 * child process (a process must never make sync fs calls into its own mount):
 *
 *   node dist/bench/bare-cold-read.js <url> <bytes> <mountpoint> <scratch-file>
 *        [--streams 8] [--chunk-mib 8] [--no-md5]
 *
 * Prints one JSON line as soon as the download and the MD5 are done (before the last read is
 * answered, so it is on stdout by the time the reader sees EOF): {"cpuSeconds": user+system from the
 * first open to then, "md5": base64 or null, "bytes", "seconds"}. Unmounting or SIGTERM deletes
 * nothing: the bench removes the scratch file.
 */
import { createHash, type Hash } from 'node:crypto';
import { openSync, read, writeSync } from 'node:fs';
import http from 'node:http';
import { parseArgs } from 'node:util';
import { Fuse, fuseWithRawOptions, serveUntilSignalled, type FuseStat } from './lib/fuse.js';

const FILE = '/data.bin';

interface Chunk {
  start: number;
  len: number;
  /** bytes written to the scratch file so far; a chunk's bytes arrive (and are written) in order */
  written: number;
  /** socket buffers written but not yet hashed: this chunk was ahead of the prefix when they came */
  held: Buffer[];
}

/** a read (or a stream held back by the window) waiting for the prefix to reach `end` */
type Waiter = { end: number; resolve: () => void; reject: (err: Error) => void };

function writeAllAt(fd: number, buf: Buffer, pos: number): void {
  for (let off = 0; off < buf.length;) off += writeSync(fd, buf, off, buf.length - off, pos + off);
}

type Args = Record<'url' | 'mnt' | 'scratch', string> &
  Record<'bytes' | 'streams' | 'chunk', number> & { md5: boolean };

function parse(): Args {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      streams: { type: 'string', default: '8' },
      'chunk-mib': { type: 'string', default: '8' },
      'no-md5': { type: 'boolean', default: false },
    },
  });
  const [url, bytesArg, mnt, scratch] = positionals;
  const bytes = Number(bytesArg);
  const streams = Number(values.streams);
  const chunk = Number(values['chunk-mib']) * 1024 * 1024;
  const ok = Number.isSafeInteger(bytes) && bytes > 0 && streams > 0 && chunk > 0;
  if (!url || !mnt || !scratch || !ok) {
    process.stderr.write(
      'usage: bare-cold-read <url> <bytes> <mountpoint> <scratch-file> [--streams N] [--chunk-mib N] [--no-md5]\n',
    );
    process.exit(2);
  }
  if (new URL(url).protocol !== 'http:') throw new Error('bare-cold-read speaks plain http only');
  return { url, bytes, mnt, scratch, streams, chunk, md5: !values['no-md5'] };
}

/**
 * The download, the in-order MD5 and the contiguous prefix. MD5 is fed from the socket buffers, not
 * re-read from the scratch file: re-reading would add a page-cache copy per byte that a floor
 * should not pay. A chunk ahead of the prefix keeps its buffers until the prefix reaches it; streams
 * start no chunk more than `window` bytes past the prefix, so held memory stays below ~window.
 */
class ColdRead {
  private readonly chunks: Chunk[] = [];
  private readonly hash: Hash | null;
  private readonly window: number;
  private fd = -1;
  private next = 0;
  /** index of the first chunk not yet wholly written */
  private head = 0;
  /** bytes [0, prefix) are written to the scratch file and (with MD5) hashed */
  private prefix = 0;
  private waiters: Waiter[] = [];
  private failed: Error | null = null;
  private digest: string | null = null;

  constructor(private readonly a: Args) {
    this.hash = a.md5 ? createHash('md5') : null;
    this.window = 2 * a.streams * a.chunk;
    for (let start = 0; start < a.bytes; start += a.chunk)
      this.chunks.push({ start, len: Math.min(a.chunk, a.bytes - start), written: 0, held: [] });
  }

  get started(): boolean {
    return this.fd >= 0;
  }

  start(): void {
    // 'wx+': created exclusively like ranged-download's 'wx', and readable for the FUSE reads
    this.fd = openSync(this.a.scratch, 'wx+');
    const t0 = process.cpuUsage();
    const wall0 = performance.now();
    const agent = new http.Agent({ keepAlive: true, maxSockets: this.a.streams });
    const stream = async (): Promise<void> => {
      while (this.next < this.chunks.length) {
        const c = this.chunks[this.next++];
        if (!c) return;
        await this.untilPrefix(c.start - this.window);
        await this.fetch(agent, c);
      }
    };
    Promise.all(Array.from({ length: this.a.streams }, stream)).then(
      () => {
        agent.destroy();
        const used = process.cpuUsage(t0);
        const cpuSeconds = (used.user + used.system) / 1e6;
        const seconds = (performance.now() - wall0) / 1000;
        const report = { cpuSeconds, md5: this.digest, bytes: this.prefix, seconds };
        process.stdout.write(`${JSON.stringify(report)}\n`);
      },
      (err: unknown) => this.fail(err instanceof Error ? err : new Error(String(err))),
    );
  }

  /** Resolves once [0, end) is written and hashed; end = the file's size also means the MD5 is done. */
  untilPrefix(end: number): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    if (end <= this.prefix) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ end, resolve, reject }));
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
        res.on('end', () =>
          c.written === c.len
            ? resolve()
            : reject(new Error(`range ${c.start}-${end}: ended at ${c.start + c.written}`)),
        );
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
    // the digest is taken before any waiter runs: a read that reaches EOF never sees unverified bytes
    if (this.head === this.chunks.length && this.hash) this.digest = this.hash.digest('base64');
    const ready = this.waiters.filter((w) => w.end <= this.prefix);
    this.waiters = this.waiters.filter((w) => w.end > this.prefix);
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
  const now = new Date();
  const ids = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
  const stat = (mode: number, size: number): FuseStat => ({
    mode,
    size,
    nlink: 1,
    ...ids,
    mtime: now,
    atime: now,
    ctime: now,
  });
  const fuse = fuseWithRawOptions(
    a.mnt,
    {
      getattr(path, cb) {
        if (path === '/') return cb(0, stat(0o40555, 4096));
        if (path === FILE) return cb(0, stat(0o100444, a.bytes));
        cb(Fuse.ENOENT);
      },
      readdir(path, cb) {
        if (path !== '/') return cb(Fuse.ENOENT);
        cb(0, [FILE.slice(1)]);
      },
      open(path, flags, cb) {
        if (path !== FILE) return cb(Fuse.ENOENT);
        if ((flags & 3) !== 0) return cb(Fuse.EROFS);
        if (!cold.started) cold.start();
        cb(0, 1);
      },
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
