import * as keys from '../keys.js';
import { sweepMetadataJson } from '../metadata-json.js';
import { dirNode, generatedFile } from '../nodes.js';
import { type ProjectRow, type SweepRow } from '../store/index.js';
import { recordMtimeMs } from '../times.js';
import { projectMtime } from './entities.js';
import { dirEntries, type KindTable, type Listing, type TreeEnv } from './kind.js';

function sweepMtime(sweep: SweepRow): number {
  return recordMtimeMs(sweep.record);
}

/**
 * What a sweep's runs/ is built from: the sweep's run list, and the project's runs listing too,
 * because the links are named like the runs' directories, which depend on it.
 */
function sweepRunsListings(env: TreeEnv, project: ProjectRow, sweep: SweepRow): Listing[] {
  return [
    ...env.listings({ kind: 'runs', project }),
    {
      key: keys.sweepRunsKey(project.entity, project.name, sweep.name),
      ttlMs: env.ttls.listingMs,
      fetch: env.fetchers.sweepRuns(project, sweep),
    },
  ];
}

/** Everything in and under a sweep is listed under its runs key. */
function sweepPrefixes({ project, sweep }: { project: ProjectRow; sweep: SweepRow }): string[] {
  return [keys.sweepRunsKey(project.entity, project.name, sweep.name)];
}

/** sweeps/, a sweep, its metadata.json and its runs/ (links into the project's runs/). */
export const SWEEP_KINDS: KindTable<'sweeps' | 'sweep' | 'sweep-meta' | 'sweep-runs'> = {
  sweeps: {
    async child(env, ctx, name) {
      await env.ensure(ctx);
      const { pk } = ctx.project;
      const sweep = env.store.sweepByFsName(pk, name) ?? env.store.sweepByName(pk, name);
      return sweep ? { kind: 'sweep', project: ctx.project, sweep } : null;
    },
    children: (env, ctx) => dirEntries(env.store.sweeps(ctx.project.pk)),
    node: (_env, ctx, path) => dirNode(path, projectMtime(ctx.project), false),
    listings: (env, { project }) => [
      {
        key: keys.sweepsKey(project.entity, project.name),
        ttlMs: env.ttls.listingMs,
        fetch: env.fetchers.sweeps(project),
      },
    ],
    stalePrefixes: (_env, { project }) => [
      keys.sweepsKey(project.entity, project.name),
      `${keys.projectKey(project.entity, project.name)}/sweep`,
    ],
  },

  sweep: {
    async child(_env, { project, sweep }, name) {
      if (name === 'metadata.json') return { kind: 'sweep-meta', project, sweep };
      if (name === 'runs') return { kind: 'sweep-runs', project, sweep };
      return null;
    },
    children: () => [
      { name: 'metadata.json', kind: 'file' },
      { name: 'runs', kind: 'dir' },
    ],
    node: (env, { project, sweep }, path) =>
      dirNode(path, sweepMtime(sweep), false, {
        'user.wandb.id': sweep.name,
        'user.wandb.state': sweep.record.state,
        'user.wandb.url': env.urls.sweep(project.entity, project.name, sweep.name),
      }),
    refreshListings: (env, { project, sweep }) => sweepRunsListings(env, project, sweep),
    stalePrefixes: (_env, ctx) => sweepPrefixes(ctx),
  },

  'sweep-meta': {
    node: (env, { project, sweep }, path) => {
      const url = env.urls.sweep(project.entity, project.name, sweep.name);
      return generatedFile(
        path,
        sweepMetadataJson(sweep.record, project.entity, project.name, url),
        sweepMtime(sweep),
        false,
      );
    },
    refreshListings: (env, { project, sweep }) => sweepRunsListings(env, project, sweep),
    stalePrefixes: (_env, ctx) => sweepPrefixes(ctx),
  },

  'sweep-runs': {
    async child(env, ctx, name) {
      await env.ensure(ctx);
      const { project, sweep } = ctx;
      if (!env.store.hasSweepRun(sweep.pk, project.pk, name)) return null;
      return { kind: 'link', target: `../../../runs/${name}`, mtimeMs: sweepMtime(sweep), immutable: false };
    },
    children: (env, { project, sweep }) =>
      env.store.sweepRuns(sweep.pk, project.pk).map((name) => ({ name, kind: 'symlink' })),
    node: (_env, { sweep }, path) => dirNode(path, sweepMtime(sweep), false),
    listings: (env, { project, sweep }) => sweepRunsListings(env, project, sweep),
    stalePrefixes: (_env, ctx) => sweepPrefixes(ctx),
  },
};
