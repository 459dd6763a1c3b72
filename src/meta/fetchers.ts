import type { WandbApi } from '../api/client-interface.js';
import type { InlinePage, LinkDirection, ListedRun, RunArtifactLink } from '../api/types.js';
import type { Logger } from '../core/log.js';
import * as keys from './keys.js';
import type { MetaStore, ProjectRow, RunRow, Skipped, SweepRow, CollectionRow } from './store/index.js';
import type { Fetch, InlineListing, InlineSink } from './sync.js';

/**
 * One fetch per listing kind: walk the API's pages, write each page in its own transaction, and
 * after the last page (a complete listing) drop rows the listing no longer contains. A failure
 * part-way leaves earlier rows in place: an incomplete listing never deletes anything.
 */
export class Fetchers {
  constructor(
    private readonly api: WandbApi,
    private readonly store: MetaStore,
    private readonly log: Logger,
    /** takes the per-run listings that came complete with a runs page; without it they are dropped */
    private readonly inline: InlineSink = () => {},
  ) {}

  rootEntities(): Fetch {
    return async (gen, signal) => {
      const viewer = await this.api.viewer(signal);
      signal.throwIfAborted();
      // An organization's own entity holds its W&B Registry (wandb-registry-* projects).
      const names = [
        { name: viewer.entity, isTeam: false },
        ...[...viewer.teams, ...viewer.orgEntities].map((t) => ({ name: t, isTeam: true })),
      ];
      this.store.putRootEntities(names, gen);
    };
  }

  projects(entity: string): Fetch {
    return async (gen, signal) => {
      for await (const page of this.api.listProjects(entity, signal)) {
        signal.throwIfAborted();
        this.store.putProjectsPage(entity, page, gen);
      }
      this.store.finishProjects(entity, gen, (name) => keys.projectKey(entity, name));
    };
  }

  runs(p: ProjectRow): Fetch {
    return async (gen, signal) => {
      let dirty = false;
      try {
        for await (const page of this.api.listRuns(p.entity, p.name, signal)) {
          signal.throwIfAborted();
          dirty =
            this.store.putRunsPage(
              p.pk,
              page.map((r) => r.record),
              gen,
            ) || dirty;
          this.recordInline(p, page);
        }
      } catch (err) {
        if (dirty && !signal.aborted) this.store.settleRuns(p.pk);
        throw err;
      }
      this.store.finishRuns(p.pk, gen, (name) => keys.runKey(p.entity, p.name, name), dirty);
    };
  }

  /**
   * A run whose files (or artifacts) came complete on the runs page needs no request of its own: its
   * listing is recorded as fetched now, like runDetail / runArtifacts would. The run record written
   * with the same page is just as fresh, so the run key (record + files) is complete too. Incomplete
   * inline pages are dropped; the per-run fetch pages the whole listing when the run is entered.
   */
  private recordInline(p: ProjectRow, page: ListedRun[]): void {
    const listings: InlineListing[] = [];
    for (const r of page) {
      const name = r.record.name;
      const run = (): RunRow | null => this.store.runByName(p.pk, name);
      const files = r.files;
      if (files?.complete) {
        listings.push({
          key: keys.runKey(p.entity, p.name, name),
          write: (gen) => {
            const row = run();
            if (!row) return;
            const dirty = this.store.putRunFilesPage(row.pk, files.items, gen);
            this.logSkipped(
              `run ${p.entity}/${p.name}/${name}`,
              this.store.finishRunFiles(row.pk, gen, dirty),
            );
          },
        });
      }
      const arts: [LinkDirection, InlinePage<RunArtifactLink> | null][] = [
        ['input', r.inputArtifacts],
        ['output', r.outputArtifacts],
      ];
      for (const [direction, links] of arts) {
        if (!links?.complete) continue;
        listings.push({
          key: keys.runArtifactsKey(p.entity, p.name, name, direction),
          write: (gen) => {
            const row = run();
            if (!row) return;
            this.store.putRunArtifactsPage(row.pk, links.items, gen);
            this.store.finishRunArtifacts(row.pk, direction, gen);
          },
        });
      }
    }
    this.inline(listings);
  }

  /** A run's own record and its complete file list. */
  runDetail(p: ProjectRow, run: RunRow): Fetch {
    return async (gen, signal) => {
      const record = await this.api.run(p.entity, p.name, run.name, signal);
      signal.throwIfAborted();
      if (record === null) {
        // W&B answered: this run no longer exists.
        this.store.deleteRun(p.pk, run.name, keys.runKey(p.entity, p.name, run.name));
        return;
      }
      this.store.putRun(p.pk, record);
      const label = `run ${p.entity}/${p.name}/${run.name}`;
      let dirty = false;
      try {
        for await (const page of this.api.listRunFiles(p.entity, p.name, run.name, signal)) {
          signal.throwIfAborted();
          dirty = this.store.putRunFilesPage(run.pk, page, gen) || dirty;
        }
      } catch (err) {
        if (dirty && !signal.aborted) this.logSkipped(label, this.store.settleRunFiles(run.pk));
        throw err;
      }
      this.logSkipped(label, this.store.finishRunFiles(run.pk, gen, dirty));
    };
  }

  runArtifacts(p: ProjectRow, run: RunRow, direction: 'input' | 'output'): Fetch {
    return async (gen, signal) => {
      for await (const page of this.api.listRunArtifacts(p.entity, p.name, run.name, direction, signal)) {
        signal.throwIfAborted();
        this.store.putRunArtifactsPage(run.pk, page, gen);
      }
      this.store.finishRunArtifacts(run.pk, direction, gen);
    };
  }

  /** All collections of all artifact types of a project: one listing behind `artifacts/`. */
  collections(p: ProjectRow): Fetch {
    return async (gen, signal) => {
      const types: string[] = [];
      for await (const page of this.api.listArtifactTypes(p.entity, p.name, signal)) {
        signal.throwIfAborted();
        this.store.putTypesPage(p.pk, page, gen);
        types.push(...page.map((t) => t.name));
      }
      for (const typeName of types) {
        for await (const page of this.api.listCollections(p.entity, p.name, typeName, signal)) {
          signal.throwIfAborted();
          this.store.putCollectionsPage(p.pk, page, gen);
        }
      }
      this.store.finishTypes(p.pk, gen);
      this.store.finishCollections(p.pk, gen, (t, name) => keys.versionsKey(p.entity, p.name, t, name));
    };
  }

  versions(p: ProjectRow, c: CollectionRow): Fetch {
    return async (gen, signal) => {
      for await (const page of this.api.listVersions(p.entity, p.name, c.typeName, c.name, signal)) {
        signal.throwIfAborted();
        this.store.putVersionsPage(c.pk, page, gen);
      }
      this.store.finishVersions(c.pk, gen);
    };
  }

  manifest(artifactId: string, label: string): Fetch {
    return async (_gen, signal) => {
      const manifest = await this.api.manifest(artifactId, signal);
      signal.throwIfAborted();
      for (const r of manifest.rejected)
        this.log.warn('manifest entry rejected', { artifact: label, path: r.path, reason: r.reason });
      this.logSkipped(`artifact ${label}`, this.store.putManifest(artifactId, manifest));
    };
  }

  sweeps(p: ProjectRow): Fetch {
    return async (gen, signal) => {
      for await (const page of this.api.listSweeps(p.entity, p.name, signal)) {
        signal.throwIfAborted();
        this.store.putSweepsPage(p.pk, page, gen);
      }
      this.store.finishSweeps(p.pk, gen, (name) => keys.sweepRunsKey(p.entity, p.name, name));
    };
  }

  sweepRuns(p: ProjectRow, sweep: SweepRow): Fetch {
    return async (gen, signal) => {
      for await (const page of this.api.listSweepRunNames(p.entity, p.name, sweep.name, signal)) {
        signal.throwIfAborted();
        this.store.putSweepRunsPage(sweep.pk, page, gen);
      }
      this.store.finishSweepRuns(sweep.pk, gen);
    };
  }

  private logSkipped(owner: string, skipped: Skipped): void {
    for (const s of skipped)
      this.log.warn('file not shown: its path cannot be made safe', {
        owner,
        path: s.path,
        reason: s.reason,
      });
  }
}
