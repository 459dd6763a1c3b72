/**
 * The real composition root (src/app.ts runApp) with the API and blob-cache knobs the CLI does not
 * expose (short stall timeouts, no free-space reserve, small chunks), so fault tests stay short. Run
 * as a child process: node wandbfs-rel-daemon.js <mountpoint> <cache-dir>; key in WANDB_API_KEY,
 * server in WANDB_BASE_URL, knobs as JSON in WANDBFS_REL_KNOBS. Logs to stderr.
 */
import { runApp } from '../../src/app.js';
import { createLogger, isLogLevel } from '../../src/core/log.js';
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
await runApp(
  {
    mountPoint,
    cacheDir,
    baseUrl,
    apiKey,
    apiKeySource: 'env',
    mkdir: false,
    ttl: {},
    mount: {},
    timeouts: knobs.readMs === undefined ? {} : { readMs: knobs.readMs },
    logFile: null,
    tuning: { api: knobs.api ?? {}, blobs: knobs.blobs ?? {} },
  },
  log,
);
log.info('reliability daemon mounted', { mountPoint });
