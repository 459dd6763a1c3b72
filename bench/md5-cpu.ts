/**
 * The MD5 floor of a cold read: the CPU seconds node's crypto spends hashing `bytes` bytes, and
 * nothing else (no I/O: the bytes come from a 64 MiB buffer in memory, larger than the CPU caches,
 * fed 1 MiB per update like the daemon's hash worker). Run as a child process, so the bench's own
 * heap, threads and JIT state do not count:
 *
 *   node dist/bench/md5-cpu.js <bytes>
 *
 * Prints one JSON line: {"cpuSeconds": user+system of this process during the hashing, "bytes"}.
 */
import { createHash, randomBytes } from 'node:crypto';

const SOURCE_BYTES = 64 * 1024 * 1024;
const UPDATE_BYTES = 1024 * 1024;

function main(): void {
  const bytes = Number(process.argv[2]);
  if (!Number.isSafeInteger(bytes) || bytes <= 0) {
    process.stderr.write('usage: md5-cpu <bytes>\n');
    process.exit(2);
  }
  const source = randomBytes(SOURCE_BYTES);
  const t0 = process.cpuUsage();
  const hash = createHash('md5');
  for (let done = 0; done < bytes;) {
    const off = done % SOURCE_BYTES;
    const n = Math.min(UPDATE_BYTES, bytes - done, SOURCE_BYTES - off);
    hash.update(source.subarray(off, off + n));
    done += n;
  }
  hash.digest();
  const used = process.cpuUsage(t0);
  process.stdout.write(`${JSON.stringify({ cpuSeconds: (used.user + used.system) / 1e6, bytes })}\n`);
}

main();
