import { resolve } from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import {
  cacheDirStats,
  pruneCacheDir,
  verifyCacheDir,
  type PruneReport,
  type VerifyProgress,
} from '../app.js';
import { defaultCacheDir } from '../core/cache-dir.js';
import { ConfigError } from '../core/errors.js';
import { formatBytes, parseDuration, parseSize } from '../core/units.js';
import { pinCommand, unpinCommand } from './cache-pin.js';
import { out, runCommand } from './print.js';

interface CacheArgs {
  cacheDir?: string;
  debug?: boolean;
}
interface PruneArgs extends CacheArgs {
  maxSize?: string;
  olderThan?: string;
  dryRun?: boolean;
}
interface VerifyArgs extends CacheArgs {
  repair?: boolean;
}
interface StatsArgs extends CacheArgs {
  top?: number;
}

/** Runs a subcommand on --cache-dir (src/app.ts opens its database; safe next to a running mount). */
function withCache<T>(a: CacheArgs, body: (dir: string) => Promise<T>): Promise<T> {
  return body(resolve(a.cacheDir ?? defaultCacheDir()));
}

function printPrune(r: PruneReport, verb: string): void {
  const did = r.dryRun ? `would ${verb}` : verb === 'remove' ? 'removed' : `${verb}ed`;
  for (const c of r.removed)
    out(`${did} ${c.key}  ${formatBytes(c.sizeBytes)}  last used ${new Date(c.accessedAtMs).toISOString()}`);
  for (const c of r.skippedPinned)
    out(`skipped ${c.key}  ${formatBytes(c.sizeBytes)}  (open in a running mount)`);
  for (const c of r.keptPinned) out(`kept ${c.key}  ${formatBytes(c.sizeBytes)}  (pinned)`);
  if (r.removedPartials > 0) out(`${did} ${r.removedPartials} interrupted download(s)`);
  out(
    `${r.dryRun ? 'would free' : 'freed'} ${formatBytes(r.freedBytes)} in ${r.removed.length} blob(s); ` +
      `${formatBytes(r.remainingBytes)} remain` +
      (r.skippedPinned.length > 0
        ? `; ${r.skippedPinned.length} pinned blob(s) kept (open in a running mount)`
        : '') +
      (r.keptPinned.length > 0
        ? `; ${r.keptPinned.length} pinned blob(s) kept (${formatBytes(r.keptPinned.reduce((n, c) => n + c.sizeBytes, 0))}, see \`wandbfs cache unpin\`)`
        : ''),
  );
}

const prune: CommandModule<CacheArgs, PruneArgs> = {
  command: 'prune',
  describe: 'Remove least recently used blobs (never ones open in a running mount)',
  builder: (y: Argv<CacheArgs>) =>
    y
      .option('max-size', { type: 'string', describe: 'shrink the cache to at most SIZE, e.g. 50G' })
      .option('older-than', { type: 'string', describe: 'remove blobs not used for DURATION, e.g. 30d' })
      .option('dry-run', { type: 'boolean', default: false, describe: 'only print what would be removed' })
      .example('$0 cache prune --max-size 20G', 'keep the 20 GiB used most recently')
      .example(
        '$0 cache prune --older-than 30d --dry-run',
        'list blobs unused for a month',
      ) as unknown as Argv<PruneArgs>,
  handler: (a: ArgumentsCamelCase<PruneArgs>) =>
    runCommand(a.debug, () =>
      withCache(a, async (dir) => {
        if (a.maxSize === undefined && a.olderThan === undefined) {
          throw new ConfigError(
            'cache prune needs --max-size or --older-than',
            'e.g. `wandbfs cache prune --max-size 20G`',
          );
        }
        const r = await pruneCacheDir(dir, {
          dryRun: a.dryRun === true,
          ...(a.maxSize === undefined ? {} : { maxSizeBytes: parseSize(a.maxSize) }),
          ...(a.olderThan === undefined ? {} : { olderThanMs: parseDuration(a.olderThan) }),
        });
        printPrune(r, 'remove');
      }),
    ),
};

const clear: CommandModule<CacheArgs, PruneArgs> = {
  command: 'clear',
  describe: 'Remove every blob and interrupted download not open in a running mount',
  builder: (y: Argv<CacheArgs>) =>
    y
      .option('dry-run', {
        type: 'boolean',
        default: false,
        describe: 'only print what would be removed',
      })
      .example('$0 cache clear --dry-run', 'list what would be removed')
      .example(
        '$0 cache clear --cache-dir /scratch/wandbfs',
        'empty another cache',
      ) as unknown as Argv<PruneArgs>,
  handler: (a: ArgumentsCamelCase<PruneArgs>) =>
    runCommand(a.debug, () =>
      withCache(a, async (dir) =>
        printPrune(await pruneCacheDir(dir, { all: true, dryRun: a.dryRun === true }), 'remove'),
      ),
    ),
};

const stats: CommandModule<CacheArgs, StatsArgs> = {
  command: 'stats',
  describe: 'Show cache size, blob count, downloads in progress, hit/miss counters, largest blobs',
  builder: (y: Argv<CacheArgs>) =>
    y
      .option('top', {
        type: 'number',
        default: 10,
        describe: 'how many of the largest blobs to list',
      })
      .example('$0 cache stats', 'size, blob count, hit/miss counters, 10 largest blobs')
      .example('$0 cache stats --top 50', 'list the 50 largest blobs') as unknown as Argv<StatsArgs>,
  handler: (a: ArgumentsCamelCase<StatsArgs>) =>
    runCommand(a.debug, () =>
      withCache(a, async (dir) => {
        const s = await cacheDirStats(dir, a.top ?? 10);
        const c = s.counters;
        const lookups = (c['hits'] ?? 0) + (c['misses'] ?? 0);
        out(`cache dir      ${s.dir}`);
        out(
          `blobs          ${s.blobCount} (${formatBytes(s.blobBytes)}), ${s.pinnedCount} open in running mounts`,
        );
        out(
          `pinned         ${s.kept.count} blob(s), ${s.kept.presentCount} of them cached (${formatBytes(s.kept.presentBytes)})`,
        );
        out(
          `partial        ${s.partials.length} download(s) (${s.partials.filter((p) => p.active).length} active)`,
        );
        for (const p of s.partials) {
          out(
            `  ${p.key}  ${formatBytes(p.sizeBytes)}  ${p.doneChunks}/${Math.ceil(p.sizeBytes / p.chunkBytes)} chunks${p.active ? `  (pid ${p.ownerPid})` : ''}`,
          );
        }
        out(
          `hits / misses  ${c['hits'] ?? 0} / ${c['misses'] ?? 0}` +
            (lookups > 0 ? ` (${(((c['hits'] ?? 0) / lookups) * 100).toFixed(1)}% hits)` : ''),
        );
        out(
          `downloaded     ${formatBytes(c['bytesDownloaded'] ?? 0)}; ${c['sdkReuses'] ?? 0} taken from the W&B SDK cache`,
        );
        out(
          `integrity      ${c['integrityFailures'] ?? 0} failed verification(s); ${c['evictions'] ?? 0} eviction(s)`,
        );
        if (s.top.length > 0) out('largest blobs');
        for (const b of s.top)
          out(
            `  ${formatBytes(b.sizeBytes).padStart(10)}  ${b.key}  last used ${new Date(b.accessedAtMs).toISOString()}`,
          );
      }),
    ),
};

const verify: CommandModule<CacheArgs, VerifyArgs> = {
  command: 'verify',
  describe: 'Re-hash every blob against its digest; --repair removes bad ones',
  builder: (y: Argv<CacheArgs>) =>
    y
      .option('repair', {
        type: 'boolean',
        default: false,
        describe: 'remove blobs that fail (unless open in a mount)',
      })
      .example('$0 cache verify', 'report blobs whose content no longer matches their digest')
      .example(
        '$0 cache verify --repair',
        'and remove them (they are downloaded again on next read)',
      ) as unknown as Argv<VerifyArgs>,
  handler: (a: ArgumentsCamelCase<VerifyArgs>) =>
    runCommand(a.debug, () =>
      withCache(a, async (dir) => {
        let lastPrint = Date.now();
        const progress = (p: VerifyProgress): void => {
          if (Date.now() - lastPrint < 1000 || !process.stderr.isTTY) return;
          lastPrint = Date.now();
          process.stderr.write(
            `\rverifying ${p.filesDone}/${p.filesTotal} blobs, ${formatBytes(p.bytesDone)} of ${formatBytes(p.bytesTotal)}   `,
          );
        };
        const r = await verifyCacheDir(dir, { repair: a.repair === true, onProgress: progress });
        if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
        for (const p of r.problems) {
          const what =
            p.action === 'removed'
              ? 'removed'
              : p.action === 'kept-pinned'
                ? 'kept (open in a running mount)'
                : 'bad';
          out(`${what}: ${p.key}: ${p.reason}`);
        }
        if (r.missingFiles.length > 0) {
          out(
            `${r.missingFiles.length} index entr${r.missingFiles.length === 1 ? 'y' : 'ies'} without a file${a.repair ? ' dropped' : ''}`,
          );
        }
        out(`verified ${r.checked} blob(s), ${formatBytes(r.bytesChecked)}: ${r.problems.length} bad`);
        return r.problems.some((p) => p.action !== 'removed') ? 1 : 0;
      }),
    ),
};

/** `wandbfs cache <prune|stats|verify|clear|pin|unpin>`; registered in src/cli/main.ts. */
export const cacheCommand: CommandModule<object, CacheArgs> = {
  command: 'cache <command>',
  describe: 'Inspect and maintain the blob cache (safe while mounts run)',
  builder: (y: Argv) =>
    y
      .option('cache-dir', { type: 'string', describe: `cache directory (default ${defaultCacheDir()})` })
      .command(prune)
      .command(stats)
      .command(verify)
      .command(clear)
      .command(pinCommand)
      .command(unpinCommand)
      .demandCommand(1, 'choose one of: prune, stats, verify, clear, pin, unpin')
      .example('$0 cache stats', 'how big the cache is and what is in it')
      .example('$0 cache prune --max-size 50G --older-than 30d', 'free space, least recently used first')
      .example('$0 cache verify --repair', 'find and remove corrupted blobs') as unknown as Argv<CacheArgs>,
  handler: () => undefined,
};
