// Minimal typings for fuse-native 2.2.6 (the package ships none). Only what src/fs uses is declared;
// the underscored members are internals we override, documented in fuse-native-notes.md.
declare module 'fuse-native' {
  type Callback = (code: number, ...values: unknown[]) => void;
  type Signal = (code: number, ...values: unknown[]) => void;

  class Fuse {
    constructor(mnt: string, ops: Record<string, unknown>, opts?: Record<string, unknown>);
    readonly mnt: string;
    readonly ops: Record<string, (...args: never[]) => void>;
    _thread: Buffer | null;
    _threads: Set<Buffer>;
    _fuseOptions(): string;
    _close(cb: (err: Error | null) => void): void;
    _op_getxattr(signal: Signal, path: string, name: string, valueBuf: Buffer, position: number): void;
    _op_listxattr(signal: Signal, path: string, listBuf: Buffer): void;
    mount(cb: (err: Error | null) => void): void;
    unmount(cb: (err: Error | null) => void): void;
    static unmount(mnt: string, cb: (err: Error | null) => void): void;
    static readonly ENOENT: number;
    static readonly EIO: number;
  }
  export type { Callback };
  export = Fuse;
}
