import { homedir } from 'node:os';
import { join } from 'node:path';

type Env = Record<string, string | undefined>;

/** `${XDG_CACHE_HOME:-~/.cache}/wandbfs`: where blobs and the database live unless --cache-dir says otherwise. */
export function defaultCacheDir(env: Env = process.env, home: string = homedir()): string {
  const base =
    env['XDG_CACHE_HOME'] && env['XDG_CACHE_HOME'].length > 0 ? env['XDG_CACHE_HOME'] : join(home, '.cache');
  return join(base, 'wandbfs');
}

/** The W&B SDK's cache root (`$WANDB_CACHE_DIR`, default `~/.cache/wandb`), read-only for us. */
export function defaultSdkCacheDir(env: Env = process.env, home: string = homedir()): string {
  const dir = env['WANDB_CACHE_DIR'];
  return dir && dir.length > 0 ? dir : join(home, '.cache', 'wandb');
}
