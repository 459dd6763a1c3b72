import type { FsCore } from './core.js';
import { Errno } from './errno.js';
import { ReadOnlyError } from './errors.js';
import { wrap, wrapCached, wrapRead, type FuseCallback, type WrapContext } from './wrap.js';

type Handler = (...args: never[]) => void;

/**
 * fuse-native ops: one thin line each, all through wrap(). getxattr/listxattr have our own signature
 * (see fuse.ts, which overrides their native glue). Left out on purpose, so libfuse answers them
 * without a round trip to JavaScript: `access` (with default_permissions the kernel checks modes
 * itself), `opendir` and `releasedir` (the kernel sends them only for what getattr called a
 * directory, and holds no state for them here; a directory gone meanwhile fails its readdir). Each
 * was one more hop per directory of a `find`.
 */
export function makeHandlers(core: FsCore, ctx: WrapContext): Record<string, Handler> {
  const rofs = (op: string) =>
    wrap(ctx, op, 'void', async (path: unknown) => {
      throw new ReadOnlyError(op, typeof path === 'string' ? path : '');
    });
  // getattr and the xattr ops answer a path resolved before from memory, without a promise
  const getxattr = wrapCached(
    ctx,
    'getxattr',
    (p: string, name: string, _pos: number) => core.getxattrCached(p, name),
    (p: string, name: string, _pos: number) => core.getxattr(p, name),
  );
  return {
    getattr: wrapCached(
      ctx,
      'getattr',
      (p: string) => core.getattrCached(p),
      (p: string) => core.getattr(p),
    ),
    readdir: wrap(ctx, 'readdir', 'values', async (p: string) => {
      const l = await core.readdir(p);
      return [l.names, l.stats];
    }),
    // an open that outlives its deadline answered EIO already: its handle is released, not leaked
    open: wrap(
      ctx,
      'open',
      'value',
      (p: string, flags: number) => core.open(p, flags),
      async (fh) => {
        if (typeof fh === 'number') await core.release(fh);
      },
    ),
    read: wrapRead(
      ctx,
      (fh, buf, len, pos) => core.readSync(fh, buf, len, pos),
      (_p, fh, buf, len, pos) => core.read(fh, buf, len, pos),
    ),
    release: wrap(ctx, 'release', 'void', (_p: string, fh: number) => core.release(fh)),
    readlink: wrap(ctx, 'readlink', 'value', (p: string) => core.readlink(p)),
    statfs: wrap(ctx, 'statfs', 'value', () => core.statfs()),
    // `ls -l` asks every entry for security.selinux and system.posix_acl_*; only user.* names exist
    // (FsCore.getxattr), so those get ENODATA here, counted, without building an error per call.
    getxattr: (p: string, name: string, pos: number, cb: FuseCallback) => {
      if (typeof name === 'string' && name.startsWith('user.')) return getxattr(p, name, pos, cb);
      ctx.stats.ops++;
      ctx.stats.errors.ENODATA = (ctx.stats.errors.ENODATA ?? 0) + 1;
      cb(Errno.ENODATA);
    },
    listxattr: wrapCached(
      ctx,
      'listxattr',
      (p: string) => core.listxattrCached(p),
      (p: string) => core.listxattr(p),
    ),
    // Defence in depth: the `ro` mount option makes the kernel refuse these before they reach us.
    write: rofs('write'),
    create: rofs('create'),
    mknod: rofs('mknod'),
    mkdir: rofs('mkdir'),
    unlink: rofs('unlink'),
    rmdir: rofs('rmdir'),
    rename: rofs('rename'),
    link: rofs('link'),
    symlink: rofs('symlink'),
    truncate: rofs('truncate'),
    ftruncate: rofs('ftruncate'),
    chmod: rofs('chmod'),
    chown: rofs('chown'),
    utimens: rofs('utimens'),
    setxattr: rofs('setxattr'),
    removexattr: rofs('removexattr'),
  };
}
