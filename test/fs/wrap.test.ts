import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WandbfsError, type ErrorCode } from '../../src/core/errors.js';
import { createLogger } from '../../src/core/log.js';
import { Errno, errnoName, toErrno } from '../../src/fs/errno.js';
import { NoEntryError, ReadOnlyError } from '../../src/fs/errors.js';
import { parseMountinfo } from '../../src/admin/mountinfo.js';
import type { FsCore } from '../../src/fs/core.js';
import { makeHandlers } from '../../src/fs/handlers.js';
import { newOpStats, wrap, wrapCached, wrapRead, type WrapContext } from '../../src/fs/wrap.js';
import { waitUntil } from '../helpers/wait.js';

function ctx(deadline: number | null = null): WrapContext & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    log: createLogger({ level: 'debug', sink: { write: (l) => void lines.push(l) } }),
    stats: newOpStats(),
    deadlineMs: () => deadline,
    reported: new WeakSet(),
  };
}

function call(fn: (...a: never[]) => void, ...args: unknown[]): Promise<unknown[][]> {
  const calls: unknown[][] = [];
  (fn as (...a: unknown[]) => void)(...args, (...r: unknown[]) => calls.push(r));
  return new Promise((r) => setTimeout(() => r(calls), 30));
}

describe('errno table', () => {
  it('maps typed errors by code and everything else to EIO', () => {
    assert.equal(toErrno(new NoEntryError('/x')), Errno.ENOENT);
    assert.equal(toErrno(new ReadOnlyError('mkdir', '/x')), Errno.EROFS);
    assert.equal(errnoName(new WandbfsError('ERR_AUTH', 'no')), 'EACCES');
    assert.equal(errnoName(new WandbfsError('ERR_INTEGRITY', 'bad')), 'EIO');
    assert.equal(errnoName(new WandbfsError('ERR_SOMETHING_NEW' as ErrorCode, '?')), 'EIO');
    assert.equal(
      errnoName(Object.assign(new Error('x'), { code: 'ENOENT' })),
      'EIO',
      'raw fs errors are internal',
    );
    assert.equal(errnoName('a string'), 'EIO');
  });
});

describe('wrap', () => {
  it('always answers exactly once with a number, whatever the handler does', async () => {
    const c = ctx();
    const ok = wrap(c, 'getattr', 'value', async () => ({ mode: 1 }));
    assert.deepEqual(await call(ok, '/a'), [[0, { mode: 1 }]]);
    const throwsSync = wrap(c, 'getattr', 'value', () => {
      throw new NoEntryError('/b');
    });
    assert.deepEqual(await call(throwsSync, '/b'), [[Errno.ENOENT]]);
    const rejects = wrap(c, 'open', 'value', async () => Promise.reject(new Error('boom')));
    assert.deepEqual(await call(rejects, '/c'), [[Errno.EIO]]);
    const nullValue = wrap(c, 'readlink', 'value', async () => null);
    assert.deepEqual(await call(nullValue, '/d'), [[Errno.EIO]], 'null would hang the caller in fuse-native');
    const count = wrap(c, 'read', 'count', async () => 4096);
    assert.deepEqual(await call(count, '/e'), [[4096]]);
    const badCount = wrap(c, 'read', 'count', async () => -3);
    assert.deepEqual(await call(badCount, '/e'), [[Errno.EIO]]);
    const values = wrap(c, 'readdir', 'values', async () => [['a'], [{}]]);
    assert.deepEqual(await call(values, '/'), [[0, ['a'], [{}]]]);
    const v = wrap(c, 'release', 'void', async () => 'ignored');
    assert.deepEqual(await call(v, '/'), [[0]]);
    assert.equal(c.stats.inFlight, 0);
    assert.equal(c.stats.errors.EIO, 3);
    assert.equal(c.stats.errors.ENOENT, 1);
  });

  it('logs a failure once with op, path and errno (routine errors at debug)', async () => {
    const c = ctx();
    await call(
      wrap(c, 'open', 'value', async () => Promise.reject(new WandbfsError('ERR_STALL', 'no progress'))),
      '/x/y',
    );
    assert.equal(c.lines.length, 1);
    assert.match(c.lines[0]!, /WARN .*"op":"open","path":"\/x\/y","errno":"EIO","code":"ERR_STALL"/);
    await call(
      wrap(c, 'getattr', 'value', async () => Promise.reject(new NoEntryError('/z'))),
      '/z',
    );
    assert.match(c.lines[1]!, /DEBUG .*"errno":"ENOENT"/);
  });

  it('answers EIO when a handler outlives its deadline and ignores the late result', async () => {
    const c = ctx(20);
    let release: (n: number) => void = () => undefined;
    const fn = wrap(c, 'read', 'count', () => new Promise<number>((r) => (release = r)));
    const calls = await call(fn, '/slow');
    assert.deepEqual(calls, [[Errno.EIO]]);
    release(10);
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(calls.length, 1);
    assert.equal(c.stats.timeouts, 1);
  });

  it('hands a result that arrives after the deadline to `orphan` (a late open releases its handle)', async () => {
    const c = ctx(20);
    const freed: unknown[] = [];
    let resolveOpen: (fh: number) => void = () => undefined;
    const open = wrap(
      c,
      'open',
      'value',
      () => new Promise<number>((r) => (resolveOpen = r)),
      async (fh) => void freed.push(fh),
    );
    const calls = await call(open, '/slow-open');
    assert.deepEqual(calls, [[Errno.EIO]], 'the caller got the deadline error');
    assert.deepEqual([...freed], [], 'nothing to free before the open finishes');
    resolveOpen(42);
    await waitUntil('the late handle to be released', () => freed.length === 1);
    assert.deepEqual([...freed], [42]);
    assert.equal(calls.length, 1, 'still exactly one reply');

    const onTime = wrap(
      c,
      'open',
      'value',
      async () => 7,
      async (fh) => void freed.push(fh),
    );
    assert.deepEqual(await call(onTime, '/fast'), [[0, 7]]);
    assert.deepEqual([...freed], [42], 'an answered open is the kernel to release');

    let lateFail: (fh: number) => void = () => undefined;
    const failing = wrap(
      c,
      'open',
      'value',
      () => new Promise<number>((r) => (lateFail = r)),
      () => Promise.reject(new Error('release broke')),
    );
    await call(failing, '/slow-open-2');
    lateFail(9);
    await waitUntil('the failed release to be logged', () =>
      c.lines.some((l) => /WARN +could not free a late result.*release broke/.test(l)),
    );
  });

  it("the mount's open handler releases the handle of an open that finished after its deadline", async () => {
    const released: number[] = [];
    let finishOpen: (fh: number) => void = () => undefined;
    const core = {
      open: () => new Promise<number>((r) => (finishOpen = r)),
      release: async (fh: number) => void released.push(fh),
    } as unknown as FsCore;
    const handlers = makeHandlers(core, ctx(20));
    const open = handlers.open;
    assert.ok(open);
    assert.deepEqual(await call(open, '/big.bin', 0), [[Errno.EIO]]);
    finishOpen(5);
    await waitUntil('FsCore.release of the late handle', () => released.includes(5));
  });
});

describe('wrapRead', () => {
  const buf = Buffer.alloc(16);
  it('answers from the synchronous path, in the same turn, without the async one', () => {
    const c = ctx(1000);
    let slow = 0;
    const read = wrapRead(
      c,
      (_fh, _b, len) => len,
      async () => {
        slow++;
        return 1;
      },
    );
    const replies: number[] = [];
    read('/f', 3, buf, 16, 0, (n) => replies.push(n));
    assert.deepEqual(replies, [16], 'no reply in the same turn');
    assert.equal(slow, 0);
    assert.equal(c.stats.ops, 1);
    assert.equal(c.stats.inFlight, 0);
  });

  it('takes the async path when the synchronous one declines or throws, and maps its errors', async () => {
    const c = ctx(1000);
    const declined = wrapRead(
      c,
      () => null,
      async () => 7,
    );
    assert.deepEqual(await call(declined, '/f', 3, buf, 16, 0), [[7]]);
    const threw = wrapRead(
      c,
      () => {
        throw new Error('not in memory');
      },
      async () => {
        throw new NoEntryError('/f');
      },
    );
    assert.deepEqual(await call(threw, '/f', 3, buf, 16, 0), [[Errno.ENOENT]]);
    const garbage = wrapRead(
      c,
      () => -3,
      async () => 5,
    );
    assert.deepEqual(await call(garbage, '/f', 3, buf, 16, 0), [[5]], 'a negative count is not a reply');
  });
});

describe('wrapCached', () => {
  it('replies what memory has in the same turn, without a promise or a deadline timer', () => {
    const c = ctx(1000);
    let slow = 0;
    const getattr = wrapCached(
      c,
      'getattr',
      (p: string) => ({ mode: p.length }),
      async () => {
        slow++;
        return { mode: 0 };
      },
    );
    const replies: unknown[][] = [];
    getattr('/abc', (...r: unknown[]) => replies.push(r));
    assert.deepEqual(replies, [[0, { mode: 4 }]], 'answered before the call returned');
    assert.equal(slow, 0);
    assert.equal(c.stats.ops, 1);
    assert.equal(c.stats.inFlight, 0, 'never counted as in flight: no deadline was armed');
  });

  it('asks the async path when memory declines or throws, which reports the failure', async () => {
    const c = ctx(1000);
    const declined = wrapCached(
      c,
      'getxattr',
      (_p: string, _n: string) => null,
      async () => Buffer.from('v'),
    );
    assert.deepEqual(await call(declined, '/f', 'user.x'), [[0, Buffer.from('v')]]);
    const threw = wrapCached(
      c,
      'getattr',
      (_p: string) => {
        throw new Error('half-built node');
      },
      async () => {
        throw new NoEntryError('/f');
      },
    );
    assert.deepEqual(await call(threw, '/f'), [[Errno.ENOENT]]);
    assert.equal(c.stats.errors.ENOENT, 1, 'the async path counted its errno');
    const undef = wrapCached(
      c,
      'listxattr',
      (_p: string) => undefined,
      async () => ['user.a'],
    );
    assert.deepEqual(await call(undef, '/f'), [[0, ['user.a']]], 'undefined is no reply either');
  });
});

describe('mountinfo', () => {
  it('parses mount points with escaped spaces and the fs type', () => {
    const text =
      '36 35 98:0 / /mnt/with\\040space rw,noatime master:1 - fuse.wandbfs wandbfs ro,user_id=0\n' +
      '37 35 98:0 / /data rw shared:2 - ext4 /dev/sda1 rw\n';
    assert.deepEqual(parseMountinfo(text), [
      { mountPoint: '/mnt/with space', fsType: 'fuse.wandbfs', source: 'wandbfs', userId: 0 },
      { mountPoint: '/data', fsType: 'ext4', source: '/dev/sda1', userId: null },
    ]);
  });
});
