import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import Fuse from 'fuse-native';
import { Errno } from './errno.js';
import { findMount } from '../admin/mountinfo.js';

const execFileP = promisify(execFile);
const require = createRequire(import.meta.url);

interface NativeBinding {
  fuse_native_unmount(mnt: string, thread: Buffer): void;
}

/** The same native module instance fuse-native loaded (node caches .node files by path). */
function nativeBinding(): NativeBinding {
  const gypBuild = require('node-gyp-build') as (dir: string) => NativeBinding;
  return gypBuild(dirname(require.resolve('fuse-native/package.json')));
}

export interface MountOptions {
  allowOther: boolean;
  attrTimeoutS: number;
  entryTimeoutS: number;
  negativeTimeoutS: number;
  maxReadaheadBytes: number;
  /** fusermount stays as a helper and unmounts if we die (kill -9); off only to test stale mounts. */
  autoUnmount: boolean;
  debug: boolean;
}

export const defaultMountOptions: MountOptions = {
  allowOther: false,
  attrTimeoutS: 10,
  entryTimeoutS: 10,
  negativeTimeoutS: 5,
  maxReadaheadBytes: 1024 * 1024,
  autoUnmount: true,
  debug: false,
};

/** The libfuse option string; `ro` and the timeouts are not exposed by fuse-native's own options. */
export function fuseOptionString(o: MountOptions): string {
  const opts = [
    'ro',
    'fsname=wandbfs',
    'subtype=wandbfs',
    'default_permissions',
    // Content at a path only changes with its size or mtime; auto_cache keeps the page cache across
    // opens until then, so warm re-reads of a checkpoint never reach JavaScript.
    'auto_cache',
    // ...and re-checks size and mtime on every open (one getattr), so a bumped mtime after a failed
    // digest check (FsCore.statOf) always drops pages that may hold unverified bytes.
    'ac_attr_timeout=0',
    `attr_timeout=${o.attrTimeoutS}`,
    `entry_timeout=${o.entryTimeoutS}`,
    `negative_timeout=${o.negativeTimeoutS}`,
    `max_readahead=${o.maxReadaheadBytes}`,
  ];
  if (o.autoUnmount) opts.push('auto_unmount');
  if (o.allowOther) opts.push('allow_other');
  if (o.debug) opts.push('debug');
  return '-o' + opts.join(',');
}

type Signal = (code: number, ...values: unknown[]) => void;
type XattrCb = (code: number, value?: unknown) => void;

/**
 * fuse-native with three overrides (see fuse-native-notes.md): our own option string (also immune
 * to the DEBUG=* trap), xattr glue that answers size probes and ERANGE correctly, and an unmount
 * that tolerates a mount already removed (it still releases the native loop handle, or the process
 * would never exit).
 */
export class WandbFuse extends Fuse {
  private readonly optionString: string;

  constructor(mnt: string, ops: Record<string, unknown>, options: MountOptions) {
    // read: false, because a cold read may legitimately wait on a slow download; our own wrap()
    // deadlines answer EIO before anything hangs. Every other op gets 120 s as a last resort.
    super(mnt, ops, { force: true, timeout: { default: 120_000, read: false } });
    this.optionString = fuseOptionString(options);
  }

  override _fuseOptions(): string {
    return this.optionString;
  }

  override _op_getxattr(
    signal: Signal,
    path: string,
    name: string,
    valueBuf: Buffer,
    position: number,
  ): void {
    const getxattr = this.ops.getxattr as unknown as (p: string, n: string, pos: number, cb: XattrCb) => void;
    getxattr(path, name, position, (code, value) => {
      if (code !== 0) return signal(code, valueBuf.buffer);
      if (!Buffer.isBuffer(value)) return signal(Errno.ENODATA, valueBuf.buffer);
      if (valueBuf.length === 0) return signal(value.length, valueBuf.buffer);
      if (value.length > valueBuf.length) return signal(Errno.ERANGE, valueBuf.buffer);
      value.copy(valueBuf);
      signal(value.length, valueBuf.buffer);
    });
  }

  override _op_listxattr(signal: Signal, path: string, listBuf: Buffer): void {
    const listxattr = this.ops.listxattr as unknown as (p: string, cb: XattrCb) => void;
    listxattr(path, (code, names) => {
      if (code !== 0) return signal(code, listBuf.buffer);
      const list = Array.isArray(names) ? names.filter((n): n is string => typeof n === 'string') : [];
      const packed = Buffer.concat(list.map((n) => Buffer.from(n + '\0', 'utf8')));
      if (listBuf.length === 0) return signal(packed.length, listBuf.buffer);
      if (packed.length > listBuf.length) return signal(Errno.ERANGE, listBuf.buffer);
      packed.copy(listBuf);
      signal(packed.length, listBuf.buffer);
    });
  }

  override _close(cb: (err: Error | null) => void): void {
    void this.closeAsync().then(
      () => cb(null),
      (err: unknown) => cb(err instanceof Error ? err : new Error(String(err))),
    );
  }

  private async closeAsync(): Promise<void> {
    // execFile, not the shell: a mount path with $ or backticks must not be interpreted.
    if (await findMount(this.mnt)) {
      try {
        await execFileP('fusermount', ['-uz', this.mnt]);
      } catch (err) {
        if (await findMount(this.mnt)) throw err;
      }
    }
    if (this._thread) nativeBinding().fuse_native_unmount(this.mnt, this._thread);
  }
}
