import type { Manifest } from '../../api/types.js';
import type { Db } from '../../core/db.js';
import { placeFiles } from '../naming.js';
import {
  str,
  toEntry,
  type ChildEntry,
  type ChildRow,
  type EntryRow,
  type Row,
  type Skipped,
} from './rows.js';
import { transaction } from './tx.js';

/** The `manifests`, `manifest_entries` and `manifest_dirs` tables: a version's files/ tree. */
export class Manifests {
  private readonly s;

  constructor(private readonly db: Db) {
    const p = (sql: string) => db.prepare(sql);
    this.s = {
      delete: p('DELETE FROM manifests WHERE artifact_id = ?'),
      insert: p('INSERT INTO manifests (artifact_id, entry_count, rejected) VALUES (?, ?, ?)'),
      entryInsert: p(
        `INSERT INTO manifest_entries (artifact_id, path, dir, fs_name, digest, size_bytes, ref, birth_artifact_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      dirInsert: p('INSERT OR IGNORE INTO manifest_dirs (artifact_id, parent, name) VALUES (?, ?, ?)'),
      children: p(
        `SELECT name, 'dir' AS kind FROM manifest_dirs WHERE artifact_id = ? AND parent = ?
         UNION ALL SELECT fs_name AS name, 'file' AS kind FROM manifest_entries
           WHERE artifact_id = ? AND dir = ? AND fs_name IS NOT NULL
         ORDER BY name`,
      ),
      childEntries: p(
        `SELECT name, 'dir' AS kind, NULL AS path, NULL AS digest, NULL AS size_bytes, NULL AS ref
           FROM manifest_dirs WHERE artifact_id = ? AND parent = ?
         UNION ALL SELECT fs_name AS name, 'file' AS kind, path, digest, size_bytes, ref FROM manifest_entries
           WHERE artifact_id = ? AND dir = ? AND fs_name IS NOT NULL
         ORDER BY name`,
      ),
      entryByFs: p('SELECT * FROM manifest_entries WHERE artifact_id = ? AND dir = ? AND fs_name = ?'),
      dirExists: p('SELECT 1 FROM manifest_dirs WHERE artifact_id = ? AND parent = ? AND name = ?'),
    };
  }

  /** Replaces the stored manifest of an artifact in one transaction. */
  put(artifactId: string, manifest: Manifest): Skipped {
    return transaction(this.db, () => {
      this.s.delete.run(artifactId);
      this.s.insert.run(artifactId, manifest.entries.length, JSON.stringify(manifest.rejected));
      const placement = placeFiles(manifest.entries.map((e) => e.path));
      const placed = new Map(placement.files.map((f) => [f.path, f]));
      for (const e of manifest.entries) {
        const f = placed.get(e.path);
        this.s.entryInsert.run(
          artifactId,
          e.path,
          f ? f.dir : null,
          f ? f.name : null,
          e.digest,
          e.sizeBytes,
          e.ref,
          e.birthArtifactId,
        );
      }
      for (const d of placement.dirs) this.s.dirInsert.run(artifactId, d.parent, d.name);
      return placement.skipped;
    });
  }

  children(artifactId: string, dir: string): ChildRow[] {
    return this.s.children.all(artifactId, dir, artifactId, dir) as ChildRow[];
  }

  /** children() with each file's entry (null for a directory): one query for the whole directory. */
  childEntries(artifactId: string, dir: string): ChildEntry<EntryRow>[] {
    return (this.s.childEntries.all(artifactId, dir, artifactId, dir) as Row[]).map((r) => {
      const name = str(r, 'name');
      return { name, row: str(r, 'kind') === 'file' ? toEntry(r, name) : null };
    });
  }

  entry(artifactId: string, dir: string, fsName: string): EntryRow | null {
    const r = this.s.entryByFs.get(artifactId, dir, fsName) as Row | undefined;
    return r ? toEntry(r, fsName) : null;
  }

  dirExists(artifactId: string, parent: string, name: string): boolean {
    return this.s.dirExists.get(artifactId, parent, name) !== undefined;
  }
}
