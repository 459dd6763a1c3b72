// Child process for resume.test.ts: starts a slow fill and keeps reading until it is SIGKILLed.
import { createBlobCache } from '../../src/blobs/store.js';
import { md5FromHex } from '../../src/core/digest.js';
import { openTestDb, TestSource } from './helpers.js';

const [dir, hex, sizeText] = process.argv.slice(2);
const digest = md5FromHex(hex ?? '');
if (!dir || !digest || !sizeText) throw new Error('usage: fill-child <dir> <md5hex> <size>');
const size = Number(sizeText);
const db = openTestDb(dir);
const cache = createBlobCache({ dir, db, sdkCacheDir: null, chunkBytes: 1024 * 1024, streams: 2 });
const reader = await cache.open({
  digest,
  sizeBytes: size,
  source: () => new TestSource(size, { delayMs: 15, pieceBytes: 128 * 1024 }),
});
process.stdout.write('started\n');
const buf = Buffer.alloc(128 * 1024);
for (let pos = 0; pos < size; pos += buf.length) await reader.read(buf, buf.length, pos);
process.stdout.write('finished\n');
