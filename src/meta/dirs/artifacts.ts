import type { VersionRecord } from '../../api/types.js';
import { IMMUTABLE, isCommittedVersion } from '../freshness.js';
import * as keys from '../keys.js';
import { sourceName, versionMetadataJson } from '../metadata-json.js';
import { dirNode, generatedFile, manifestFileNode } from '../nodes.js';
import { type CollectionRow } from '../store/index.js';
import { isoToMs, recordMtimeMs } from '../times.js';
import type { DirEntry } from '../types.js';
import { projectMtime } from './entities.js';
import { dirEntries, joinDir, type KindTable, type Listing, type TreeEnv, type VersionInfo } from './kind.js';

/** A version's directory name: 'v' and its index, without leading zeros (so no two names alias). */
export const VERSION_DIR = /^v(0|[1-9]\d*)$/;

export function versionInfo(env: TreeEnv, record: VersionRecord, usedAs?: string[]): VersionInfo {
  const info: VersionInfo = {
    record,
    committed: isCommittedVersion(record.state),
    mtimeMs: isoToMs(record.createdAt) ?? 0,
    url: env.urls.version(
      record.entityName,
      record.projectName,
      record.typeName,
      record.collectionName,
      record.versionIndex,
    ),
  };
  if (usedAs !== undefined) info.usedAs = usedAs;
  return info;
}

function collectionMtime(collection: CollectionRow): number {
  return recordMtimeMs(collection.record);
}

/** The version's manifest: what files/ shows. A committed version's never changes. */
function manifestListing(env: TreeEnv, version: VersionInfo): Listing {
  const r = version.record;
  const label = `${r.entityName}/${r.projectName}/${r.collectionName}:v${r.versionIndex}`;
  return {
    key: keys.manifestKey(r.id),
    ttlMs: version.committed ? IMMUTABLE : env.ttls.listingMs,
    fetch: env.fetchers.manifest(r.id, label),
  };
}

/** Everything in and under a version is listed under its manifest key. */
function versionPrefixes(ctx: { version: VersionInfo }): string[] {
  return [keys.manifestKey(ctx.version.record.id)];
}

/** artifacts/, a collection with its versions and aliases, a version's metadata.json and files/. */
export const ARTIFACT_KINDS: KindTable<
  'artifacts' | 'collection' | 'version' | 'version-meta' | 'version-files' | 'version-file'
> = {
  artifacts: {
    async child(env, ctx, name) {
      await env.ensure(ctx);
      const collection = env.store.collectionByFsName(ctx.project.pk, name);
      return collection ? { kind: 'collection', project: ctx.project, collection } : null;
    },
    children: (env, ctx) => dirEntries(env.store.collections(ctx.project.pk)),
    node: (_env, ctx, path) => dirNode(path, projectMtime(ctx.project), false),
    listings: (env, { project }) => [
      {
        key: keys.collectionsKey(project.entity, project.name),
        ttlMs: env.ttls.listingMs,
        fetch: env.fetchers.collections(project),
      },
    ],
    stalePrefixes: (_env, { project }) => [
      keys.collectionsKey(project.entity, project.name),
      `${keys.projectKey(project.entity, project.name)}/versions`,
    ],
  },

  collection: {
    async child(env, ctx, name) {
      await env.ensure(ctx);
      const { collection } = ctx;
      const m = VERSION_DIR.exec(name);
      if (m) {
        const row = env.store.version(collection.pk, Number(m[1]));
        return row ? { kind: 'version', version: versionInfo(env, row.record) } : null;
      }
      const alias = env.store.aliasByFsName(collection.pk, name);
      if (!alias) return null;
      const mtimeMs = collectionMtime(collection);
      return { kind: 'link', target: `v${alias.versionIndex}`, mtimeMs, immutable: false };
    },
    children: (env, { collection }) => {
      const out: DirEntry[] = env.store.versions(collection.pk).map((i) => ({ name: `v${i}`, kind: 'dir' }));
      for (const a of env.store.aliases(collection.pk)) out.push({ name: a.fsName, kind: 'symlink' });
      return out;
    },
    node: (env, { project, collection }, path) =>
      dirNode(path, collectionMtime(collection), false, {
        'user.wandb.id': collection.record.id,
        'user.wandb.type': collection.typeName,
        'user.wandb.url': env.urls.collection(
          project.entity,
          project.name,
          collection.typeName,
          collection.name,
        ),
      }),
    listings: (env, { project, collection }) => [
      {
        key: keys.versionsKey(project.entity, project.name, collection.typeName, collection.name),
        ttlMs: env.ttls.listingMs,
        fetch: env.fetchers.versions(project, collection),
      },
    ],
    stalePrefixes: (_env, { project, collection }) => [
      keys.versionsKey(project.entity, project.name, collection.typeName, collection.name),
    ],
  },

  version: {
    async child(_env, { version }, name) {
      if (name === 'metadata.json') return { kind: 'version-meta', version };
      if (name === 'files') return { kind: 'version-files', version, dir: '' };
      return null;
    },
    children: () => [
      { name: 'files', kind: 'dir' },
      { name: 'metadata.json', kind: 'file' },
    ],
    node: (_env, { version }, path) =>
      dirNode(path, version.mtimeMs, version.committed, {
        'user.wandb.id': version.record.id,
        'user.wandb.state': version.record.state,
        'user.wandb.url': version.url,
        ...(version.record.source ? { 'user.wandb.source': sourceName(version.record.source) } : {}),
      }),
    refreshListings: (env, { version }) => [manifestListing(env, version)],
    stalePrefixes: (_env, ctx) => versionPrefixes(ctx),
  },

  'version-meta': {
    node: (_env, { version }, path) =>
      generatedFile(
        path,
        versionMetadataJson(version.record, version.url, version.usedAs),
        version.mtimeMs,
        version.committed,
      ),
    refreshListings: (env, { version }) => [manifestListing(env, version)],
    stalePrefixes: (_env, ctx) => versionPrefixes(ctx),
  },

  'version-files': {
    async child(env, ctx, name) {
      await env.ensure(ctx);
      const { version, dir } = ctx;
      const id = version.record.id;
      const entry = env.store.manifestEntry(id, dir, name);
      if (entry) return { kind: 'version-file', version, entry };
      return env.store.manifestDirExists(id, dir, name)
        ? { kind: 'version-files', version, dir: joinDir(dir, name) }
        : null;
    },
    children: (env, ctx) => env.store.manifestChildren(ctx.version.record.id, ctx.dir),
    resolvedChildren: (env, { version, dir }) =>
      env.store
        .manifestChildEntries(version.record.id, dir)
        .map(({ name, row }) =>
          row
            ? { name, kind: 'file', ctx: { kind: 'version-file', version, entry: row } }
            : { name, kind: 'dir', ctx: { kind: 'version-files', version, dir: joinDir(dir, name) } },
        ),
    node: (_env, { version }, path) => dirNode(path, version.mtimeMs, version.committed),
    listings: (env, { version }) => [manifestListing(env, version)],
    stalePrefixes: (_env, ctx) => versionPrefixes(ctx),
  },

  'version-file': {
    node: (env, { version, entry }, path) => {
      const r = version.record;
      const url = env.urls.versionFile(
        r.entityName,
        r.projectName,
        r.typeName,
        r.collectionName,
        r.versionIndex,
        entry.path,
      );
      // File URLs are asked in bulk through the collection being browsed (its membership).
      return manifestFileNode(path, r.id, entry, version.mtimeMs, version.committed, url, {
        entity: r.entityName,
        project: r.projectName,
        collection: r.collectionName,
        version: `v${r.versionIndex}`,
      });
    },
    stalePrefixes: (_env, ctx) => versionPrefixes(ctx),
  },
};
