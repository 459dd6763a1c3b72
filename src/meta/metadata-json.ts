import type { RunRecord, SweepRecord, VersionRecord, VersionSource } from '../api/types.js';

/**
 * The bytes of generated metadata.json files: pretty JSON, a fixed key order at the top level and
 * sorted keys below it, so the same record always gives the same bytes (and size). The files must
 * stay valid JSON for jq and json.load, so W&B's extended-JSON NaN / Infinity / -Infinity (which the
 * API layer already turns into these strings) are written as the strings "NaN", "Infinity",
 * "-Infinity" also when a record still holds the numbers; JSON.stringify would write null.
 */

function sortKeys(value: unknown): unknown {
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(obj).sort()) out[k] = sortKeys(obj[k]);
    return out;
  }
  return value;
}

function render(fields: [string, unknown][]): Buffer {
  const out: Record<string, unknown> = {};
  for (const [k, v] of fields) out[k] = sortKeys(v === undefined ? null : v);
  return Buffer.from(JSON.stringify(out, null, 2) + '\n', 'utf8');
}

export function runMetadataJson(run: RunRecord, entity: string, project: string, url: string): Buffer {
  return render([
    ['id', run.name],
    ['storageId', run.id],
    ['displayName', run.displayName],
    ['entity', entity],
    ['project', project],
    ['state', run.state],
    ['url', url],
    ['createdAt', run.createdAt],
    ['updatedAt', run.updatedAt],
    ['heartbeatAt', run.heartbeatAt],
    ['username', run.username],
    ['group', run.group],
    ['jobType', run.jobType],
    ['sweepName', run.sweepName],
    ['tags', run.tags],
    ['config', run.config],
    ['summary', run.summary],
  ]);
}

export function versionMetadataJson(v: VersionRecord, url: string, usedAs?: string[]): Buffer {
  const fields: [string, unknown][] = [
    ['id', v.id],
    ['entity', v.entityName],
    ['project', v.projectName],
    ['type', v.typeName],
    ['collection', v.collectionName],
    ['version', `v${v.versionIndex}`],
    ['versionIndex', v.versionIndex],
    ['aliases', v.aliases],
    ['state', v.state],
    ['digest', v.digest],
    ['size', v.sizeBytes],
    ['fileCount', v.fileCount],
    ['url', url],
    ['createdAt', v.createdAt],
    ['updatedAt', v.updatedAt],
    ['description', v.description],
    ['metadata', v.metadata],
  ];
  if (usedAs !== undefined) fields.push(['usedAs', usedAs]);
  if (v.source !== undefined) fields.push(['source', sourceJson(v.source)]);
  return render(fields);
}

/** 'entity/project/collection:vN', the name W&B gives the artifact a linked version points at. */
export function sourceName(s: VersionSource): string {
  return `${s.entityName}/${s.projectName}/${s.collectionName}:v${s.versionIndex}`;
}

function sourceJson(s: VersionSource): Record<string, unknown> {
  return {
    name: sourceName(s),
    entity: s.entityName,
    project: s.projectName,
    collection: s.collectionName,
    version: `v${s.versionIndex}`,
  };
}

export function sweepMetadataJson(s: SweepRecord, entity: string, project: string, url: string): Buffer {
  return render([
    ['id', s.name],
    ['storageId', s.id],
    ['displayName', s.displayName],
    ['entity', entity],
    ['project', project],
    ['state', s.state],
    ['method', s.method],
    ['url', url],
    ['runCount', s.runCount],
    ['bestLoss', s.bestLoss],
    ['createdAt', s.createdAt],
    ['updatedAt', s.updatedAt],
    ['config', s.config],
  ]);
}
