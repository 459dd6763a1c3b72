/**
 * The direct-HTTP random-read loop (lib/http-random.ts) in a process of its own. In the bench
 * process it shares one event loop with the fake server, so a request never wakes another process;
 * wandbfs's daemon is a separate process from that server, so this is the like-for-like baseline.
 * Takes its job over IPC (the signed URL stays out of argv) and answers with the DirectReads figures.
 */
import { directRandomReads, type DirectReadsJob } from './lib/http-random.js';

process.once('message', (job: DirectReadsJob) => {
  directRandomReads(job.url, job.offsets, job.bs, job.seconds).then(
    (r) => process.send?.({ ok: r }, () => process.exit(0)),
    (err: unknown) => process.send?.({ error: String(err) }, () => process.exit(1)),
  );
});
