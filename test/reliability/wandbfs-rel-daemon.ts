/**
 * The layers wired as src/app.ts wires them, with the API and blob-cache knobs the CLI does not expose
 * (short stall timeouts, no free-space reserve, small chunks), so fault tests stay short. Run as a
 * child process: node wandbfs-rel-daemon.js <mountpoint> <cache-dir>; key in WANDB_API_KEY, server in
 * WANDB_BASE_URL, knobs as JSON in WANDBFS_REL_KNOBS. Logs to stderr.
 */
import { createWandbApi } from '../../src/api/client.js';
import { createBlobCache } from '../../src/blobs/store.js';
import { openDb } from '../../src/core/db.js';
import { createLogger, isLogLevel } from '../../src/core/log.js';
import { FsCore } from '../../src/fs/core.js';
import { runMounted } from '../../src/fs/lifecycle.js';
import { mountFs } from '../../src/fs/mount.js';
import { createMetaTree } from '../../src/meta/tree.js';
import type { RelDaemonKnobs } from './harness.js';

const [mountPoint, cacheDir] = process.argv.slice(2);
const apiKey = process.env.WANDB_API_KEY;
const baseUrl = process.env.WANDB_BASE_URL;
if (!mountPoint || !cacheDir || !apiKey || !baseUrl)
  throw new Error('usage: wandbfs-rel-daemon <mnt> <cache>');
// Diagnostics for the report: where an unhandled rejection came from (lifecycle.ts logs only its message).
process.on('unhandledRejection', (err) => {
  process.stderr.write(
    `rel-daemon unhandled rejection stack: ${err instanceof Error ? err.stack : String(err)}\n`,
  );
});
const knobs = JSON.parse(process.env.WANDBFS_REL_KNOBS ?? '{}') as RelDaemonKnobs;
const level = knobs.logLevel ?? 'debug';
const log = createLogger({ level: isLogLevel(level) ? level : 'debug' });
const db = openDb({ dir: cacheDir });
const api = createWandbApi({ baseUrl, apiKey, logger: log.child('api'), ...(knobs.api ?? {}) });
const meta = createMetaTree({ db, api, log: log.child('meta'), ttl: {}, baseUrl });
const blobs = createBlobCache({ dir: cacheDir, db, log, ...(knobs.blobs ?? {}) });
const core = new FsCore({
  meta,
  blobs,
  sourceFor: (content, path) => api.rangeSource(content.locator, path.replace(/^\//, '')),
  owner: { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 },
  log: log.child('fs'),
  version: 'reliability-test',
  mountPoint,
  statusExtra: () => ({ api: api.stats() }),
});
const mounted = await mountFs({
  mountPoint,
  core,
  log: log.child('mount'),
  options: {},
  timeouts: knobs.readMs === undefined ? {} : { readMs: knobs.readMs },
});
runMounted(mounted, {
  log,
  closeLayers: async () => {
    await meta.close();
    await blobs.close();
    api.close();
    db.close();
  },
});
log.info('reliability daemon mounted', { mountPoint });
