import type { Logger } from '../core/log.js';
import { errorMessage } from '../core/errors.js';
import type { MountedFs } from './mount.js';

export interface LifecycleOptions {
  log: Logger;
  /** Flushes and closes the layers behind the mount (meta, blobs); runs after the unmount. */
  closeLayers: () => Promise<void>;
  /** process.exit by default; tests may observe instead. */
  exit?: (code: number) => void;
  drainMs?: number;
}

/**
 * Owns the process once mounted: SIGINT/SIGTERM drain and unmount cleanly (exit 0), an uncaught
 * error unmounts and exits 1 (a crash must not leave "Transport endpoint is not connected"), and an
 * unmount done by someone else ends the process instead of leaving it serving nothing.
 */
export function runMounted(mounted: MountedFs, o: LifecycleOptions): void {
  const exit = o.exit ?? ((code: number) => process.exit(code));
  let stopping = false;

  const stop = (why: string, code: number): void => {
    if (stopping) return;
    stopping = true;
    o.log.info('shutting down', { reason: why, mountPoint: mounted.mountPoint });
    // A second signal while draining forces the exit.
    const force = () => exit(code);
    process.once('SIGINT', force);
    process.once('SIGTERM', force);
    void (async () => {
      try {
        await mounted.unmount(o.drainMs === undefined ? {} : { drainMs: o.drainMs });
      } catch (err) {
        o.log.error('unmount failed', { error: errorMessage(err) });
        code = code || 1;
      }
      try {
        await o.closeLayers();
      } catch (err) {
        o.log.error('closing caches failed', { error: errorMessage(err) });
      }
      exit(code);
    })();
  };

  process.once('SIGINT', () => stop('SIGINT', 0));
  process.once('SIGTERM', () => stop('SIGTERM', 0));
  process.once('SIGHUP', () => stop('SIGHUP', 0));
  process.on('uncaughtException', (err) => {
    o.log.error('uncaught exception', { error: errorMessage(err), stack: err.stack ?? '' });
    stop('uncaughtException', 1);
  });
  process.on('unhandledRejection', (err) => {
    o.log.error('unhandled rejection', { error: errorMessage(err) });
    stop('unhandledRejection', 1);
  });
  void mounted.externallyUnmounted.then(() => stop('unmounted from outside', 0));
}
