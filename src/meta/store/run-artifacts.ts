import type { RunArtifactLink } from '../../api/types.js';
import type { Db } from '../../core/db.js';
import { toRunArtifact, type Row, type RunArtifactRow } from './rows.js';
import { transaction } from './tx.js';

/** The `run_artifacts` table: the versions a run used (input) and logged (output). */
export class RunArtifacts {
  private readonly s;

  constructor(private readonly db: Db) {
    const p = (sql: string) => db.prepare(sql);
    this.s = {
      upsert: p(
        `INSERT INTO run_artifacts (run_pk, direction, artifact_id, collection, type_name, entity, project,
           version_index, record, seen_gen)
         VALUES (@runPk, @direction, @artifactId, @collection, @typeName, @entity, @project, @versionIndex, @record, @gen)
         ON CONFLICT (run_pk, direction, artifact_id, collection) DO UPDATE SET type_name = excluded.type_name,
           entity = excluded.entity, project = excluded.project, version_index = excluded.version_index,
           record = excluded.record, seen_gen = excluded.seen_gen`,
      ),
      deleteAbsent: p('DELETE FROM run_artifacts WHERE run_pk = ? AND direction = ? AND seen_gen < ?'),
      list: p('SELECT * FROM run_artifacts WHERE run_pk = ? AND direction = ?'),
    };
  }

  putPage(runPk: number, page: RunArtifactLink[], gen: number): void {
    transaction(this.db, () => {
      for (const link of page) {
        const v = link.version;
        this.s.upsert.run({
          runPk,
          direction: link.direction,
          artifactId: v.id,
          collection: v.collectionName,
          typeName: v.typeName,
          entity: v.entityName,
          project: v.projectName,
          versionIndex: v.versionIndex,
          record: JSON.stringify(link),
          gen,
        });
      }
    });
  }

  finish(runPk: number, direction: 'input' | 'output', gen: number): void {
    this.s.deleteAbsent.run(runPk, direction, gen);
  }

  list(runPk: number, direction: 'input' | 'output'): RunArtifactRow[] {
    return (this.s.list.all(runPk, direction) as Row[]).map((r) => toRunArtifact(r, direction));
  }
}
