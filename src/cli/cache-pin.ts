import { resolve } from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { sendControl } from '../admin/control.js';
import { unpinAllInCacheDir } from '../app.js';
import type { PinResult } from '../admin/warm-protocol.js';
import { defaultCacheDir } from '../core/cache-dir.js';
import { ConfigError } from '../core/errors.js';
import { formatBytes } from '../core/units.js';
import { out, runCommand } from './print.js';
import { daemonError, mountTargets } from './target.js';

interface PinArgs {
  paths?: string[];
  all?: boolean;
  cacheDir?: string;
  debug?: boolean;
}

/** Pins go through the daemon of the mount holding the paths: it knows which blobs they are. */
async function setPins(paths: readonly string[], pin: boolean): Promise<void> {
  for (const t of await mountTargets(paths)) {
    const reply = await sendControl(t.socket, { op: 'pin', paths: t.inner, pin });
    if (!reply.ok) throw daemonError(`${pin ? 'pin' : 'unpin'} in ${t.mountPoint} failed`, reply);
    const r = reply.result as PinResult;
    const verb = pin ? 'pinned' : 'unpinned';
    out(
      `${t.mountPoint}: ${r.blobs} file(s), ${formatBytes(r.bytes)}; ${r.changed} ${verb} now` +
        (r.changed < r.blobs
          ? `, ${r.blobs - r.changed} ${pin ? 'were pinned already' : 'were not pinned'}`
          : ''),
    );
  }
}

export const pinCommand: CommandModule<{ cacheDir?: string }, PinArgs> = {
  command: 'pin <paths..>',
  describe: 'Keep the files under these mount paths in the cache: prune and the size limit skip them',
  builder: (y) =>
    y
      .positional('paths', {
        type: 'string',
        array: true,
        demandOption: true,
        describe: 'paths inside a mount',
      })
      .example('$0 cache pin ~/wandb/team/proj/artifacts/model/v3', 'keep this version cached')
      .example(
        '$0 warm --pin ~/wandb/team/proj/artifacts/model/v3',
        'download and pin in one go',
      ) as unknown as Argv<PinArgs>,
  handler: (a: ArgumentsCamelCase<PinArgs>) => runCommand(a.debug, () => setPins(a.paths ?? [], true)),
};

export const unpinCommand: CommandModule<{ cacheDir?: string }, PinArgs> = {
  command: 'unpin [paths..]',
  describe: 'Let prune and the size limit remove these files again (--all: every pin of --cache-dir)',
  builder: (y) =>
    y
      .positional('paths', { type: 'string', array: true, describe: 'paths inside a mount' })
      .option('all', { type: 'boolean', default: false, describe: 'remove every pin (no mount needed)' })
      .example('$0 cache unpin ~/wandb/team/proj/artifacts/model/v3', 'release one version')
      .example('$0 cache unpin --all', 'release every pin of the default cache') as unknown as Argv<PinArgs>,
  handler: (a: ArgumentsCamelCase<PinArgs>) =>
    runCommand(a.debug, async () => {
      const paths = a.paths ?? [];
      if (a.all === true) {
        if (paths.length > 0)
          throw new ConfigError('give paths or --all, not both', 'e.g. `wandbfs cache unpin --all`');
        out(`unpinned ${await unpinAllInCacheDir(resolve(a.cacheDir ?? defaultCacheDir()))} blob(s)`);
        return;
      }
      if (paths.length === 0)
        throw new ConfigError(
          'name the paths to unpin, or --all',
          'e.g. `wandbfs cache unpin ~/wandb/e/p/artifacts/m/v3`',
        );
      await setPins(paths, false);
    }),
};
