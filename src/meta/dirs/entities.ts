import * as keys from '../keys.js';
import { dirNode } from '../nodes.js';
import { type ProjectRow } from '../store/index.js';
import { isoToMs, recordMtimeMs } from '../times.js';
import { dirEntries, type Ctx, type KindTable, type TreeEnv } from './kind.js';

const PROJECT_DIRS = ['artifacts', 'runs', 'sweeps'] as const;
type ProjectDir = (typeof PROJECT_DIRS)[number];

function isProjectDir(name: string): name is ProjectDir {
  return (PROJECT_DIRS as readonly string[]).includes(name);
}

export function projectMtime(project: ProjectRow): number {
  return recordMtimeMs(project.record);
}

export function entityCtx(
  env: TreeEnv,
  entity: { name: string; createdAt: string | null },
): Extract<Ctx, { kind: 'entity' }> {
  return { kind: 'entity', entity: entity.name, mtimeMs: isoToMs(entity.createdAt) ?? env.startedAtMs };
}

/** '/', an entity, a project: the levels above a project's runs/ artifacts/ sweeps/. */
export const ENTITY_KINDS: KindTable<'root' | 'entity' | 'project'> = {
  root: {
    async child(env, ctx, name) {
      await env.ensure(ctx);
      const known = env.store.entityByFsName(name);
      if (known) return entityCtx(env, known);
      const remote = await env.remoteEntity(name);
      return remote ? entityCtx(env, remote) : null;
    },
    children: (env) => dirEntries(env.store.rootEntities()),
    node: (env, _ctx, path) => dirNode(path, env.startedAtMs, false),
    listings: (env) => [{ key: keys.rootKey, ttlMs: env.ttls.listingMs, fetch: env.fetchers.rootEntities() }],
    stalePrefixes: () => [keys.rootKey, 'e', 'manifest'],
  },

  entity: {
    async child(env, ctx, name) {
      await env.ensure(ctx);
      const project =
        env.store.projectByFsName(ctx.entity, name) ?? (await env.remoteProject(ctx.entity, name));
      return project ? { kind: 'project', project } : null;
    },
    children: (env, ctx) => dirEntries(env.store.projects(ctx.entity)),
    node: (env, ctx, path) =>
      dirNode(path, ctx.mtimeMs, false, { 'user.wandb.url': env.urls.entity(ctx.entity) }),
    listings: (env, ctx) => [
      {
        key: keys.projectsKey(ctx.entity),
        ttlMs: env.ttls.listingMs,
        fetch: env.fetchers.projects(ctx.entity),
      },
    ],
    stalePrefixes: (_env, ctx) => [keys.projectsKey(ctx.entity)],
  },

  project: {
    async child(_env, ctx, name) {
      return isProjectDir(name) ? { kind: name, project: ctx.project } : null;
    },
    children: () => dirEntries(PROJECT_DIRS),
    node: (env, ctx, path) =>
      dirNode(path, projectMtime(ctx.project), false, {
        'user.wandb.id': ctx.project.record.id,
        'user.wandb.url': env.urls.project(ctx.project.entity, ctx.project.name),
      }),
    // a project lists nothing itself: refreshing it re-lists its three directories
    refreshListings: (env, ctx) =>
      (['runs', 'artifacts', 'sweeps'] as const).flatMap((kind) =>
        env.listings({ kind, project: ctx.project }),
      ),
    stalePrefixes: (_env, ctx) => [keys.projectKey(ctx.project.entity, ctx.project.name)],
  },
};
