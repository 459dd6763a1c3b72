import { resolve } from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { sendControl } from '../admin/control.js';
import { listWandbfsMounts } from '../admin/mountinfo.js';
import { readRecord } from '../admin/registry.js';
import { NotMountedError, RefreshError } from './errors.js';
import { out, runCommand } from './print.js';

interface Args {
  path: string;
  debug?: boolean;
}

/** Finds the mount holding `path` (lexically; nothing inside the mount is touched) and its inner path. */
export async function locate(pathArg: string): Promise<{ mountPoint: string; inner: string }> {
  const abs = resolve(pathArg);
  const mounts = (await listWandbfsMounts()).map((m) => m.mountPoint).sort((a, b) => b.length - a.length);
  for (const mp of mounts) {
    if (abs === mp) return { mountPoint: mp, inner: '/' };
    if (abs.startsWith(mp.endsWith('/') ? mp : mp + '/'))
      return { mountPoint: mp, inner: abs.slice(mp.length) };
  }
  throw new NotMountedError(`${abs} is not inside a wandbfs mount`);
}

export const refreshCommand: CommandModule<object, Args> = {
  command: 'refresh <path>',
  describe: 'Re-list a directory subtree from W&B now (ignores freshness TTLs)',
  builder: (y: Argv) =>
    y
      .positional('path', { type: 'string', demandOption: true, describe: 'a path inside a mount' })
      .example('$0 refresh ~/wandb/my-team/my-proj/runs', 'see runs started a moment ago')
      .example('$0 refresh .', 'refresh the directory you are in') as unknown as Argv<Args>,
  handler: (argv: ArgumentsCamelCase<Args>) =>
    runCommand(argv.debug, async () => {
      const { mountPoint, inner } = await locate(argv.path);
      const rec = await readRecord(mountPoint);
      if (!rec) throw new NotMountedError(`no running wandbfs owns ${mountPoint}`);
      const reply = await sendControl(rec.socket, { op: 'refresh', path: inner });
      if (!reply.ok) throw new RefreshError(`refresh of ${inner} failed: ${reply.error}`);
      out(`refreshed ${inner} in ${mountPoint}`);
    }),
};
