/** Shared plumbing for the wandbfs rows: which file to read, mounting per sample, finding the path. */
import type { BenchContext, NetFile } from '../lib/context.js';
import { locateRunFile, type FakeWandb, type WandbfsMount } from '../lib/wandbfs.js';

export interface WandbfsSubject {
  fake: FakeWandb;
  file: NetFile;
}

/**
 * The fixture file a wandbfs row reads (the same file curl and rclone read), or why there is none.
 * Network baselines read the fake's bytes only when it is available, so a NetFile without a
 * fixture file means wandbfs cannot be measured.
 */
export async function subjectFor(ctx: BenchContext, f: NetFile | null): Promise<WandbfsSubject | string> {
  if (ctx.wandbfs.unavailable !== null) return ctx.wandbfs.notAvailable;
  if (!f) return 'skipped (needs the 5 GiB file: full run only)';
  if (!f.fixtureFile) return 'wandbfs: not available (the fake server has no matching file)';
  return { fake: await ctx.wandbfs.fake('huge-file'), file: f };
}

/** Mounts, runs `fn`, always unmounts; removes the temp dir unless the cache is to be reused. */
export async function withMount<T>(
  ctx: BenchContext,
  fake: FakeWandb,
  opts: { cacheDir?: string; keepDir?: boolean; extraArgs?: string[]; cpuList?: string },
  fn: (m: WandbfsMount) => Promise<T>,
): Promise<T> {
  const m = await ctx.wandbfs.mount(fake, {
    ...(opts.cacheDir ? { cacheDir: opts.cacheDir } : {}),
    ...(opts.extraArgs ? { extraArgs: opts.extraArgs } : {}),
    ...(opts.cpuList ? { cpuList: opts.cpuList } : {}),
  });
  const lastWords = (why: string): void => {
    const tail = m.daemon.output().trim().split('\n').slice(-12).join('\n    ');
    ctx.log(`wandbfs daemon ${why}; its last output:\n    ${tail || '(none)'}`);
  };
  try {
    return await fn(m);
  } catch (err) {
    lastWords(`${m.daemon.exited() ? 'exited' : 'running'} when the sample failed`);
    throw err;
  } finally {
    // a daemon that died under a sample is the finding, whatever the sample reported
    if (m.daemon.exited()) {
      const c = m.daemon.child;
      lastWords(`exited on its own (code ${String(c.exitCode)}, signal ${String(c.signalCode)})`);
    }
    await m.stop();
    if (!opts.keepDir) await m.removeDir();
  }
}

/** Path of the subject file in a live mount (listing the parents is not part of any timing). */
export async function pathIn(m: WandbfsMount, f: NetFile): Promise<string> {
  if (!f.fixtureFile) throw new Error('not a fixture file');
  return locateRunFile(m.mnt, f.fixtureFile, f.sizeBytes);
}
