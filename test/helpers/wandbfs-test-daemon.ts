/**
 * A mount daemon over in-memory test doubles, run as a child process by the lifecycle tests (signals,
 * kill -9, stale mounts, external unmount). Usage: node wandbfs-test-daemon.js <dir> [--no-auto-unmount]
 * Prints "ready <pid>" on stdout once mounted. The file name contains "wandbfs-test-daemon" so CI
 * can sweep leftovers.
 */
import { createLogger } from '../../src/core/log.js';
import { FsCore } from '../../src/fs/core.js';
import { runMounted } from '../../src/fs/lifecycle.js';
import { mountFs } from '../../src/fs/mount.js';
import { md5Digest, MemBlobCache, MemTree } from './doubles.js';

const dir = process.argv[2];
if (!dir) throw new Error('usage: wandbfs-test-daemon <dir>');
const autoUnmount = !process.argv.includes('--no-auto-unmount');
const log = createLogger({ level: 'info' });
const bytes = Buffer.from('daemon content\n');
const digest = md5Digest(bytes);
const blobs = new MemBlobCache();
blobs.set(digest, { kind: 'bytes', bytes });
const meta = new MemTree({
  '/a/file.txt': {
    kind: 'file',
    size: bytes.length,
    content: { type: 'blob', digest, locator: { kind: 'artifact-file', artifactId: 'x', path: 'file.txt' } },
  },
});
const core = new FsCore({
  meta,
  blobs,
  sourceFor: () => ({ fetchRange: async () => undefined, describe: () => 'test' }),
  owner: { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 },
  log,
  version: 'test-daemon',
  mountPoint: dir,
});
const mounted = await mountFs({
  mountPoint: dir,
  core,
  log,
  options: { autoUnmount },
  timeouts: { pollMs: 200, drainMs: 4000 },
});
runMounted(mounted, { log, closeLayers: async () => log.info('layers closed') });
process.stdout.write(`ready ${process.pid}\n`);
if (process.argv.includes('--crash-soon')) {
  setTimeout(() => {
    throw new Error('simulated bug outside any FUSE handler');
  }, 300);
}
