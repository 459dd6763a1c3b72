import { runTtlMs } from '../freshness.js';
import * as keys from '../keys.js';
import { runMetadataJson } from '../metadata-json.js';
import { dirNode, generatedFile, runFileNode } from '../nodes.js';
import { type ProjectRow, type RunRow } from '../store/index.js';
import { isoToMs } from '../times.js';
import { projectMtime } from './entities.js';
import { dirEntries, joinDir, type KindTable, type Listing, type TreeEnv } from './kind.js';

/** The run's own listing: its record and files (what metadata.json and files/ show). */
function runDetailListing(env: TreeEnv, project: ProjectRow, run: RunRow): Listing {
  return {
    key: keys.runKey(project.entity, project.name, run.name),
    ttlMs: runTtlMs(run.state, env.ttls),
    fetch: env.fetchers.runDetail(project, run),
  };
}

/** Everything under a run is listed under its run key. */
export function runPrefixes(ctx: { project: ProjectRow; run: RunRow }): string[] {
  return [keys.runKey(ctx.project.entity, ctx.project.name, ctx.run.name)];
}

function runXattrs(env: TreeEnv, project: ProjectRow, run: RunRow): Record<string, string> {
  const x: Record<string, string> = {
    'user.wandb.id': run.name,
    'user.wandb.url': env.urls.run(project.entity, project.name, run.name),
  };
  if (run.state !== null) x['user.wandb.state'] = run.state;
  return x;
}

/** runs/, a run, its metadata.json and its files/ (artifacts/ is in run-artifacts.ts). */
export const RUN_KINDS: KindTable<'runs' | 'run' | 'run-meta' | 'run-files' | 'run-file'> = {
  runs: {
    async child(env, ctx, name) {
      await env.ensure(ctx);
      // The listing is complete, so W&B is not asked about other names: a run created since
      // appears with the next refresh of the listing.
      const { pk } = ctx.project;
      const run = env.store.runByFsName(pk, name) ?? env.store.runByName(pk, name);
      return run ? { kind: 'run', project: ctx.project, run } : null;
    },
    children: (env, ctx) => dirEntries(env.store.runs(ctx.project.pk)),
    resolvedChildren: (env, { project }) =>
      env.store.runRows(project.pk).map((run) => ({
        name: run.fsName,
        kind: 'dir',
        ctx: { kind: 'run', project, run },
      })),
    node: (_env, ctx, path) => dirNode(path, projectMtime(ctx.project), false),
    listings: (env, { project }) => [
      {
        key: keys.runsKey(project.entity, project.name),
        ttlMs: env.ttls.listingMs,
        fetch: env.fetchers.runs(project),
      },
    ],
    stalePrefixes: (_env, { project }) => [
      keys.runsKey(project.entity, project.name),
      `${keys.projectKey(project.entity, project.name)}/run`,
    ],
  },

  run: {
    async child(env, { project, run }, name) {
      if (name === 'files') return { kind: 'run-files', project, run, dir: '' };
      if (name === 'artifacts') return { kind: 'run-artifacts', project, run };
      if (name !== 'metadata.json') return null;
      await env.ensure({ kind: 'run-files', project, run, dir: '' });
      // re-read: the run's own listing may have updated its record, or found it deleted
      const fresh = env.store.runByName(project.pk, run.name);
      return fresh ? { kind: 'run-meta', project, run: fresh } : null;
    },
    children: () => [
      { name: 'artifacts', kind: 'dir' },
      { name: 'files', kind: 'dir' },
      { name: 'metadata.json', kind: 'file' },
    ],
    node: (env, { project, run }, path) => dirNode(path, run.mtimeMs, false, runXattrs(env, project, run)),
    refreshListings: (env, { project, run }) => [runDetailListing(env, project, run)],
    stalePrefixes: (_env, ctx) => runPrefixes(ctx),
  },

  'run-meta': {
    node: (env, { project, run }, path) => {
      const url = env.urls.run(project.entity, project.name, run.name);
      return generatedFile(
        path,
        runMetadataJson(run.record, project.entity, project.name, url),
        run.mtimeMs,
        false,
      );
    },
    listings: (env, { project, run }) => [runDetailListing(env, project, run)],
    stalePrefixes: (_env, ctx) => runPrefixes(ctx),
  },

  'run-files': {
    async child(env, ctx, name) {
      await env.ensure(ctx);
      const { project, run, dir } = ctx;
      const file = env.store.runFile(run.pk, dir, name);
      if (file) return { kind: 'run-file', project, run, file };
      return env.store.runFileDirExists(run.pk, dir, name)
        ? { kind: 'run-files', project, run, dir: joinDir(dir, name) }
        : null;
    },
    children: (env, ctx) => env.store.runFileChildren(ctx.run.pk, ctx.dir),
    resolvedChildren: (env, { project, run, dir }) =>
      env.store
        .runFileChildEntries(run.pk, dir)
        .map(({ name, row }) =>
          row
            ? { name, kind: 'file', ctx: { kind: 'run-file', project, run, file: row } }
            : { name, kind: 'dir', ctx: { kind: 'run-files', project, run, dir: joinDir(dir, name) } },
        ),
    node: (_env, ctx, path) => dirNode(path, ctx.run.mtimeMs, false),
    listings: (env, { project, run }) => [runDetailListing(env, project, run)],
    stalePrefixes: (_env, ctx) => runPrefixes(ctx),
  },

  'run-file': {
    node: (env, { project, run, file }, path) => {
      const url = env.urls.runFile(project.entity, project.name, run.name, file.name);
      const mtime = isoToMs(file.updatedAt) ?? run.mtimeMs;
      return runFileNode(path, { entity: project.entity, project: project.name, run }, file, mtime, url);
    },
    stalePrefixes: (_env, ctx) => runPrefixes(ctx),
  },
};
