/**
 * An in-process mount of the real composition root over a fake server (W&B SDK cache off, so the
 * machine's own ~/.cache/wandb never serves bytes); cleanup() always unmounts and removes its dirs.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApp, type AppConfig, type RunningApp } from '../../src/app.js';
import { silentLogger, type Logger } from '../../src/core/log.js';
import type { FakeWandb } from '../fake-wandb/server.js';
import { forceCleanup, tempMountDir } from './mount.js';

export interface AppMount {
  dir: string;
  cacheDir: string;
  app: RunningApp;
  cleanup(): Promise<void>;
}

/** What every in-process test mount starts from: default TTLs and timeouts, no log file, no SDK cache. */
export function testAppConfig(server: FakeWandb, mountPoint: string, cacheDir: string): AppConfig {
  return {
    mountPoint,
    cacheDir,
    baseUrl: server.url,
    apiKey: server.apiKey,
    mkdir: false,
    ttl: {},
    mount: {},
    timeouts: {},
    logFile: null,
    sdkCache: false,
  };
}

export async function mountApp(
  server: FakeWandb,
  label: string,
  ttl: AppConfig['ttl'] = {},
  /** `log` receives the mount's log lines; `config` overrides other AppConfig fields (e.g. entity) */
  opts: { log?: Logger; config?: Partial<AppConfig> } = {},
): Promise<AppMount> {
  const dir = await tempMountDir(label);
  const cacheDir = await mkdtemp(join(tmpdir(), `wandbfs-${label}-cache-`));
  let app: RunningApp;
  try {
    app = await startApp(
      { ...testAppConfig(server, dir, cacheDir), ttl, ...opts.config },
      opts.log ?? silentLogger,
    );
  } catch (err) {
    await forceCleanup(dir);
    await rm(cacheDir, { recursive: true, force: true });
    throw err;
  }
  return {
    dir,
    cacheDir,
    app,
    cleanup: async () => {
      try {
        await app.stop();
      } finally {
        await forceCleanup(dir);
        await rm(cacheDir, { recursive: true, force: true });
      }
    },
  };
}
