import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { WandbApiClient } from './api/client.js';
import { OfflineError } from './api/connectivity.js';
import { AuthError } from './api/errors.js';
import type { Db } from './core/db.js';
import { WandbfsError, errorMessage } from './core/errors.js';
import type { Logger } from './core/log.js';

/**
 * W&B could not be reached at mount time and the cache holds nothing from that server: a mount
 * would only answer "Network is unreachable". Refused like a bad key, with the way around it.
 */
export class UnreachableAtMountError extends WandbfsError {
  constructor(baseUrl: string, reason: string, cacheDir: string) {
    super(
      'ERR_UNREACHABLE_AT_MOUNT',
      `cannot reach W&B at ${baseUrl} (${reason}), and the cache ${cacheDir} holds no listings from it`,
      {
        hint:
          'check --base-url / WANDB_BASE_URL and the network (VPN, proxy); ' +
          'to mount anyway and serve only what the cache holds, add --offline',
      },
    );
  }
}

/**
 * The base URLs this cache dir has listed from. Listing keys in wandbfs.db do not name the server,
 * so this sidecar is what tells "the cache holds data for this server" at an offline mount.
 */
const SERVERS_FILE = 'servers.json';

interface ServersFile {
  servers: Record<string, { lastOnlineAt: string }>;
}

async function readServers(cacheDir: string): Promise<ServersFile> {
  try {
    const v = JSON.parse(await readFile(join(cacheDir, SERVERS_FILE), 'utf8')) as Partial<ServersFile>;
    if (typeof v.servers === 'object' && v.servers !== null) return { servers: v.servers };
  } catch {
    // missing or unreadable: nothing recorded
  }
  return { servers: {} };
}

export async function recordServer(cacheDir: string, baseUrl: string, now = new Date()): Promise<void> {
  const file = await readServers(cacheDir);
  file.servers[baseUrl] = { lastOnlineAt: now.toISOString() };
  const path = join(cacheDir, SERVERS_FILE);
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(file, null, 2) + '\n', { mode: 0o600 });
  await rename(tmp, path);
}

/** The server was reached from this cache dir before and at least one listing was completed. */
export async function holdsListingsFor(db: Db, cacheDir: string, baseUrl: string): Promise<boolean> {
  if (!(baseUrl in (await readServers(cacheDir)).servers)) return false;
  return db.prepare('SELECT 1 FROM listings WHERE fetched_at_ms IS NOT NULL LIMIT 1').get() !== undefined;
}

export interface ServerCheck {
  api: WandbApiClient;
  db: Db;
  cacheDir: string;
  baseUrl: string;
  offline: boolean;
  log: Logger;
}

/**
 * Before mounting: a rejected key is refused (a mount where everything is EACCES helps nobody);
 * an unreachable server is refused unless the cache holds listings from it, which are then served
 * offline while the connectivity layer keeps probing. --offline skips the check altogether. A slow
 * or failing (5xx) server is only a warning: it is reachable, and requests retry as usual.
 */
export async function checkServer(c: ServerCheck): Promise<void> {
  if (c.offline) {
    c.api.connectivity.startOffline('mounted with --offline');
    return;
  }
  try {
    const viewer = await c.api.viewer(AbortSignal.timeout(15_000));
    c.log.info('logged in to W&B', { user: viewer.username });
    await recordServer(c.cacheDir, c.baseUrl).catch((err: unknown) =>
      c.log.warn('cannot record the server in the cache dir', { error: errorMessage(err) }),
    );
  } catch (err) {
    if (err instanceof AuthError) throw err;
    if (err instanceof OfflineError) {
      const reason = c.api.connectivity.snapshot().reason ?? errorMessage(err);
      if (!(await holdsListingsFor(c.db, c.cacheDir, c.baseUrl))) {
        throw new UnreachableAtMountError(c.baseUrl, reason, c.cacheDir);
      }
      c.log.warn('W&B is unreachable at mount; serving cached data offline', { reason });
      return;
    }
    c.log.warn('W&B did not answer at mount; serving what the cache holds', { error: errorMessage(err) });
  }
}
