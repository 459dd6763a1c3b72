import { readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Db } from '../core/db.js';
import { digestFromName, digestKey } from '../core/digest.js';
import { errorMessage } from '../core/errors.js';
import { BlobIndex } from './blob-index.js';
import { hashFile } from './hash.js';
import { blobsRoot } from './path.js';

export interface VerifyProblem {
  key: string;
  path: string;
  reason: string;
  action: 'removed' | 'kept-pinned' | 'reported';
}

export interface VerifyReport {
  checked: number;
  bytesChecked: number;
  problems: VerifyProblem[];
  /** Index rows whose file is gone (dropped with repair). */
  missingFiles: string[];
}

export interface VerifyProgress {
  filesDone: number;
  filesTotal: number;
  bytesDone: number;
  bytesTotal: number;
}

/**
 * `cache verify`: re-hashes every blob file against the digest its name claims. With repair, bad
 * blobs are removed (unless a running mount has them open: kept and reported), and index rows
 * without a file are dropped.
 */
export async function verifyCache(o: {
  dir: string;
  db: Db;
  repair?: boolean;
  onProgress?: (p: VerifyProgress) => void;
}): Promise<VerifyReport> {
  const index = new BlobIndex(o.db);
  // hashed: false for etag blobs (reference entries), whose name is not a hash of their content:
  // only their size is checked against the index.
  const files: { key: string; path: string; size: number; valid: boolean; name: string; hashed: boolean }[] =
    [];
  const root = blobsRoot(o.dir);
  for (const algo of await readdir(root).catch(() => [])) {
    for (const fan of await readdir(join(root, algo)).catch(() => [])) {
      for (const name of await readdir(join(root, algo, fan)).catch(() => [])) {
        const path = join(root, algo, fan, name);
        const st = await stat(path).catch(() => null);
        if (!st?.isFile()) continue;
        const d = digestFromName(algo, name);
        const valid = !!d && d.hex === name && fan === name.slice(0, 2);
        const hashed = d?.algo === 'md5';
        files.push({ key: d ? digestKey(d) : `${algo}:${name}`, path, size: st.size, valid, name, hashed });
      }
    }
  }
  const bytesTotal = files.reduce((s, f) => s + f.size, 0);
  const problems: VerifyProblem[] = [];
  let bytesDone = 0;
  let checked = 0;
  const pinned = index.pinnedKeys();
  const report = (): void =>
    o.onProgress?.({ filesDone: checked, filesTotal: files.length, bytesDone, bytesTotal });
  for (const f of files) {
    let reason: string | null = null;
    if (!f.valid) reason = 'file name is not a digest';
    else {
      try {
        const base = bytesDone;
        if (f.hashed) {
          const { hex } = await hashFile(f.path, 'md5', (n) => {
            bytesDone = base + n;
          });
          if (hex !== f.name) reason = `content hashes to ${hex}`;
        } else bytesDone = base + f.size;
        const row = index.get(f.key);
        if (!reason && row && row.sizeBytes !== f.size)
          reason = `index says ${row.sizeBytes} bytes, file has ${f.size}`;
      } catch (err) {
        reason = `unreadable: ${errorMessage(err)}`;
      }
    }
    checked++;
    report();
    if (!reason) continue;
    let action: VerifyProblem['action'] = 'reported';
    if (o.repair) {
      if (pinned.has(f.key) || !deleteRow(index, f.key)) action = 'kept-pinned';
      else {
        await unlink(f.path).catch(() => undefined);
        action = 'removed';
      }
    }
    problems.push({ key: f.key, path: f.path, reason, action });
  }
  const onDisk = new Set(files.map((f) => f.key));
  const missingFiles = index
    .listBlobs()
    .map((b) => b.key)
    .filter((k) => !onDisk.has(k));
  if (o.repair) for (const k of missingFiles) index.delete(k);
  return { checked, bytesChecked: bytesDone, problems, missingFiles };
}

function deleteRow(index: BlobIndex, key: string): boolean {
  if (!index.get(key)) return true;
  return index.deleteIfUnpinned(key);
}
