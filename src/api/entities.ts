import type { EntityRecord, ProjectRecord, ViewerRecord } from './types.js';
import type { FetchContext } from './fetch-context.js';
import { dig, paginate } from './paginate.js';
import { ENTITY, ENTITY_PROJECTS, PROJECT } from './queries/entities.js';
import { VIEWER, VIEWER_WITHOUT_ORGS } from './queries/viewer.js';
import type { Obj } from './shape.js';
import { arr, asObj, bool, optObj, optStr, str } from './shape.js';
import { AuthError, PermanentError } from './errors.js';

/**
 * The viewer. A server that predates `User.organizations` refuses the whole query: it is asked
 * again without, and the mount shows no organization entities there.
 */
export async function fetchViewer(ctx: FetchContext, signal?: AbortSignal): Promise<ViewerRecord> {
  let data: Obj;
  try {
    data = await ctx.transport.query(VIEWER, {}, signal);
  } catch (err) {
    if (!(err instanceof PermanentError && /organizations/.test(err.message))) throw err;
    ctx.logger.info('this W&B server has no viewer.organizations; organization entities are not listed');
    data = await ctx.transport.query(VIEWER_WITHOUT_ORGS, {}, signal);
  }
  const v = optObj(data, 'viewer', 'viewer');
  // W&B answers viewer: null for an anonymous request; with our key that means it is not accepted.
  if (v === null) throw new AuthError('W&B did not recognise the API key (viewer is null)');
  const teams: string[] = [];
  const teamConn = optObj(v, 'teams', 'viewer');
  if (teamConn) {
    for (const [i, e] of arr(teamConn, 'edges', 'viewer.teams').entries()) {
      const node = optObj(asObj(e, `viewer.teams.edges[${i}]`), 'node', `viewer.teams.edges[${i}]`);
      if (node) teams.push(str(node, 'name', `viewer.teams.edges[${i}].node`));
    }
  }
  const username = optStr(v, 'username', 'viewer') ?? '';
  return {
    id: str(v, 'id', 'viewer'),
    username,
    entity: optStr(v, 'entity', 'viewer') ?? username,
    teams,
    orgEntities: orgEntitiesOf(v),
  };
}

/** viewer.organizations[].orgEntity.name; an org without an entity (or an older server) adds none. */
function orgEntitiesOf(viewer: Obj): string[] {
  const out: string[] = [];
  const orgs = viewer.organizations;
  if (!Array.isArray(orgs)) return out;
  for (const [i, o] of orgs.entries()) {
    const e = optObj(asObj(o, `viewer.organizations[${i}]`), 'orgEntity', `viewer.organizations[${i}]`);
    const name = e ? str(e, 'name', `viewer.organizations[${i}].orgEntity`) : null;
    if (name !== null && !out.includes(name)) out.push(name);
  }
  return out;
}

export function mapEntity(e: Obj, path: string): EntityRecord {
  return {
    id: str(e, 'id', path),
    name: str(e, 'name', path),
    isTeam: bool(e, 'isTeam', path),
    createdAt: str(e, 'createdAt', path),
  };
}

export async function fetchEntity(
  ctx: FetchContext,
  name: string,
  signal?: AbortSignal,
): Promise<EntityRecord | null> {
  const data = await ctx.transport.query(ENTITY, { entity: name }, signal);
  const e = optObj(data, 'entity', 'data');
  return e === null ? null : mapEntity(e, 'entity');
}

export function mapProject(p: Obj, path: string): ProjectRecord {
  return {
    id: str(p, 'id', path),
    name: str(p, 'name', path),
    entityName: str(p, 'entityName', path),
    description: optStr(p, 'description', path),
    createdAt: str(p, 'createdAt', path),
    updatedAt: optStr(p, 'updatedAt', path),
  };
}

export async function fetchProject(
  ctx: FetchContext,
  entity: string,
  project: string,
  signal?: AbortSignal,
): Promise<ProjectRecord | null> {
  const data = await ctx.transport.query(PROJECT, { entity, project }, signal);
  const p = optObj(data, 'project', 'data');
  return p === null ? null : mapProject(p, 'project');
}

export function listProjects(
  ctx: FetchContext,
  entity: string,
  signal?: AbortSignal,
): AsyncIterable<ProjectRecord[]> {
  return paginate({
    ...ctx,
    op: ENTITY_PROJECTS,
    variables: { entity },
    ...(signal ? { signal } : {}),
    parentLabel: `entity ${entity}`,
    connection: (data) => dig(data, 'entity', 'projects'),
    mapEdge: (edge, path) => {
      const node = optObj(edge, 'node', path);
      return node === null ? null : mapProject(node, `${path}.node`);
    },
  });
}
