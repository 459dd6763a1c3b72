import type { EntityRecord, ProjectRecord } from '../../api/types.js';
import type { Db } from '../../core/db.js';
import { assignNames, sanitizeSegment, type NameItem } from '../naming.js';
import type { Listings } from './listings.js';
import { applyNames } from './rename.js';
import { fsNames, str, toEntity, toProject, type EntityInfo, type ProjectRow, type Row } from './rows.js';
import { transaction } from './tx.js';

/** The `entities` table: the root directory (the viewer and its teams) and entities looked up by name. */
export class Entities {
  private readonly s;

  constructor(private readonly db: Db) {
    const p = (sql: string) => db.prepare(sql);
    this.s = {
      upsert: p(
        `INSERT INTO entities (name, fs_name, id, is_team, created_at, in_root, seen_gen)
         VALUES (@name, @fsName, @id, @isTeam, @createdAt, @inRoot, @gen)
         ON CONFLICT (name) DO UPDATE SET
           id = COALESCE(excluded.id, id), is_team = MAX(is_team, excluded.is_team),
           created_at = COALESCE(excluded.created_at, created_at),
           in_root = MAX(in_root, excluded.in_root), seen_gen = MAX(seen_gen, excluded.seen_gen)`,
      ),
      dropFromRoot: p('UPDATE entities SET in_root = 0 WHERE in_root = 1 AND seen_gen < ?'),
      root: p('SELECT fs_name FROM entities WHERE in_root = 1 ORDER BY fs_name'),
      byFs: p('SELECT * FROM entities WHERE fs_name = ? ORDER BY in_root DESC LIMIT 1'),
    };
  }

  putRoot(names: { name: string; isTeam: boolean }[], gen: number): void {
    transaction(this.db, () => {
      for (const e of names) {
        this.s.upsert.run({
          name: e.name,
          fsName: sanitizeSegment(e.name),
          id: null,
          isTeam: e.isTeam ? 1 : 0,
          createdAt: null,
          inRoot: 1,
          gen,
        });
      }
      this.s.dropFromRoot.run(gen);
    });
  }

  put(e: EntityRecord): void {
    this.s.upsert.run({
      name: e.name,
      fsName: sanitizeSegment(e.name),
      id: e.id,
      isTeam: e.isTeam ? 1 : 0,
      createdAt: e.createdAt,
      inRoot: 0,
      gen: 0,
    });
  }

  root(): string[] {
    return fsNames(this.s.root.all() as Row[]);
  }

  byFsName(fsName: string): EntityInfo | null {
    const r = this.s.byFs.get(fsName) as Row | undefined;
    return r ? toEntity(r) : null;
  }
}

/** The `projects` table: an entity's directory. */
export class Projects {
  private readonly s;

  constructor(
    private readonly db: Db,
    private readonly listings: Listings,
  ) {
    const p = (sql: string) => db.prepare(sql);
    this.s = {
      upsert: p(
        `INSERT INTO projects (entity, name, id, listed, record, seen_gen)
         VALUES (@entity, @name, @id, @listed, @record, @gen)
         ON CONFLICT (entity, name) DO UPDATE SET id = excluded.id, record = excluded.record,
           listed = MAX(listed, excluded.listed), seen_gen = MAX(seen_gen, excluded.seen_gen)
         RETURNING pk, fs_name`,
      ),
      names: p('SELECT pk, name, id, fs_name FROM projects WHERE entity = ?'),
      setName: p('UPDATE projects SET fs_name = ? WHERE pk = ?'),
      deleteAbsent: p('DELETE FROM projects WHERE entity = ? AND listed = 1 AND seen_gen < ? RETURNING name'),
      list: p('SELECT fs_name FROM projects WHERE entity = ? AND listed = 1 ORDER BY fs_name'),
      byFs: p('SELECT * FROM projects WHERE entity = ? AND fs_name = ?'),
      byName: p('SELECT * FROM projects WHERE entity = ? AND name = ?'),
    };
  }

  putPage(entity: string, page: ProjectRecord[], gen: number): void {
    transaction(this.db, () => {
      for (const p of page) this.upsert(p, true, gen);
      this.rename(entity);
    });
  }

  /** A project resolved by name (not necessarily in the entity's listing). */
  put(p: ProjectRecord): ProjectRow {
    return transaction(this.db, () => {
      this.upsert(p, false, 0);
      this.rename(p.entityName);
      const row = this.byName(p.entityName, p.name);
      if (!row) throw new Error('project vanished inside its own transaction');
      return row;
    });
  }

  finish(entity: string, gen: number, listingKey: (name: string) => string): void {
    transaction(this.db, () => {
      const gone = this.s.deleteAbsent.all(entity, gen) as Row[];
      for (const g of gone) this.listings.drop(listingKey(str(g, 'name')));
      this.rename(entity);
    });
  }

  private upsert(p: ProjectRecord, listed: boolean, gen: number): void {
    this.s.upsert.get({
      entity: p.entityName,
      name: p.name,
      id: p.id,
      listed: listed ? 1 : 0,
      record: JSON.stringify(p),
      gen,
    });
  }

  private rename(entity: string): void {
    const rows = this.s.names.all(entity) as Row[];
    const items: NameItem[] = rows.map((r) => ({
      key: str(r, 'name'),
      base: sanitizeSegment(str(r, 'name')),
      disambiguator: str(r, 'id'),
    }));
    applyNames(rows, assignNames(items), 'name', (name, pk) => this.s.setName.run(name, pk));
  }

  list(entity: string): string[] {
    return fsNames(this.s.list.all(entity) as Row[]);
  }

  byFsName(entity: string, fsName: string): ProjectRow | null {
    const r = this.s.byFs.get(entity, fsName) as Row | undefined;
    return r ? toProject(r) : null;
  }

  byName(entity: string, name: string): ProjectRow | null {
    const r = this.s.byName.get(entity, name) as Row | undefined;
    return r ? toProject(r) : null;
  }
}
