#!/usr/bin/env -S node --max-semi-space-size=1 --initial-old-space-size=32
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { wandbfsVersion } from '../core/version.js';
import { cacheCommand } from './cache.js';
import { doctorCommand } from './doctor.js';
import { mountCommand } from './mount.js';
import { refreshCommand } from './refresh.js';
import { statusCommand } from './status.js';
import { unmountCommand } from './unmount.js';
import { warmCommand } from './warm.js';

await yargs(hideBin(process.argv))
  .scriptName('wandbfs')
  .usage(
    '$0 <command> [options]\n\nMount Weights & Biases runs, files and artifacts as a read-only directory tree.',
  )
  .command(mountCommand)
  .command(unmountCommand)
  .command(statusCommand)
  .command(refreshCommand)
  .command(warmCommand)
  .command(doctorCommand)
  .command(cacheCommand)
  .option('debug', { type: 'boolean', default: false, global: true, describe: 'show stack traces on errors' })
  .example('$0 mount ~/wandb', 'mount in the background (key from WANDB_API_KEY or `wandb login`)')
  .example('$0 status', 'list mounts, pids and cache dirs')
  .example('$0 unmount ~/wandb', 'unmount cleanly')
  .example('$0 warm ~/wandb/team/proj/artifacts/model/v3', 'download a version into the cache now')
  .example('$0 doctor', 'diagnose FUSE, credentials and the server')
  .demandCommand(1, 'name a command, e.g. `wandbfs mount ~/wandb` (see --help)')
  .strict()
  .version(wandbfsVersion())
  .help()
  .alias('h', 'help')
  .wrap(Math.min(110, process.stdout.columns || 100))
  .fail((msg, err) => {
    if (err) {
      process.stderr.write(`wandbfs: ${err.message}\n`);
    } else {
      process.stderr.write(`wandbfs: ${msg}\n  hint: see \`wandbfs --help\`\n`);
    }
    process.exit(2);
  })
  .parseAsync();
