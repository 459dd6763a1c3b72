import { Worker } from 'node:worker_threads';
import type { DigestAlgo } from '../core/digest.js';
import type { HashWorkerReply, HashWorkerRequest } from './hash-worker-protocol.js';

/**
 * Worker threads shared by every hash in the process. A thread per fill cost ~10 MiB of RSS each
 * (its own V8 isolate): 64 concurrent cold reads of different files peaked near 1 GiB. MD5 is
 * CPU-bound, so more threads than this would only take turns on the same cores.
 */
export const HASH_THREADS = 2;
/** An idle thread is let go after this long, so a quiet mount holds no isolate. */
const IDLE_MS = 10_000;

export interface HashJobEvents {
  reply(m: HashWorkerReply): void;
  /** the thread died; the job is lost */
  failed(err: Error): void;
}

interface PoolThread {
  worker: Worker;
  jobs: Map<number, HashJobEvents>;
  idle: NodeJS.Timeout | null;
}

export interface HashJob {
  /** bytes [0, upTo) of the file are on disk */
  extend(upTo: number): void;
  /** asks for the digest once every extended byte is hashed */
  finish(): void;
  /** stops listening and tells the thread to forget the job */
  drop(): void;
}

let nextId = 1;
const threads: PoolThread[] = [];

function spawn(): PoolThread {
  const t: PoolThread = {
    worker: new Worker(new URL('./hash-worker.js', import.meta.url)),
    jobs: new Map(),
    idle: null,
  };
  // A thread never keeps the process alive: its jobs belong to fills, which hold their own handles.
  t.worker.unref();
  t.worker.on('message', (m: HashWorkerReply) => t.jobs.get(m.id)?.reply(m));
  const lost = (err: Error): void => {
    retire(t);
    const jobs = [...t.jobs.values()];
    t.jobs.clear();
    for (const j of jobs) j.failed(err);
  };
  t.worker.on('error', (err: unknown) => lost(err instanceof Error ? err : new Error(String(err))));
  t.worker.on('exit', () => lost(new Error('hash worker exited')));
  threads.push(t);
  return t;
}

function retire(t: PoolThread): void {
  const i = threads.indexOf(t);
  if (i >= 0) threads.splice(i, 1);
  if (t.idle) clearTimeout(t.idle);
  t.idle = null;
}

function pick(): PoolThread {
  const least = threads.reduce<PoolThread | null>((a, t) => (!a || t.jobs.size < a.jobs.size ? t : a), null);
  if (least && (least.jobs.size === 0 || threads.length >= HASH_THREADS)) return least;
  return spawn();
}

/** Starts a hash of the file at `path` on a pooled thread. */
export function openHashJob(path: string, algo: DigestAlgo, events: HashJobEvents): HashJob {
  const t = pick();
  const id = nextId++;
  if (t.idle) clearTimeout(t.idle);
  t.idle = null;
  t.jobs.set(id, events);
  const send = (m: HashWorkerRequest): void => t.worker.postMessage(m);
  send({ type: 'open', id, path, algo });
  return {
    extend: (upTo) => send({ type: 'extend', id, upTo }),
    finish: () => send({ type: 'finish', id }),
    drop: () => {
      if (!t.jobs.delete(id)) return;
      send({ type: 'drop', id });
      if (t.jobs.size === 0 && threads.includes(t)) {
        t.idle = setTimeout(() => {
          retire(t);
          void t.worker.terminate();
        }, IDLE_MS);
        t.idle.unref();
      }
    },
  };
}

/** Threads alive now (for tests and status). */
export function hashThreads(): number {
  return threads.length;
}
