/**
 * Worker thread that hashes a growing file: the fill tells it how far the contiguous prefix on disk
 * reaches, it reads and hashes up to there. MD5 costs ~1.7 CPU-s per GiB; here it runs on another
 * core instead of delaying FUSE requests on the main thread.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import type { HashWorkerData, HashWorkerReply, HashWorkerRequest } from './hash-worker-protocol.js';

const port = parentPort;
const data = workerData as HashWorkerData;
if (!port) throw new Error('hash-worker must run in a worker thread');

const hash = createHash(data.algo);
const buf = Buffer.allocUnsafe(1024 * 1024);
const fd = openSync(data.path, 'r');
let pos = 0;
let target = 0;

function post(msg: HashWorkerReply): void {
  port?.postMessage(msg);
}

port.on('message', (msg: HashWorkerRequest) => {
  try {
    if (msg.type === 'extend') {
      target = Math.max(target, msg.upTo);
      while (pos < target) {
        const n = readSync(fd, buf, 0, Math.min(buf.length, target - pos), pos);
        if (n === 0) throw new Error(`unexpected end of file at ${pos}`);
        hash.update(buf.subarray(0, n));
        pos += n;
      }
      post({ type: 'progress', pos });
    } else {
      closeSync(fd);
      post({ type: 'digest', hex: hash.digest('hex'), pos });
      port.close();
    }
  } catch (err) {
    post({ type: 'error', message: err instanceof Error ? err.message : String(err) });
    port.close();
  }
});
