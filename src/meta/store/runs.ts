import type { RunRecord } from '../../api/types.js';
import type { Db } from '../../core/db.js';
import { runBase } from '../naming.js';
import { runMtimeMs } from '../times.js';
import type { Listings } from './listings.js';
import { renameByStoredBase } from './rename.js';
import { fsNames, num, str, toRun, toRunDeferred, type Row, type RunRow } from './rows.js';
import { MISSES_TO_DROP } from './misses.js';
import { transaction } from './tx.js';

/** The `runs` table: a project's runs/ directory. */
export class Runs {
  private readonly s;

  constructor(
    private readonly db: Db,
    private readonly listings: Listings,
  ) {
    const p = (sql: string) => db.prepare(sql);
    this.s = {
      upsert: p(
        `INSERT INTO runs (project_pk, name, base_name, state, mtime_ms, record, seen_gen)
         VALUES (@projectPk, @name, @base, @state, @mtimeMs, @record, @gen)
         ON CONFLICT (project_pk, name) DO UPDATE SET base_name = excluded.base_name, state = excluded.state,
           mtime_ms = excluded.mtime_ms, record = excluded.record, seen_gen = MAX(seen_gen, excluded.seen_gen),
           missed = 0`,
      ),
      base: p('SELECT base_name, fs_name FROM runs WHERE project_pk = ? AND name = ?'),
      names: p('SELECT pk, name, base_name, fs_name FROM runs WHERE project_pk = ?'),
      setName: p('UPDATE runs SET fs_name = ? WHERE pk = ?'),
      missAbsent: p('UPDATE runs SET missed = missed + 1 WHERE project_pk = ? AND seen_gen < ?'),
      deleteAbsent: p(
        `DELETE FROM runs WHERE project_pk = ? AND seen_gen < ? AND missed >= ${MISSES_TO_DROP} RETURNING name`,
      ),
      delete: p('DELETE FROM runs WHERE project_pk = ? AND name = ?'),
      list: p('SELECT fs_name FROM runs WHERE project_pk = ? AND fs_name IS NOT NULL ORDER BY fs_name'),
      rows: p(
        `SELECT pk, project_pk, name, fs_name, state, mtime_ms FROM runs
         WHERE project_pk = ? AND fs_name IS NOT NULL ORDER BY fs_name`,
      ),
      record: p('SELECT record FROM runs WHERE pk = ?'),
      byFs: p('SELECT * FROM runs WHERE project_pk = ? AND fs_name = ?'),
      byName: p('SELECT * FROM runs WHERE project_pk = ? AND name = ?'),
    };
  }

  /**
   * Writes one page of a runs listing. Names are derived once per listing pass (finish or settle),
   * not per page, which would cost O(runs) per page; new runs are invisible until then.
   * Returns true when names must be re-derived.
   */
  putPage(projectPk: number, page: RunRecord[], gen: number): boolean {
    return transaction(this.db, () => {
      let dirty = false;
      for (const run of page) dirty = this.upsert(projectPk, run, gen) || dirty;
      return dirty;
    });
  }

  /** A single run fetched by id (lookup by run id, or its detail refresh). */
  put(projectPk: number, run: RunRecord): RunRow {
    return transaction(this.db, () => {
      if (this.upsert(projectPk, run, 0)) this.rename(projectPk);
      const row = this.byName(projectPk, run.name);
      if (!row) throw new Error('run vanished inside its own transaction');
      return row;
    });
  }

  /** Returns true when the run is new or its base name changed (names must be re-derived). */
  private upsert(projectPk: number, run: RunRecord, gen: number): boolean {
    const base = runBase(run);
    const before = this.s.base.get(projectPk, run.name) as Row | undefined;
    this.s.upsert.run({
      projectPk,
      name: run.name,
      base,
      state: run.state,
      mtimeMs: runMtimeMs(run),
      record: JSON.stringify(run),
      gen,
    });
    return !before || str(before, 'base_name') !== base || before['fs_name'] === null;
  }

  delete(projectPk: number, name: string, listingKey: string): void {
    transaction(this.db, () => {
      this.s.delete.run(projectPk, name);
      this.listings.drop(listingKey);
      this.rename(projectPk);
    });
  }

  /** After the last page of a complete listing: drop vanished runs, then derive names. */
  finish(projectPk: number, gen: number, listingKey: (name: string) => string, dirty: boolean): void {
    transaction(this.db, () => {
      this.s.missAbsent.run(projectPk, gen);
      const gone = this.s.deleteAbsent.all(projectPk, gen) as Row[];
      for (const g of gone) this.listings.drop(listingKey(str(g, 'name')));
      if (dirty || gone.length > 0) this.rename(projectPk);
    });
  }

  /** After a listing failed part-way: name what was stored, delete nothing. */
  settle(projectPk: number): void {
    transaction(this.db, () => this.rename(projectPk));
  }

  private rename(projectPk: number): void {
    renameByStoredBase(this.s.names.all(projectPk) as Row[], (name, pk) => this.s.setName.run(name, pk));
  }

  list(projectPk: number): string[] {
    return fsNames(this.s.list.all(projectPk) as Row[]);
  }

  /**
   * Every named run, in runs/ order: one query where a lookup per run would be one each. Records
   * are read only when used, so listing 10,000 runs does not read 10,000 configs and summaries.
   */
  rows(projectPk: number): RunRow[] {
    return (this.s.rows.all(projectPk) as Row[]).map((r) => {
      const pk = num(r, 'pk');
      return toRunDeferred(r, () => this.recordOf(pk));
    });
  }

  private recordOf(pk: number): string {
    const r = this.s.record.get(pk) as Row | undefined;
    if (!r) throw new Error(`run ${pk} is no longer stored`);
    return str(r, 'record');
  }

  byFsName(projectPk: number, fsName: string): RunRow | null {
    const r = this.s.byFs.get(projectPk, fsName) as Row | undefined;
    return r ? toRun(r) : null;
  }

  byName(projectPk: number, name: string): RunRow | null {
    const r = this.s.byName.get(projectPk, name) as Row | undefined;
    return r ? toRun(r) : null;
  }
}
