/**
 * The floor of a cold random read: the simplest fuse-native filesystem that answers each read with
 * one ranged GET of exactly its bytes, over one keep-alive connection, caching nothing. Every cold
 * random read through Node + fuse-native must at least do this (one FUSE round trip and one HTTP
 * round trip, from a process of its own); what wandbfs reads below it is its own work.
 * Run as a child process (a process must never make sync fs calls into its own mount):
 *
 *   node dist/bench/bare-random-read.js <url> <bytes> <mountpoint>
 */
import http from 'node:http';
import { Fuse, fuseWithRawOptions, oneFileOps, serveUntilSignalled } from './lib/fuse.js';

function main(): void {
  const [url, bytesArg, mnt] = process.argv.slice(2);
  const bytes = Number(bytesArg);
  if (!url || !mnt || !Number.isSafeInteger(bytes) || bytes <= 0) {
    process.stderr.write('usage: bare-random-read <url> <bytes> <mountpoint>\n');
    process.exit(2);
  }
  if (new URL(url).protocol !== 'http:') throw new Error('bare-random-read speaks plain http only');
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

  /** Fills buf[0, end - pos) from one GET; answers the byte count, or EIO for anything but a whole 206. */
  const readRange = (buf: Buffer, pos: number, end: number, cb: (n: number) => void): void => {
    let got = 0;
    let answered = false;
    const answer = (n: number): void => {
      if (answered) return;
      answered = true;
      cb(n);
    };
    const req = http.get(url, { agent, headers: { range: `bytes=${pos}-${end - 1}` } }, (res) => {
      if (res.statusCode !== 206) {
        res.resume();
        return answer(Fuse.EIO);
      }
      res.on('data', (b: Buffer) => {
        if (got + b.length <= end - pos) b.copy(buf, got);
        got += b.length;
      });
      res.on('end', () => answer(got === end - pos ? got : Fuse.EIO));
      res.on('error', () => answer(Fuse.EIO));
    });
    req.on('error', () => answer(Fuse.EIO));
  };

  const fuse = fuseWithRawOptions(
    mnt,
    {
      ...oneFileOps(bytes),
      read(_path, _fd, buf, len, pos, cb) {
        const end = Math.min(pos + len, bytes);
        if (end <= pos) return cb(0);
        readRange(buf, pos, end, cb);
      },
    },
    { force: true, autoUnmount: true, attrTimeout: 0, entryTimeout: 0 },
    'ro,fsname=wandbfs-bench-bare-random,default_permissions',
  );
  serveUntilSignalled(fuse, 'bare-random-read');
}

main();
