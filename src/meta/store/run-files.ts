import type { RunFileRecord } from '../../api/types.js';
import type { Db } from '../../core/db.js';
import { placeFiles } from '../naming.js';
import {
  str,
  strOrNull,
  toFile,
  type ChildEntry,
  type ChildRow,
  type FileRow,
  type Row,
  type Skipped,
} from './rows.js';
import { transaction } from './tx.js';

/** The `run_files` and `run_file_dirs` tables: a run's files/ tree. */
export class RunFiles {
  private readonly s;

  constructor(private readonly db: Db) {
    const p = (sql: string) => db.prepare(sql);
    this.s = {
      upsert: p(
        `INSERT INTO run_files (run_pk, name, size_bytes, md5, updated_at, seen_gen)
         VALUES (@runPk, @name, @sizeBytes, @md5, @updatedAt, @gen)
         ON CONFLICT (run_pk, name) DO UPDATE SET size_bytes = excluded.size_bytes, md5 = excluded.md5,
           updated_at = excluded.updated_at, seen_gen = excluded.seen_gen`,
      ),
      exists: p('SELECT 1 FROM run_files WHERE run_pk = ? AND name = ?'),
      allNames: p('SELECT name, dir, fs_name FROM run_files WHERE run_pk = ?'),
      setPlace: p('UPDATE run_files SET dir = ?, fs_name = ? WHERE run_pk = ? AND name = ?'),
      deleteAbsent: p('DELETE FROM run_files WHERE run_pk = ? AND seen_gen < ?'),
      dirsClear: p('DELETE FROM run_file_dirs WHERE run_pk = ?'),
      dirInsert: p('INSERT OR IGNORE INTO run_file_dirs (run_pk, parent, name) VALUES (?, ?, ?)'),
      children: p(
        `SELECT name, 'dir' AS kind FROM run_file_dirs WHERE run_pk = ? AND parent = ?
         UNION ALL SELECT fs_name AS name, 'file' AS kind FROM run_files WHERE run_pk = ? AND dir = ? AND fs_name IS NOT NULL
         ORDER BY name`,
      ),
      childFiles: p(
        `SELECT name, 'dir' AS kind, NULL AS file_name, NULL AS size_bytes, NULL AS md5, NULL AS updated_at
           FROM run_file_dirs WHERE run_pk = ? AND parent = ?
         UNION ALL SELECT fs_name AS name, 'file' AS kind, name AS file_name, size_bytes, md5, updated_at
           FROM run_files WHERE run_pk = ? AND dir = ? AND fs_name IS NOT NULL
         ORDER BY name`,
      ),
      byFs: p('SELECT * FROM run_files WHERE run_pk = ? AND dir = ? AND fs_name = ?'),
      dirExists: p('SELECT 1 FROM run_file_dirs WHERE run_pk = ? AND parent = ? AND name = ?'),
    };
  }

  /**
   * Writes one page of a run's file list; like runs, files are placed in the tree once per pass
   * (finish / settle). Returns true when a new file arrived.
   */
  putPage(runPk: number, page: RunFileRecord[], gen: number): boolean {
    return transaction(this.db, () => {
      let added = false;
      for (const f of page) {
        if (!added && !this.s.exists.get(runPk, f.name)) added = true;
        this.s.upsert.run({
          runPk,
          name: f.name,
          sizeBytes: f.sizeBytes,
          md5: f.md5,
          updatedAt: f.updatedAt,
          gen,
        });
      }
      return added;
    });
  }

  /** After the last page: drop vanished files and place the rest; returns paths not shown. */
  finish(runPk: number, gen: number, dirty: boolean): Skipped {
    return transaction(this.db, () => {
      const gone = this.s.deleteAbsent.run(runPk, gen).changes;
      return dirty || gone > 0 ? this.place(runPk) : [];
    });
  }

  /** After a listing failed part-way: place what was stored, delete nothing. */
  settle(runPk: number): Skipped {
    return transaction(this.db, () => this.place(runPk));
  }

  private place(runPk: number): Skipped {
    const rows = this.s.allNames.all(runPk) as Row[];
    const placement = placeFiles(rows.map((r) => str(r, 'name')));
    const placed = new Map(placement.files.map((f) => [f.path, f]));
    for (const r of rows) {
      const f = placed.get(str(r, 'name'));
      const dir = f ? f.dir : null;
      const fsName = f ? f.name : null;
      if (dir !== strOrNull(r, 'dir') || fsName !== strOrNull(r, 'fs_name')) {
        this.s.setPlace.run(dir, fsName, runPk, str(r, 'name'));
      }
    }
    this.s.dirsClear.run(runPk);
    for (const d of placement.dirs) this.s.dirInsert.run(runPk, d.parent, d.name);
    return placement.skipped;
  }

  children(runPk: number, dir: string): ChildRow[] {
    return this.s.children.all(runPk, dir, runPk, dir) as ChildRow[];
  }

  /** children() with each file's row (null for a directory): one query for the whole directory. */
  childFiles(runPk: number, dir: string): ChildEntry<FileRow>[] {
    return (this.s.childFiles.all(runPk, dir, runPk, dir) as Row[]).map((r) => {
      const name = str(r, 'name');
      if (str(r, 'kind') !== 'file') return { name, row: null };
      return { name, row: toFile({ ...r, name: r['file_name'] }, name) };
    });
  }

  file(runPk: number, dir: string, fsName: string): FileRow | null {
    const r = this.s.byFs.get(runPk, dir, fsName) as Row | undefined;
    return r ? toFile(r, fsName) : null;
  }

  dirExists(runPk: number, parent: string, name: string): boolean {
    return this.s.dirExists.get(runPk, parent, name) !== undefined;
  }
}
