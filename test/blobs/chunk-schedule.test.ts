import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChunkSchedule, READER_IDLE_MS } from '../../src/blobs/chunk-schedule.js';

const KiB = 1024;
const MiB = 1024 * KiB;

function schedule(sizeBytes = 16 * MiB, readAheadChunks = 4, urgentRangeBytes = 256 * KiB): ChunkSchedule {
  return new ChunkSchedule({ sizeBytes, chunkBytes: MiB, readAheadChunks, urgentRangeBytes });
}

describe('ChunkSchedule (pure policy, no I/O)', () => {
  it('fetches from the start and wraps round when nobody reads', () => {
    const s = schedule(4 * MiB);
    const order: number[] = [];
    for (;;) {
      const i = s.next([], 0, 0);
      if (i === undefined) break;
      assert.notEqual(i, 'wait');
      if (i === 'wait') break;
      order.push(i);
      s.begin(i);
      s.complete(i);
    }
    assert.deepEqual(order, [0, 1, 2, 3]);
    assert.ok(s.finished());
  });

  it('puts the chunks a reader waits for first, then continues from the read and wraps', () => {
    const s = schedule(8 * MiB);
    s.noteRead(5 * MiB + 10, 5 * MiB + 20, 0);
    s.aimAt(5 * MiB + 10, 5 * MiB + 20);
    assert.equal(s.next([{ start: 2 * MiB, end: 2 * MiB + 1 }], 0, 1), 2);
    s.begin(2);
    // Cursor at chunk 5; the waiter's chunk is taken, so read-ahead from the cursor.
    assert.equal(s.next([{ start: 2 * MiB, end: 2 * MiB + 1 }], 0, 1), 5);
    for (const i of [5, 6, 7]) s.begin(i);
    assert.equal(s.next([], 0, 1), 0, 'wraps round to the start');
  });

  it('keeps a sequential reader within the read-ahead window, and lets go when it goes idle', () => {
    const s = schedule(16 * MiB, 2);
    s.noteRead(0, 128 * KiB, 1000);
    s.aimAt(0, 128 * KiB);
    assert.ok(s.readerIsStreaming(1000, 1));
    for (const i of [0, 1]) {
      assert.equal(s.next([], 1000, 1), i);
      s.begin(i);
    }
    assert.equal(s.next([], 1000, 1), 'wait', 'two chunks ahead is the window');
    assert.equal(s.next([], 1000 + READER_IDLE_MS, 1), 2, 'an idle reader no longer holds the fill back');
    assert.equal(s.next([], 1000, 0), 2, 'nor does a reader that closed');
  });

  it('tells sequential reads (near the last, slightly out of order) from random ones', () => {
    const s = schedule();
    assert.equal(s.noteRead(0, 128 * KiB, 0), 'sequential');
    assert.equal(s.noteRead(256 * KiB, 384 * KiB, 0), 'sequential');
    assert.equal(s.noteRead(128 * KiB, 256 * KiB, 0), 'sequential', 'kernel readahead arrives out of order');
    assert.equal(s.noteRead(14 * MiB, 14 * MiB + 4 * KiB, 0), 'random');
    assert.equal(schedule().noteRead(3 * MiB, 3 * MiB + 4096, 0), 'random', 'a first read not at 0');
  });

  it('a random reader sticks: one read landing near the last does not make it sequential', () => {
    const s = schedule(64 * MiB);
    assert.equal(s.noteRead(40 * MiB, 40 * MiB + 4 * KiB, 0), 'random');
    assert.equal(s.noteRead(43 * MiB, 43 * MiB + 4 * KiB, 0), 'random', '3 MiB away: still random');
    assert.equal(s.noteRead(43 * MiB + 4 * KiB, 43 * MiB + 8 * KiB, 0), 'sequential', 'the very next bytes');
    assert.equal(
      s.noteRead(46 * MiB, 46 * MiB + 128 * KiB, 0),
      'sequential',
      'a sequential reader keeps its slack',
    );
  });

  it('a random read landing near the last one by chance stays random; two near ones in a row do not', () => {
    const s = schedule(64 * MiB);
    assert.equal(s.noteRead(40 * MiB, 40 * MiB + 4 * KiB, 0), 'random');
    assert.equal(s.noteRead(20 * MiB, 20 * MiB + 4 * KiB, 0), 'random');
    // 100 KiB past the last read: near, but once is chance (fio over 5 GiB does it every ~10^4 reads)
    assert.equal(s.noteRead(20 * MiB + 104 * KiB, 20 * MiB + 108 * KiB, 0), 'random');
    assert.equal(s.noteRead(50 * MiB, 50 * MiB + 4 * KiB, 0), 'random', 'a far read ends the run');
    assert.equal(s.noteRead(50 * MiB + 64 * KiB, 50 * MiB + 68 * KiB, 0), 'random', 'near once more');
    assert.equal(
      s.noteRead(50 * MiB + 128 * KiB, 50 * MiB + 132 * KiB, 0),
      'sequential',
      'near twice in a row',
    );
  });

  it('holds background chunks until the first read says where the reader is, at most until the deadline', () => {
    const heldUntilFirstRead = (): ChunkSchedule =>
      new ChunkSchedule({
        sizeBytes: 64 * MiB,
        chunkBytes: 8 * MiB,
        readAheadChunks: 2,
        urgentRangeBytes: 16 * KiB,
        firstReadDeadlineMs: 1000 + READER_IDLE_MS,
      });
    const s = heldUntilFirstRead();
    assert.equal(s.next([], 1000, 0), 'wait', 'opened, nothing read yet');
    assert.equal(s.next([{ start: 20 * MiB, end: 20 * MiB + 1 }], 1000, 1), 2, 'a waiting read still goes');
    s.begin(2);
    assert.equal(s.next([], 1000 + READER_IDLE_MS, 1), 0, 'no read by the deadline: the fill starts');
    const seq = heldUntilFirstRead();
    seq.noteRead(0, 128 * KiB, 1001);
    assert.equal(seq.next([], 1001, 1), 0, 'a first read at 0: the fill starts at once');
    const random = heldUntilFirstRead();
    random.noteRead(40 * MiB, 40 * MiB + 4 * KiB, 1001);
    assert.equal(random.next([], 1001, 1), 'wait', 'a first read that is a random 4 KiB one keeps it held');
  });

  it('holds the background fill while a random reader is served from urgent ranges, and lets go when it idles', () => {
    const s = new ChunkSchedule({
      sizeBytes: 64 * MiB,
      chunkBytes: 8 * MiB,
      readAheadChunks: 2,
      urgentRangeBytes: 16 * KiB,
    });
    assert.equal(s.next([], 0, 1), 0, 'before any read the fill starts');
    s.begin(0);
    s.noteRead(40 * MiB, 40 * MiB + 4 * KiB, 1000);
    assert.ok(s.readerIsRandom(1000, 1));
    assert.equal(s.next([], 1000, 1), 'wait', 'a random reader is active: no new background chunk');
    assert.equal(
      s.next([{ start: 20 * MiB, end: 20 * MiB + 1 }], 1000, 1),
      2,
      'a chunk a reader waits for still goes',
    );
    assert.equal(s.next([], 1000 + READER_IDLE_MS, 1), 1, 'the reader idles: the fill goes on');
    assert.equal(s.next([], 1000, 0), 1, 'the reader closed: the fill goes on');
    s.noteRead(50 * MiB, 50 * MiB + 128 * KiB, 1000);
    s.aimAt(50 * MiB, 50 * MiB + 128 * KiB);
    assert.ok(!s.readerIsRandom(1000, 1), 'a 128 KiB random read (an mmap page fault) wants the whole file');
    assert.equal(s.next([], 1000, 1), 6, 'so the fill goes on');
    const noUrgent = new ChunkSchedule({
      sizeBytes: 64 * MiB,
      chunkBytes: 8 * MiB,
      readAheadChunks: 2,
      urgentRangeBytes: 0,
    });
    noUrgent.noteRead(40 * MiB, 40 * MiB + 4 * KiB, 1000);
    noUrgent.aimAt(40 * MiB, 40 * MiB + 4 * KiB);
    assert.equal(
      noUrgent.next([], 1000, 1),
      5,
      'without urgent ranges the fill must fetch what random readers need',
    );
  });

  it('counts written prefixes of in-flight chunks as available, not whole chunks', () => {
    const s = schedule(4 * MiB);
    s.begin(1);
    s.progress(1, 512 * KiB);
    assert.ok(s.available(MiB, MiB + 512 * KiB));
    assert.ok(!s.available(MiB, MiB + 512 * KiB + 1));
    assert.ok(!s.map.isDone(1), 'a partly written chunk is not done');
    assert.equal(s.contiguousEnd(0), 0, 'chunk 0 missing: nothing to hash');
    s.begin(0);
    s.complete(0);
    assert.equal(s.contiguousEnd(0), MiB + 512 * KiB);
  });

  it('chooses a small aligned urgent range around a random miss, inside the file', () => {
    const big = (urgentRangeBytes: number): ChunkSchedule =>
      new ChunkSchedule({ sizeBytes: 16 * MiB, chunkBytes: 8 * MiB, readAheadChunks: 1, urgentRangeBytes });
    const s = big(256 * KiB);
    assert.deepEqual(s.urgentRange(5 * MiB + 300 * KiB, 5 * MiB + 304 * KiB), {
      start: 5 * MiB + 256 * KiB,
      end: 5 * MiB + 512 * KiB,
    });
    assert.deepEqual(s.urgentRange(16 * MiB - 4 * KiB, 16 * MiB), {
      start: 16 * MiB - 256 * KiB,
      end: 16 * MiB,
    });
    // A read straddling the aligned boundary still gets one range covering it.
    const r = s.urgentRange(256 * KiB - 4 * KiB, 256 * KiB + 4 * KiB);
    assert.ok(r && r.start <= 252 * KiB && r.end >= 260 * KiB);
    assert.deepEqual(
      s.urgentRange(MiB, MiB + 512 * KiB),
      { start: MiB, end: MiB + 512 * KiB },
      'a larger read: its own bytes',
    );
    assert.equal(s.urgentRange(0, 2 * MiB), null, 'over 1 MiB: wait for chunks');
    assert.equal(big(0).urgentRange(0, 4 * KiB), null, 'off');
    assert.equal(big(2 * MiB).urgentRange(0, 4 * KiB), null, 'a chunk of fewer than 8 ranges: not worth it');
    assert.equal(schedule().urgentRange(0, 4 * KiB), null, '1 MiB chunks, 256 KiB ranges: not worth it');
    s.begin(0);
    s.complete(0);
    assert.equal(s.urgentRange(0, 4 * KiB), null, 'already on disk');
  });

  it('hands out each unclaimed chunk once, within a limit', () => {
    const s = schedule(8 * MiB);
    s.begin(3);
    assert.deepEqual(s.unclaimedIn(2 * MiB, 6 * MiB, 2), [2, 4]);
    assert.deepEqual(s.unclaimedIn(0, 8 * MiB, 0), []);
    s.abandon(3);
    assert.ok(s.isFree(3), 'an abandoned chunk is free again');
  });
});
