/**
 * A pooled worker thread that hashes growing files: for each job the fill says how far the
 * contiguous prefix on disk reaches, and the worker reads and hashes up to there. MD5 costs ~1.5
 * CPU-s per GiB; here it runs beside the FUSE thread instead of delaying its requests. Jobs take
 * turns a slice at a time, so a whole-file verify cannot hold up a fill's running hash.
 */
import { createHash, type Hash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import type { HashWorkerReply, HashWorkerRequest } from './hash-worker-protocol.js';

const SLICE_BYTES = 4 * 1024 * 1024;
/** A job that never catches up with its target still reports this often. */
const PROGRESS_BYTES = 16 * 1024 * 1024;

interface Job {
  path: string;
  hash: Hash;
  fd: number | null;
  pos: number;
  /** pos when progress was last reported */
  reported: number;
  target: number;
  finishing: boolean;
}

const port = parentPort;
if (!port) throw new Error('hash-worker must run in a worker thread');

const jobs = new Map<number, Job>();
const buf = Buffer.allocUnsafe(1024 * 1024);
let pumping = false;

function post(msg: HashWorkerReply): void {
  port?.postMessage(msg);
}

function drop(id: number): void {
  const job = jobs.get(id);
  jobs.delete(id);
  if (job?.fd != null) closeSync(job.fd);
}

/** Hashes at most one slice of one job; reports progress, or the digest once finished. */
function step(id: number, job: Job): void {
  job.fd ??= openSync(job.path, 'r');
  const stop = Math.min(job.target, job.pos + SLICE_BYTES);
  while (job.pos < stop) {
    const n = readSync(job.fd, buf, 0, Math.min(buf.length, stop - job.pos), job.pos);
    if (n === 0) throw new Error(`unexpected end of file at ${job.pos}`);
    job.hash.update(buf.subarray(0, n));
    job.pos += n;
  }
  if (job.pos >= job.target && job.finishing) {
    post({ type: 'digest', id, hex: job.hash.digest('hex'), pos: job.pos });
    drop(id);
  } else if (job.pos >= job.target || job.pos - job.reported >= PROGRESS_BYTES) {
    job.reported = job.pos;
    post({ type: 'progress', id, pos: job.pos });
  }
}

/** Round-robin over jobs with work, a slice each, yielding between turns so messages get in. */
function pump(): void {
  pumping = false;
  let more = false;
  for (const [id, job] of [...jobs]) {
    if (job.pos >= job.target && !job.finishing) continue;
    try {
      step(id, job);
    } catch (err) {
      post({ type: 'error', id, message: err instanceof Error ? err.message : String(err) });
      drop(id);
      continue;
    }
    if (jobs.has(id) && (job.pos < job.target || job.finishing)) more = true;
  }
  if (more) schedule();
}

function schedule(): void {
  if (pumping) return;
  pumping = true;
  setImmediate(pump);
}

port.on('message', (msg: HashWorkerRequest) => {
  if (msg.type === 'open') {
    jobs.set(msg.id, {
      path: msg.path,
      hash: createHash(msg.algo),
      fd: null,
      pos: 0,
      reported: 0,
      target: 0,
      finishing: false,
    });
    return;
  }
  const job = jobs.get(msg.id);
  if (!job) return;
  if (msg.type === 'drop') drop(msg.id);
  else if (msg.type === 'extend') job.target = Math.max(job.target, msg.upTo);
  else job.finishing = true;
  if (msg.type !== 'drop') schedule();
});
