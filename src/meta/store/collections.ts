import type { ArtifactTypeRecord, CollectionRecord } from '../../api/types.js';
import type { Db } from '../../core/db.js';
import { assignNames, sanitizeSegment, type NameItem } from '../naming.js';
import type { Listings } from './listings.js';
import { fsNames, num, str, strOrNull, toCollection, type CollectionRow, type Row } from './rows.js';
import { MISSES_TO_DROP } from './misses.js';
import { transaction } from './tx.js';

/** The `artifact_types` and `collections` tables: a project's artifacts/ directory. */
export class Collections {
  private readonly s;

  constructor(
    private readonly db: Db,
    private readonly listings: Listings,
  ) {
    const p = (sql: string) => db.prepare(sql);
    this.s = {
      typeUpsert: p(
        `INSERT INTO artifact_types (project_pk, name, id, seen_gen) VALUES (?, ?, ?, ?)
         ON CONFLICT (project_pk, name) DO UPDATE SET id = excluded.id, seen_gen = excluded.seen_gen`,
      ),
      typeDeleteAbsent: p('DELETE FROM artifact_types WHERE project_pk = ? AND seen_gen < ?'),
      upsert: p(
        `INSERT INTO collections (project_pk, type_name, name, id, record, seen_gen)
         VALUES (@projectPk, @typeName, @name, @id, @record, @gen)
         ON CONFLICT (project_pk, type_name, name) DO UPDATE SET id = excluded.id, record = excluded.record,
           seen_gen = excluded.seen_gen, missed = 0
         RETURNING pk, fs_name`,
      ),
      names: p('SELECT pk, type_name, name, fs_name FROM collections WHERE project_pk = ?'),
      setName: p('UPDATE collections SET fs_name = ? WHERE pk = ?'),
      deleteAbsent: p(
        `DELETE FROM collections WHERE project_pk = ? AND seen_gen < ? AND missed >= ${MISSES_TO_DROP}
         RETURNING type_name, name`,
      ),
      missAbsent: p('UPDATE collections SET missed = missed + 1 WHERE project_pk = ? AND seen_gen < ?'),
      list: p(
        'SELECT fs_name FROM collections WHERE project_pk = ? AND fs_name IS NOT NULL ORDER BY fs_name',
      ),
      byFs: p('SELECT * FROM collections WHERE project_pk = ? AND fs_name = ?'),
    };
  }

  putTypesPage(projectPk: number, page: ArtifactTypeRecord[], gen: number): void {
    transaction(this.db, () => {
      for (const t of page) this.s.typeUpsert.run(projectPk, t.name, t.id, gen);
    });
  }

  finishTypes(projectPk: number, gen: number): void {
    this.s.typeDeleteAbsent.run(projectPk, gen);
  }

  putPage(projectPk: number, page: CollectionRecord[], gen: number): void {
    transaction(this.db, () => {
      let renamed = false;
      for (const c of page) {
        const r = this.s.upsert.get({
          projectPk,
          typeName: c.typeName,
          name: c.name,
          id: c.id,
          record: JSON.stringify(c),
          gen,
        }) as Row;
        if (r['fs_name'] === null) renamed = true;
      }
      if (renamed) this.rename(projectPk);
    });
  }

  finish(projectPk: number, gen: number, listingKey: (typeName: string, name: string) => string): void {
    transaction(this.db, () => {
      this.s.missAbsent.run(projectPk, gen);
      const gone = this.s.deleteAbsent.all(projectPk, gen) as Row[];
      for (const g of gone) this.listings.drop(listingKey(str(g, 'type_name'), str(g, 'name')));
      if (gone.length > 0) this.rename(projectPk);
    });
  }

  private rename(projectPk: number): void {
    const rows = this.s.names.all(projectPk) as Row[];
    const keyOf = (r: Row) => `${str(r, 'type_name')}\0${str(r, 'name')}`;
    const items: NameItem[] = rows.map((r) => ({
      key: keyOf(r),
      base: sanitizeSegment(str(r, 'name')),
      disambiguator: str(r, 'type_name'),
    }));
    const names = assignNames(items);
    for (const r of rows) {
      const name = names.get(keyOf(r));
      if (name !== undefined && name !== strOrNull(r, 'fs_name')) this.s.setName.run(name, num(r, 'pk'));
    }
  }

  list(projectPk: number): string[] {
    return fsNames(this.s.list.all(projectPk) as Row[]);
  }

  byFsName(projectPk: number, fsName: string): CollectionRow | null {
    const r = this.s.byFs.get(projectPk, fsName) as Row | undefined;
    return r ? toCollection(r, projectPk, fsName) : null;
  }
}
