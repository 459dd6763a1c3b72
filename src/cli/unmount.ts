import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { errorMessage } from '../core/errors.js';
import { findMount } from '../admin/mountinfo.js';
import { isAlive, readRecord } from '../admin/registry.js';
import { NotMountedError, UnmountError } from './errors.js';
import { out, runCommand } from './print.js';

const execFileP = promisify(execFile);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface Args {
  dir: string;
  lazy: boolean;
  timeout: number;
  debug?: boolean;
}

/**
 * Asks the daemon that owns the mount to stop (SIGTERM: it drains open files, unmounts and flushes);
 * without a live daemon (crash, stale mount) it unmounts with fusermount directly.
 */
export async function unmountDir(dirArg: string, lazy: boolean, timeoutS: number): Promise<string> {
  const dir = resolve(dirArg);
  const mount = await findMount(dir);
  const rec = await readRecord(dir);
  if (rec && isAlive(rec.pid) && rec.pid !== process.pid) {
    process.kill(rec.pid, 'SIGTERM');
    const until = Date.now() + timeoutS * 1000;
    while (Date.now() < until) {
      if (!(await findMount(dir)) && !isAlive(rec.pid))
        return `unmounted ${dir} (daemon pid ${rec.pid} stopped)`;
      await sleep(100);
    }
    if (!(await findMount(dir))) return `unmounted ${dir} (daemon pid ${rec.pid} still exiting)`;
    throw new UnmountError(
      `the daemon (pid ${rec.pid}) did not unmount ${dir} within ${timeoutS} s`,
      `files may still be open (check: fuser -vm ${dir}); retry, or use --lazy`,
    );
  }
  if (!mount) throw new NotMountedError(`${dir} is not mounted`);
  try {
    await execFileP('fusermount', [lazy ? '-uz' : '-u', dir]);
  } catch (err) {
    throw new UnmountError(
      `fusermount could not unmount ${dir}: ${errorMessage(err).trim()}`,
      `if it is busy, close the files open under it or run: wandbfs unmount --lazy ${dir}`,
    );
  }
  return `unmounted ${dir}`;
}

export const unmountCommand: CommandModule<object, Args> = {
  command: 'unmount <dir>',
  aliases: ['umount'],
  describe: 'Unmount a wandbfs mount (stops its daemon cleanly)',
  builder: (y: Argv) =>
    y
      .positional('dir', { type: 'string', demandOption: true, describe: 'mount point' })
      .option('lazy', {
        type: 'boolean',
        default: false,
        describe: 'detach even if files are open (fusermount -uz)',
      })
      .option('timeout', { type: 'number', default: 30, describe: 'seconds to wait for the daemon' })
      .example('$0 unmount ~/wandb', 'stop the mount at ~/wandb')
      .example('$0 unmount --lazy ~/wandb', 'detach now even though a file is open') as unknown as Argv<Args>,
  handler: (argv: ArgumentsCamelCase<Args>) =>
    runCommand(argv.debug, async () => {
      out(await unmountDir(argv.dir, argv.lazy, argv.timeout));
    }),
};
