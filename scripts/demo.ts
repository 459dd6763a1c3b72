#!/usr/bin/env node
/**
 * `npm run demo [dir]`: starts the bundled fake W&B server with the `demo` fixture and mounts it in
 * the foreground (default ./wandb-demo). Ctrl+C unmounts and stops both. No account needed.
 * A script of the repository, not part of the shipped CLI: the fake server lives with the tests.
 */
import { join, resolve } from 'node:path';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { out, reportError } from '../src/cli/print.js';
import { mountForeground, type MountArgs } from '../src/cli/mount.js';
import { startFakeWandb } from '../test/fake-wandb/server.js';

async function main(): Promise<void> {
  const dir = resolve(process.argv[2] ?? 'wandb-demo');
  const server = await startFakeWandb({ fixture: 'demo' });
  const ownCache = process.env.WANDBFS_DEMO_CACHE === undefined;
  const cacheDir = process.env.WANDBFS_DEMO_CACHE ?? (await mkdtemp(join(tmpdir(), 'wandbfs-demo-cache-')));
  // A throwaway cache the demo made itself is removed when it stops; one the user named is kept.
  const stop = async (): Promise<void> => {
    await server.close();
    if (ownCache) await rm(cacheDir, { recursive: true, force: true });
  };
  const args: MountArgs = {
    dir,
    cacheDir,
    foreground: true,
    allowOther: false,
    logLevel: process.env.WANDBFS_LOG_LEVEL ?? 'warn',
    mkdir: true,
    sdkCache: true,
    attrTimeout: 10,
    readTimeout: '120s',
    stallTimeout: '60s',
  };
  try {
    await mountForeground(args, {
      baseUrl: server.url,
      apiKey: server.apiKey,
      onStopped: stop,
    });
  } catch (err) {
    await stop();
    throw err;
  }
  out(`demo: fake W&B at ${server.url}, cache in ${cacheDir}`);
  out('try:');
  out(`  ls ${dir}`);
  out(`  ls -la ${dir}/demo-user/mnist-classifier/runs`);
  out(`  find ${dir}/demo-user -maxdepth 4 | head -40`);
  out(`  cat ${dir}/.wandbfs/status.json`);
  out(`  getfattr -d -R ${dir}/demo-user/mnist-classifier | head -20`);
  out(`  ls -l ${dir}/demo-org-entity/wandb-registry-model/artifacts/mnist-classifier   # W&B Registry`);
  out(
    `  cat ${dir}/demo-org-entity/wandb-registry-model/artifacts/mnist-classifier/production/metadata.json`,
  );
  out('Ctrl+C unmounts and stops the fake server.');
}

main().catch((err: unknown) => {
  reportError(err, process.argv.includes('--debug'));
  process.exit(1);
});
