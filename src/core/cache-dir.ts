import { homedir } from 'node:os';
import { join } from 'node:path';

type Env = Record<string, string | undefined>;

/** `${XDG_CACHE_HOME:-~/.cache}`, the platform cache dir on Linux. */
function userCacheDir(env: Env, home: string): string {
  const xdg = env['XDG_CACHE_HOME'];
  return xdg && xdg.length > 0 ? xdg : join(home, '.cache');
}

/** `${XDG_CACHE_HOME:-~/.cache}/wandbfs`: where blobs and the database live unless --cache-dir says otherwise. */
export function defaultCacheDir(env: Env = process.env, home: string = homedir()): string {
  return join(userCacheDir(env, home), 'wandbfs');
}

/**
 * The W&B SDK's cache root, found where the SDK puts it: `$WANDB_CACHE_DIR`, else the platform cache
 * dir + `wandb` (Python platformdirs and Go os.UserCacheDir both honour XDG_CACHE_HOME).
 */
export function defaultSdkCacheDir(env: Env = process.env, home: string = homedir()): string {
  const dir = env['WANDB_CACHE_DIR'];
  return dir && dir.length > 0 ? dir : join(userCacheDir(env, home), 'wandb');
}
