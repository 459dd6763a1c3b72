/**
 * The MD5 thread of `bare-cold-read --md5-worker`: hashes the scratch file in order up to each
 * prefix the main thread posts, and posts the base64 digest once it reaches the file's size.
 * Reading the bytes back costs a page-cache copy, but keeps MD5 off the thread that serves FUSE and
 * the sockets, as wandbfs's hash workers do (socket buffers cannot be transferred: node slices them
 * from larger allocations, so posting them would copy them anyway).
 */
import { createHash } from 'node:crypto';
import { readSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';

const { fd, size } = workerData as { fd: number; size: number };
const hash = createHash('md5');
const buf = Buffer.allocUnsafe(1024 * 1024);
let done = 0;

parentPort?.on('message', (prefix: number) => {
  while (done < prefix) {
    const n = readSync(fd, buf, 0, Math.min(buf.length, prefix - done), done);
    if (n <= 0) throw new Error(`scratch file ends at ${done}, want ${prefix}`);
    hash.update(buf.subarray(0, n));
    done += n;
  }
  if (done === size) parentPort?.postMessage(hash.digest('base64'));
});
