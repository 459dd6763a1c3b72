import { runTtlMs } from '../freshness.js';
import * as keys from '../keys.js';
import { assignNames, sanitizeSegment } from '../naming.js';
import { dirNode } from '../nodes.js';
import { type RunArtifactRow, type RunRow } from '../store/index.js';
import { isoToMs } from '../times.js';
import type { DirEntry } from '../types.js';
import { VERSION_DIR, versionInfo } from './artifacts.js';
import { runPrefixes } from './runs.js';
import { dirEntries, type Direction, type KindTable, type LinkGroup, type TreeEnv } from './kind.js';

/** A run's linked versions grouped into one directory per collection, named like artifacts/. */
function linkGroups(env: TreeEnv, run: RunRow, direction: Direction): LinkGroup[] {
  const byKey = new Map<string, RunArtifactRow[]>();
  for (const row of env.store.runArtifacts(run.pk, direction)) {
    const key = [row.entity, row.project, row.typeName, row.collection].join('\0');
    const list = byKey.get(key);
    if (list) list.push(row);
    else byKey.set(key, [row]);
  }
  const names = assignNames(
    [...byKey.entries()].map(([key, rows]) => ({
      key,
      base: sanitizeSegment(rows[0]?.collection ?? ''),
      disambiguator: rows[0]?.typeName ?? '',
    })),
  );
  const groups: LinkGroup[] = [];
  for (const [key, links] of byKey) groups.push({ fsName: names.get(key) ?? key, links });
  return groups.sort((a, b) => (a.fsName < b.fsName ? -1 : a.fsName > b.fsName ? 1 : 0));
}

/** Alias name → version index, for aliases whose version is in the group (highest index wins). */
function groupAliases(group: LinkGroup): Map<string, number> {
  const out = new Map<string, number>();
  for (const l of group.links) {
    for (const alias of l.link.version.aliases) {
      if (VERSION_DIR.test(alias)) continue;
      const name = sanitizeSegment(alias);
      if ((out.get(name) ?? -1) < l.versionIndex) out.set(name, l.versionIndex);
    }
  }
  return out;
}

/** runs/<run>/artifacts/, its input/ and output/, and one collection's linked versions and aliases. */
export const RUN_ARTIFACT_KINDS: KindTable<
  'run-artifacts' | 'run-artifacts-direction' | 'run-artifacts-collection'
> = {
  'run-artifacts': {
    async child(_env, { project, run }, name) {
      return name === 'input' || name === 'output'
        ? { kind: 'run-artifacts-direction', project, run, direction: name }
        : null;
    },
    children: () => dirEntries(['input', 'output']),
    node: (_env, ctx, path) => dirNode(path, ctx.run.mtimeMs, false),
    refreshListings: (env, { project, run }) =>
      (['input', 'output'] as const).flatMap((direction) =>
        env.listings({ kind: 'run-artifacts-direction', project, run, direction }),
      ),
    stalePrefixes: (_env, ctx) => runPrefixes(ctx),
  },

  'run-artifacts-direction': {
    async child(env, ctx, name) {
      await env.ensure(ctx);
      const { project, run, direction } = ctx;
      const group = linkGroups(env, run, direction).find((g) => g.fsName === name);
      return group ? { kind: 'run-artifacts-collection', project, run, direction, group } : null;
    },
    children: (env, ctx) => dirEntries(linkGroups(env, ctx.run, ctx.direction).map((g) => g.fsName)),
    node: (_env, ctx, path) => dirNode(path, ctx.run.mtimeMs, false),
    listings: (env, { project, run, direction }) => [
      {
        key: keys.runArtifactsKey(project.entity, project.name, run.name, direction),
        ttlMs: runTtlMs(run.state, env.ttls),
        fetch: env.fetchers.runArtifacts(project, run, direction),
      },
    ],
    stalePrefixes: (_env, ctx) => runPrefixes(ctx),
  },

  'run-artifacts-collection': {
    async child(env, { group }, name) {
      const link = group.links.find((l) => `v${l.versionIndex}` === name);
      if (link) return { kind: 'version', version: versionInfo(env, link.link.version, link.link.usedAs) };
      const target = groupAliases(group).get(name);
      if (target === undefined) return null;
      const linked = group.links.find((l) => l.versionIndex === target);
      const mtimeMs = linked ? versionInfo(env, linked.link.version).mtimeMs : 0;
      return { kind: 'link', target: `v${target}`, mtimeMs, immutable: false };
    },
    children: (_env, { group }) => {
      const versions = [...group.links].sort((a, b) => a.versionIndex - b.versionIndex);
      const out: DirEntry[] = versions.map((l) => ({ name: `v${l.versionIndex}`, kind: 'dir' }));
      for (const alias of [...groupAliases(group).keys()].sort()) out.push({ name: alias, kind: 'symlink' });
      return out;
    },
    node: (_env, { group }, path) => {
      const times = group.links.map((l) => isoToMs(l.link.version.createdAt) ?? 0);
      return dirNode(path, Math.max(0, ...times), false);
    },
    stalePrefixes: (_env, ctx) => runPrefixes(ctx),
  },
};
