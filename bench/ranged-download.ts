/**
 * The download floor of a cold read: the simplest node:http program that fetches a file the way a
 * parallel fill does (fixed-size ranged GETs over a few keep-alive connections) and writes each
 * socket chunk at its offset into a new file, measuring its own CPU. Run as a child process:
 *
 *   node dist/bench/ranged-download.js <url> <bytes> <new-file> [--streams 8] [--chunk-mib 8]
 *
 * Prints one JSON line: {"cpuSeconds": user+system from the first request to the file's close,
 * "bytes", "seconds": wall time}. Fails on any status but 206 or a short range: a floor measured on
 * fewer bytes would be too low.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import http from 'node:http';
import { parseArgs } from 'node:util';

function writeAllAt(fd: number, buf: Buffer, pos: number): void {
  for (let off = 0; off < buf.length;) off += writeSync(fd, buf, off, buf.length - off, pos + off);
}

function fetchRange(agent: http.Agent, url: string, fd: number, start: number, end: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent, headers: { range: `bytes=${start}-${end}` } }, (res) => {
      if (res.statusCode !== 206) {
        res.resume();
        reject(new Error(`range ${start}-${end}: HTTP ${String(res.statusCode)}, want 206`));
        return;
      }
      let pos = start;
      res.on('data', (chunk: Buffer) => {
        writeAllAt(fd, chunk, pos);
        pos += chunk.length;
      });
      res.on('end', () =>
        pos === end + 1 ? resolve() : reject(new Error(`range ${start}-${end}: ended at ${pos}`)),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      streams: { type: 'string', default: '8' },
      'chunk-mib': { type: 'string', default: '8' },
    },
  });
  const [url, bytesArg, out] = positionals;
  const bytes = Number(bytesArg);
  const streams = Number(values.streams);
  const chunk = Number(values['chunk-mib']) * 1024 * 1024;
  if (!url || !out || !Number.isSafeInteger(bytes) || bytes <= 0 || !(streams > 0) || !(chunk > 0)) {
    process.stderr.write('usage: ranged-download <url> <bytes> <new-file> [--streams N] [--chunk-mib N]\n');
    process.exit(2);
  }
  if (new URL(url).protocol !== 'http:') throw new Error('ranged-download speaks plain http only');
  const agent = new http.Agent({ keepAlive: true, maxSockets: streams });
  const t0 = process.cpuUsage();
  const wall0 = performance.now();
  const fd = openSync(out, 'wx');
  let next = 0;
  const stream = async (): Promise<void> => {
    while (next < bytes) {
      const start = next;
      next = Math.min(bytes, start + chunk);
      await fetchRange(agent, url, fd, start, next - 1);
    }
  };
  await Promise.all(Array.from({ length: streams }, stream));
  closeSync(fd);
  const used = process.cpuUsage(t0);
  const seconds = (performance.now() - wall0) / 1000;
  agent.destroy();
  process.stdout.write(
    `${JSON.stringify({ cpuSeconds: (used.user + used.system) / 1e6, bytes, seconds })}\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`ranged-download: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
