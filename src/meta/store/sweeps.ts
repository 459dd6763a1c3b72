import type { SweepRecord } from '../../api/types.js';
import type { Db } from '../../core/db.js';
import { sweepBase } from '../naming.js';
import type { Listings } from './listings.js';
import { renameByStoredBase } from './rename.js';
import { fsNames, str, toSweep, type Row, type SweepRow } from './rows.js';
import { MISSES_TO_DROP } from './misses.js';
import { transaction } from './tx.js';

/** The `sweeps` and `sweep_runs` tables: a project's sweeps/ directory and each sweep's runs. */
export class Sweeps {
  private readonly s;

  constructor(
    private readonly db: Db,
    private readonly listings: Listings,
  ) {
    const p = (sql: string) => db.prepare(sql);
    this.s = {
      upsert: p(
        `INSERT INTO sweeps (project_pk, name, base_name, record, seen_gen)
         VALUES (@projectPk, @name, @base, @record, @gen)
         ON CONFLICT (project_pk, name) DO UPDATE SET base_name = excluded.base_name, record = excluded.record,
           seen_gen = excluded.seen_gen, missed = 0`,
      ),
      names: p('SELECT pk, name, base_name, fs_name FROM sweeps WHERE project_pk = ?'),
      setName: p('UPDATE sweeps SET fs_name = ? WHERE pk = ?'),
      missAbsent: p('UPDATE sweeps SET missed = missed + 1 WHERE project_pk = ? AND seen_gen < ?'),
      deleteAbsent: p(
        `DELETE FROM sweeps WHERE project_pk = ? AND seen_gen < ? AND missed >= ${MISSES_TO_DROP} RETURNING name`,
      ),
      list: p('SELECT fs_name FROM sweeps WHERE project_pk = ? AND fs_name IS NOT NULL ORDER BY fs_name'),
      byFs: p('SELECT * FROM sweeps WHERE project_pk = ? AND fs_name = ?'),
      byName: p('SELECT * FROM sweeps WHERE project_pk = ? AND name = ?'),
      runUpsert: p(
        `INSERT INTO sweep_runs (sweep_pk, run_name, seen_gen) VALUES (?, ?, ?)
         ON CONFLICT (sweep_pk, run_name) DO UPDATE SET seen_gen = excluded.seen_gen`,
      ),
      runDeleteAbsent: p('DELETE FROM sweep_runs WHERE sweep_pk = ? AND seen_gen < ?'),
      runList: p(
        `SELECT r.fs_name FROM sweep_runs sr
         JOIN runs r ON r.project_pk = ? AND r.name = sr.run_name
         WHERE sr.sweep_pk = ? AND r.fs_name IS NOT NULL ORDER BY r.fs_name`,
      ),
      runHas: p(
        `SELECT 1 FROM runs r JOIN sweep_runs sr ON sr.sweep_pk = ? AND sr.run_name = r.name
         WHERE r.project_pk = ? AND r.fs_name = ?`,
      ),
    };
  }

  putPage(projectPk: number, page: SweepRecord[], gen: number): void {
    transaction(this.db, () => {
      for (const sw of page) {
        this.s.upsert.run({
          projectPk,
          name: sw.name,
          base: sweepBase(sw),
          record: JSON.stringify(sw),
          gen,
        });
      }
      this.rename(projectPk);
    });
  }

  finish(projectPk: number, gen: number, listingKey: (name: string) => string): void {
    transaction(this.db, () => {
      this.s.missAbsent.run(projectPk, gen);
      const gone = this.s.deleteAbsent.all(projectPk, gen) as Row[];
      for (const g of gone) this.listings.drop(listingKey(str(g, 'name')));
      this.rename(projectPk);
    });
  }

  private rename(projectPk: number): void {
    renameByStoredBase(this.s.names.all(projectPk) as Row[], (name, pk) => this.s.setName.run(name, pk));
  }

  list(projectPk: number): string[] {
    return fsNames(this.s.list.all(projectPk) as Row[]);
  }

  byFsName(projectPk: number, fsName: string): SweepRow | null {
    const r = this.s.byFs.get(projectPk, fsName) as Row | undefined;
    return r ? toSweep(r) : null;
  }

  byName(projectPk: number, name: string): SweepRow | null {
    const r = this.s.byName.get(projectPk, name) as Row | undefined;
    return r ? toSweep(r) : null;
  }

  putRunsPage(sweepPk: number, runNames: string[], gen: number): void {
    transaction(this.db, () => {
      for (const n of runNames) this.s.runUpsert.run(sweepPk, n, gen);
    });
  }

  finishRuns(sweepPk: number, gen: number): void {
    this.s.runDeleteAbsent.run(sweepPk, gen);
  }

  hasRun(sweepPk: number, projectPk: number, fsName: string): boolean {
    return this.s.runHas.get(sweepPk, projectPk, fsName) !== undefined;
  }

  /** The sweep's runs under their directory names in runs/; runs the project does not have are skipped. */
  runs(sweepPk: number, projectPk: number): string[] {
    return fsNames(this.s.runList.all(projectPk, sweepPk) as Row[]);
  }
}
