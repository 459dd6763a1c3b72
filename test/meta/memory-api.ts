/**
 * A small in-memory WandbApi for unit tests of the metadata layer: plain records, paged, with call
 * counters and an `offline` switch. It is not a model of W&B's GraphQL; the integration tests run
 * the real client against the fake server for that.
 */
import type { ApiStats, WandbApi } from '../../src/api/client-interface.js';
import { TransientError } from '../../src/api/errors.js';
import type {
  ArtifactTypeRecord,
  CollectionRecord,
  EntityRecord,
  FileLocator,
  InlinePage,
  ListedRun,
  Manifest,
  Page,
  ProjectRecord,
  RunArtifactLink,
  RunFileRecord,
  RunRecord,
  SweepRecord,
  VersionRecord,
  ViewerRecord,
} from '../../src/api/types.js';
import type { RangeSource } from '../../src/blobs/types.js';

export interface MemoryProject {
  record: ProjectRecord;
  runs: RunRecord[];
  files: Map<string, RunFileRecord[]>;
  links: Map<string, RunArtifactLink[]>;
  types: ArtifactTypeRecord[];
  collections: CollectionRecord[];
  versions: Map<string, VersionRecord[]>;
  sweeps: SweepRecord[];
  sweepRuns: Map<string, string[]>;
}

export class MemoryApi implements WandbApi {
  viewerRecord: ViewerRecord = {
    id: 'u1',
    username: 'alice',
    entity: 'alice',
    teams: ['team-a'],
    orgEntities: [],
  };
  entities = new Map<string, EntityRecord>();
  projects = new Map<string, MemoryProject>();
  manifests = new Map<string, Manifest>();
  calls = new Map<string, number>();
  offline = false;
  /** when set, listings fail after yielding this many pages */
  failAfterPages: number | null = null;
  pageSize = 2;
  /**
   * When set, listRuns carries each run's first `inlineLimit` files and input/output links (like the
   * real client's runs page); null: no inline listings, every run is fetched on its own.
   */
  inlineLimit: number | null = null;
  /** when set, each listing call waits for this promise before answering its first page */
  gate: Promise<void> | null = null;

  count(method: string): number {
    return this.calls.get(method) ?? 0;
  }

  totalCalls(): number {
    let n = 0;
    for (const v of this.calls.values()) n += v;
    return n;
  }

  private async hit(method: string): Promise<void> {
    this.calls.set(method, this.count(method) + 1);
    if (this.gate) await this.gate;
    if (this.offline) throw new TransientError(`offline (${method})`);
  }

  private async *pages<T>(method: string, items: T[]): AsyncIterable<Page<T>> {
    await this.hit(method);
    if (items.length === 0) {
      yield [];
      return;
    }
    for (let i = 0; i < items.length; i += this.pageSize) {
      if (i > 0 && this.offline) throw new TransientError(`offline (${method})`);
      if (this.failAfterPages !== null && i / this.pageSize >= this.failAfterPages) {
        throw new TransientError(`connection reset (${method})`);
      }
      yield items.slice(i, i + this.pageSize);
    }
  }

  project_(entity: string, project: string): MemoryProject {
    const p = this.projects.get(`${entity}/${project}`);
    if (!p) throw new Error(`no project ${entity}/${project} in the memory api`);
    return p;
  }

  addProject(entity: string, name: string): MemoryProject {
    const p: MemoryProject = {
      record: {
        id: `P-${entity}-${name}`,
        name,
        entityName: entity,
        description: null,
        createdAt: '2026-01-01T00:00:00Z',
        updatedAt: '2026-01-02T00:00:00Z',
      },
      runs: [],
      files: new Map(),
      links: new Map(),
      types: [],
      collections: [],
      versions: new Map(),
      sweeps: [],
      sweepRuns: new Map(),
    };
    this.projects.set(`${entity}/${name}`, p);
    return p;
  }

  async viewer(): Promise<ViewerRecord> {
    await this.hit('viewer');
    return this.viewerRecord;
  }
  async entity(name: string): Promise<EntityRecord | null> {
    await this.hit('entity');
    return this.entities.get(name) ?? null;
  }
  async project(entity: string, project: string): Promise<ProjectRecord | null> {
    await this.hit('project');
    return this.projects.get(`${entity}/${project}`)?.record ?? null;
  }
  listProjects(entity: string): AsyncIterable<Page<ProjectRecord>> {
    const list = [...this.projects.values()]
      .filter((p) => p.record.entityName === entity)
      .map((p) => p.record);
    return this.pages('listProjects', list);
  }
  async run(entity: string, project: string, runName: string): Promise<RunRecord | null> {
    await this.hit('run');
    return this.projects.get(`${entity}/${project}`)?.runs.find((r) => r.name === runName) ?? null;
  }
  listRuns(entity: string, project: string): AsyncIterable<Page<ListedRun>> {
    const p = this.project_(entity, project);
    const limit = this.inlineLimit;
    const inline = <T>(items: T[]): InlinePage<T> | null =>
      limit === null ? null : { items: items.slice(0, limit), complete: items.length <= limit };
    const links = (name: string, d: 'input' | 'output') =>
      (p.links.get(name) ?? []).filter((l) => l.direction === d);
    return this.pages(
      'listRuns',
      p.runs.map((record) => ({
        record,
        files: inline(p.files.get(record.name) ?? []),
        inputArtifacts: inline(links(record.name, 'input')),
        outputArtifacts: inline(links(record.name, 'output')),
      })),
    );
  }
  listRunFiles(entity: string, project: string, runName: string): AsyncIterable<Page<RunFileRecord>> {
    return this.pages('listRunFiles', this.project_(entity, project).files.get(runName) ?? []);
  }
  listRunArtifacts(
    entity: string,
    project: string,
    runName: string,
    direction: 'input' | 'output',
  ): AsyncIterable<Page<RunArtifactLink>> {
    const links = (this.project_(entity, project).links.get(runName) ?? []).filter(
      (l) => l.direction === direction,
    );
    return this.pages('listRunArtifacts', links);
  }
  listArtifactTypes(entity: string, project: string): AsyncIterable<Page<ArtifactTypeRecord>> {
    return this.pages('listArtifactTypes', this.project_(entity, project).types);
  }
  listCollections(entity: string, project: string, typeName: string): AsyncIterable<Page<CollectionRecord>> {
    return this.pages(
      'listCollections',
      this.project_(entity, project).collections.filter((c) => c.typeName === typeName),
    );
  }
  listVersions(
    entity: string,
    project: string,
    typeName: string,
    collection: string,
  ): AsyncIterable<Page<VersionRecord>> {
    return this.pages(
      'listVersions',
      this.project_(entity, project).versions.get(`${typeName}/${collection}`) ?? [],
    );
  }
  async manifest(artifactId: string): Promise<Manifest> {
    await this.hit('manifest');
    const m = this.manifests.get(artifactId);
    if (!m) throw new Error(`no manifest ${artifactId}`);
    return m;
  }
  listSweeps(entity: string, project: string): AsyncIterable<Page<SweepRecord>> {
    return this.pages('listSweeps', this.project_(entity, project).sweeps);
  }
  listSweepRunNames(entity: string, project: string, sweepName: string): AsyncIterable<Page<string>> {
    return this.pages('listSweepRunNames', this.project_(entity, project).sweepRuns.get(sweepName) ?? []);
  }
  rangeSource(_locator: FileLocator, _label: string): RangeSource {
    throw new Error('not used by the metadata layer');
  }
  admitDownload(): Promise<void> {
    return Promise.reject(new Error('not used by the metadata layer'));
  }
  stats(): ApiStats {
    return {
      graphqlRequests: this.totalCalls(),
      storageRequests: 0,
      retries: 0,
      rateLimited: 0,
      lastThrottleAtMs: null,
    };
  }
}

export function runRecord(
  name: string,
  displayName: string | null,
  state = 'finished',
  extra: Partial<RunRecord> = {},
): RunRecord {
  return {
    id: `R-${name}`,
    name,
    displayName,
    state,
    config: { lr: 0.1, b: { z: 1, a: 2 } },
    summary: { loss: 0.5 },
    tags: [],
    group: null,
    jobType: null,
    sweepName: null,
    username: 'alice',
    createdAt: '2026-02-01T00:00:00Z',
    heartbeatAt: '2026-02-01T01:00:00Z',
    updatedAt: '2026-02-01T02:00:00Z',
    ...extra,
  };
}

export function versionRecord(
  entity: string,
  project: string,
  typeName: string,
  collection: string,
  index: number,
  aliases: string[],
  state = 'COMMITTED',
): VersionRecord {
  return {
    id: `A-${collection}-${index}`,
    entityName: entity,
    projectName: project,
    collectionName: collection,
    typeName,
    versionIndex: index,
    digest: 'd'.repeat(32),
    state,
    sizeBytes: 10,
    fileCount: 1,
    aliases,
    description: null,
    metadata: { k: 1 },
    createdAt: `2026-03-0${index + 1}T00:00:00Z`,
    updatedAt: null,
  };
}

/** base64 MD5 of a string, as W&B sends it */
export async function b64md5(text: string): Promise<string> {
  const { createHash } = await import('node:crypto');
  return createHash('md5').update(text).digest('base64');
}
