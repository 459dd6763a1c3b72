import type { VersionRecord } from '../../api/types.js';
import type { Db } from '../../core/db.js';
import { assignNames, sanitizeSegment, shortHash, type NameItem } from '../naming.js';
import { num, str, toAlias, toVersion, type AliasRow, type Row, type VersionRow } from './rows.js';
import { MISSES_TO_DROP } from './misses.js';
import { transaction } from './tx.js';

/** The `versions` and `aliases` tables: a collection's `vN` directories and alias symlinks. */
export class Versions {
  private readonly s;

  constructor(private readonly db: Db) {
    const p = (sql: string) => db.prepare(sql);
    this.s = {
      upsert: p(
        `INSERT INTO versions (collection_pk, version_index, artifact_id, state, record, seen_gen)
         VALUES (@collectionPk, @versionIndex, @artifactId, @state, @record, @gen)
         ON CONFLICT (collection_pk, version_index) DO UPDATE SET artifact_id = excluded.artifact_id,
           state = excluded.state, record = excluded.record, seen_gen = excluded.seen_gen, missed = 0`,
      ),
      missAbsent: p('UPDATE versions SET missed = missed + 1 WHERE collection_pk = ? AND seen_gen < ?'),
      deleteAbsent: p(
        `DELETE FROM versions WHERE collection_pk = ? AND seen_gen < ? AND missed >= ${MISSES_TO_DROP}`,
      ),
      list: p('SELECT version_index FROM versions WHERE collection_pk = ? ORDER BY version_index'),
      get: p('SELECT * FROM versions WHERE collection_pk = ? AND version_index = ?'),
      aliasUpsert: p(
        `INSERT INTO aliases (collection_pk, alias, fs_name, version_index, seen_gen) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (collection_pk, alias) DO UPDATE SET version_index = excluded.version_index,
           seen_gen = excluded.seen_gen`,
      ),
      aliasDeleteAbsent: p('DELETE FROM aliases WHERE collection_pk = ? AND seen_gen < ?'),
      aliasAll: p('SELECT alias, fs_name, version_index FROM aliases WHERE collection_pk = ?'),
      aliasSetName: p('UPDATE aliases SET fs_name = ? WHERE collection_pk = ? AND alias = ?'),
      aliasByFs: p(
        `SELECT a.alias, a.fs_name, a.version_index FROM aliases a
         JOIN versions v ON v.collection_pk = a.collection_pk AND v.version_index = a.version_index
         WHERE a.collection_pk = ? AND a.fs_name = ?`,
      ),
      aliasList: p(
        `SELECT a.alias, a.fs_name, a.version_index FROM aliases a
         JOIN versions v ON v.collection_pk = a.collection_pk AND v.version_index = a.version_index
         WHERE a.collection_pk = ? ORDER BY a.fs_name`,
      ),
    };
  }

  putPage(collectionPk: number, page: VersionRecord[], gen: number): void {
    transaction(this.db, () => {
      for (const v of page) {
        this.s.upsert.run({
          collectionPk,
          versionIndex: v.versionIndex,
          artifactId: v.id,
          state: v.state,
          record: JSON.stringify(v),
          gen,
        });
        for (const alias of v.aliases) {
          // 'vN' is the version's own directory name, never a second entry for it.
          if (/^v\d+$/.test(alias)) continue;
          this.s.aliasUpsert.run(collectionPk, alias, sanitizeSegment(alias), v.versionIndex, gen);
        }
      }
      this.renameAliases(collectionPk);
    });
  }

  finish(collectionPk: number, gen: number): void {
    transaction(this.db, () => {
      this.s.missAbsent.run(collectionPk, gen);
      this.s.deleteAbsent.run(collectionPk, gen);
      this.s.aliasDeleteAbsent.run(collectionPk, gen);
      this.renameAliases(collectionPk);
    });
  }

  private renameAliases(collectionPk: number): void {
    const rows = this.s.aliasAll.all(collectionPk) as Row[];
    const items: NameItem[] = rows.map((r) => ({
      key: str(r, 'alias'),
      base: sanitizeSegment(str(r, 'alias')),
      disambiguator: shortHash(str(r, 'alias')),
    }));
    const names = assignNames(items);
    for (const r of rows) {
      const name = names.get(str(r, 'alias'));
      if (name !== undefined && name !== str(r, 'fs_name'))
        this.s.aliasSetName.run(name, collectionPk, str(r, 'alias'));
    }
  }

  list(collectionPk: number): number[] {
    return (this.s.list.all(collectionPk) as Row[]).map((r) => num(r, 'version_index'));
  }

  get(collectionPk: number, versionIndex: number): VersionRow | null {
    const r = this.s.get.get(collectionPk, versionIndex) as Row | undefined;
    return r ? toVersion(r, collectionPk, versionIndex) : null;
  }

  aliases(collectionPk: number): AliasRow[] {
    return (this.s.aliasList.all(collectionPk) as Row[]).map(toAlias);
  }

  aliasByFsName(collectionPk: number, fsName: string): AliasRow | null {
    const r = this.s.aliasByFs.get(collectionPk, fsName) as Row | undefined;
    return r ? toAlias(r) : null;
  }
}
