import type { Logger } from '../core/log.js';
import type { FetchContext } from './fetch-context.js';
import { PermanentError } from './errors.js';
import { parseJsonObjectLenient } from './json-fields.js';
import { dig, paginate } from './paginate.js';
import {
  ARTIFACT_COLLECTIONS,
  ARTIFACT_TYPES,
  COLLECTION_VERSIONS,
  RUN_INPUT_ARTIFACTS,
  RUN_OUTPUT_ARTIFACTS,
} from './queries/artifacts.js';
import type { Obj } from './shape.js';
import { arr, asObj, num, optNum, optObj, optStr, reqObj, str, strList } from './shape.js';
import type {
  ArtifactTypeRecord,
  CollectionKind,
  CollectionRecord,
  LinkDirection,
  RunArtifactLink,
  VersionRecord,
  VersionSource,
} from './types.js';

/** The collection a version is seen through; aliases and names are scoped to it. */
export interface VersionScope {
  entityName: string;
  projectName: string;
  collectionName: string;
}

const VERSION_ALIAS = /^v\d+$/;

/**
 * Artifact.aliases lists the aliases of every collection the artifact is in; keep the ones of `scope`
 * (like the SDK) and drop version-style aliases ('v3'), which are names, not aliases. An alias whose
 * collection or project comes back null cannot be placed, so it is dropped too (as the SDK's
 * _assign_attrs does).
 */
export function scopedAliases(node: Obj, scope: VersionScope, path: string): string[] {
  const out: string[] = [];
  for (const [i, a] of arr(node, 'aliases', path).entries()) {
    const ap = `${path}.aliases[${i}]`;
    const alias = asObj(a, ap);
    const name = str(alias, 'alias', ap);
    if (VERSION_ALIAS.test(name)) continue;
    const coll = optObj(alias, 'artifactCollection', ap);
    if (coll === null) continue;
    if (str(coll, 'name', `${ap}.artifactCollection`) !== scope.collectionName) continue;
    const proj = optObj(coll, 'project', `${ap}.artifactCollection`);
    if (proj === null) continue;
    if (
      str(proj, 'name', `${ap}.project`) !== scope.projectName ||
      str(proj, 'entityName', `${ap}.project`) !== scope.entityName
    ) {
      continue;
    }
    if (!out.includes(name)) out.push(name);
  }
  return out;
}

export function mapVersion(
  node: Obj,
  scope: VersionScope,
  versionIndex: number | null,
  path: string,
  logger: Logger,
): VersionRecord {
  const id = str(node, 'id', path);
  return {
    id,
    entityName: scope.entityName,
    projectName: scope.projectName,
    collectionName: scope.collectionName,
    typeName: str(reqObj(node, 'artifactType', path), 'name', `${path}.artifactType`),
    versionIndex: versionIndex ?? optNum(node, 'versionIndex', path) ?? 0,
    digest: str(node, 'digest', path),
    state: str(node, 'state', path),
    sizeBytes: num(node, 'size', path),
    fileCount: num(node, 'fileCount', path),
    aliases: scopedAliases(node, scope, path),
    description: optStr(node, 'description', path),
    metadata: parseJsonObjectLenient(optStr(node, 'metadata', path), `metadata of artifact ${id}`, logger),
    createdAt: str(node, 'createdAt', path),
    updatedAt: optStr(node, 'updatedAt', path),
  };
}

export function listArtifactTypes(
  ctx: FetchContext,
  entity: string,
  project: string,
  signal?: AbortSignal,
): AsyncIterable<ArtifactTypeRecord[]> {
  return paginate({
    ...ctx,
    op: ARTIFACT_TYPES,
    variables: { entity, project },
    ...(signal ? { signal } : {}),
    parentLabel: `project ${entity}/${project}`,
    connection: (data) => dig(data, 'project', 'artifactTypes'),
    mapEdge: (edge, path) => {
      const node = optObj(edge, 'node', path);
      return node === null ? null : { id: str(node, 'id', path), name: str(node, 'name', path) };
    },
  });
}

export function collectionKind(typename: string): CollectionKind {
  if (typename === 'ArtifactSequence') return 'sequence';
  if (typename === 'ArtifactPortfolio') return 'portfolio';
  throw new PermanentError(`unknown artifact collection type ${typename}`);
}

export function listCollections(
  ctx: FetchContext,
  entity: string,
  project: string,
  typeName: string,
  signal?: AbortSignal,
): AsyncIterable<CollectionRecord[]> {
  return paginate({
    ...ctx,
    op: ARTIFACT_COLLECTIONS,
    variables: { entity, project, type: typeName },
    ...(signal ? { signal } : {}),
    parentLabel: `artifact type ${entity}/${project}/${typeName}`,
    connection: (data) => dig(data, 'project', 'artifactType', 'artifactCollections'),
    mapEdge: (edge, path): CollectionRecord | null => {
      const node = optObj(edge, 'node', path);
      if (node === null) return null;
      const p = `${path}.node`;
      return {
        id: str(node, 'id', p),
        name: str(node, 'name', p),
        typeName,
        kind: collectionKind(str(node, '__typename', p)),
        description: optStr(node, 'description', p),
        createdAt: str(node, 'createdAt', p),
        updatedAt: optStr(node, 'updatedAt', p),
      };
    },
  });
}

/** 'v12' → 12; the edge's version name is the index within the listed collection (portfolios too). */
export function versionIndexFromName(version: string | null): number | null {
  const m = version === null ? null : /^v(\d+)$/.exec(version);
  return m?.[1] === undefined ? null : Number(m[1]);
}

/**
 * W&B lists PENDING (upload in progress) and DELETED versions too unless asked not to; the SDK asks
 * for committed ones only (apis/public/artifacts.py). A version that commits later shows on the next
 * refresh of the listing.
 */
export const COMMITTED_ONLY = JSON.stringify({ state: 'COMMITTED' });

export function listVersions(
  ctx: FetchContext,
  entity: string,
  project: string,
  typeName: string,
  collection: string,
  signal?: AbortSignal,
): AsyncIterable<VersionRecord[]> {
  const scope: VersionScope = { entityName: entity, projectName: project, collectionName: collection };
  return paginate({
    ...ctx,
    op: COLLECTION_VERSIONS,
    variables: { entity, project, type: typeName, collection, filters: COMMITTED_ONLY },
    ...(signal ? { signal } : {}),
    parentLabel: `artifact collection ${entity}/${project}/${typeName}/${collection}`,
    connection: (data) => dig(data, 'project', 'artifactType', 'artifactCollection', 'artifacts'),
    mapEdge: (edge, path) => {
      const node = reqObj(edge, 'node', path);
      const index = versionIndexFromName(optStr(edge, 'version', path));
      const version = mapVersion(node, scope, index, `${path}.node`, ctx.logger);
      const source = linkedSource(node, scope, `${path}.node`);
      return source === null ? version : { ...version, source };
    },
  });
}

/**
 * Where a version listed through `scope` was logged, when that is another collection (the scope is a
 * portfolio, e.g. a W&B Registry collection); null for a sequence's own versions. Artifact.versionIndex
 * is the index in its source sequence; the edge's version name is the portfolio's own.
 */
export function linkedSource(node: Obj, scope: VersionScope, path: string): VersionSource | null {
  const seq = optObj(node, 'artifactSequence', path);
  if (seq === null) return null;
  const project = optObj(seq, 'project', `${path}.artifactSequence`);
  const index = optNum(node, 'versionIndex', path);
  if (project === null || index === null) return null;
  const source: VersionSource = {
    entityName: str(project, 'entityName', `${path}.artifactSequence.project`),
    projectName: str(project, 'name', `${path}.artifactSequence.project`),
    collectionName: str(seq, 'name', `${path}.artifactSequence`),
    versionIndex: index,
  };
  const same =
    source.entityName === scope.entityName &&
    source.projectName === scope.projectName &&
    source.collectionName === scope.collectionName;
  return same ? null : source;
}

/** One edge of Run.inputArtifacts / outputArtifacts; the version is described in its own source sequence. */
export function mapRunArtifactEdge(
  edge: Obj,
  path: string,
  direction: LinkDirection,
  entity: string,
  project: string,
  logger: Logger,
): RunArtifactLink | null {
  const node = optObj(edge, 'node', path);
  if (node === null) return null;
  const np = `${path}.node`;
  const seq = reqObj(node, 'artifactSequence', np);
  const seqProject = optObj(seq, 'project', `${np}.artifactSequence`);
  const scope: VersionScope = {
    // ArtifactSequence.project is nullable in the newest schema; the run's project is the best guess.
    entityName: seqProject ? str(seqProject, 'entityName', `${np}.artifactSequence.project`) : entity,
    projectName: seqProject ? str(seqProject, 'name', `${np}.artifactSequence.project`) : project,
    collectionName: str(seq, 'name', `${np}.artifactSequence`),
  };
  return {
    direction,
    version: mapVersion(node, scope, optNum(node, 'versionIndex', np), np, logger),
    usedAs: direction === 'input' ? strList(edge, 'usedAs', path) : [],
  };
}

/** Versions a run used or logged, each described in its own source sequence (maybe another project). */
export function listRunArtifacts(
  ctx: FetchContext,
  entity: string,
  project: string,
  runName: string,
  direction: LinkDirection,
  signal?: AbortSignal,
): AsyncIterable<RunArtifactLink[]> {
  const field = direction === 'input' ? 'inputArtifacts' : 'outputArtifacts';
  return paginate({
    ...ctx,
    op: direction === 'input' ? RUN_INPUT_ARTIFACTS : RUN_OUTPUT_ARTIFACTS,
    variables: { entity, project, run: runName },
    ...(signal ? { signal } : {}),
    parentLabel: `run ${entity}/${project}/${runName}`,
    connection: (data) => dig(data, 'project', 'run', field),
    mapEdge: (edge, path) => mapRunArtifactEdge(edge, path, direction, entity, project, ctx.logger),
  });
}
