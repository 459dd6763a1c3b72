import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { collectionKind, mapVersion, scopedAliases, versionIndexFromName } from '../../src/api/artifacts.js';
import { PermanentError } from '../../src/api/errors.js';
import { parseJsonObject, unwrapRunConfig } from '../../src/api/json-fields.js';
import { mapRun } from '../../src/api/runs.js';
import { createLogger, silentLogger } from '../../src/core/log.js';

const RUN = {
  id: 'UnVuOjE=',
  name: 'a1b2c3d4',
  displayName: 'baseline',
  state: 'finished',
  config: JSON.stringify({
    lr: { value: 0.01, desc: null },
    nested: { value: { a: [1, 2] } },
    raw: 5,
    _wandb: { value: { cli_version: '0.17' } },
    wandb_version: 1,
  }),
  summaryMetrics: '{"loss": 0.5, "nested": {"f1": 0.9}}',
  tags: ['x'],
  group: null,
  jobType: 'train',
  sweepName: null,
  user: { username: 'me' },
  createdAt: '2026-01-01T00:00:00Z',
  heartbeatAt: null,
  updatedAt: null,
};

describe('run records', () => {
  it('unwraps config values and hides W&B internal keys', () => {
    const r = mapRun(RUN, 'run', silentLogger);
    assert.deepEqual(r.config, { lr: 0.01, nested: { a: [1, 2] }, raw: 5 });
    assert.deepEqual(r.summary, { loss: 0.5, nested: { f1: 0.9 } });
    assert.equal(r.username, 'me');
  });

  it('a malformed config costs only that field, with a warning', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'warn', sink: { write: (l) => lines.push(l) } });
    const r = mapRun({ ...RUN, config: '{"lr": {"value": 0.0', summaryMetrics: '[1]' }, 'run', logger);
    assert.deepEqual(r.config, {});
    assert.deepEqual(r.summary, {});
    assert.equal(r.name, 'a1b2c3d4');
    assert.equal(lines.length, 2);
  });

  it('a record missing a required field is a PermanentError naming the path', () => {
    assert.throws(() => mapRun({ ...RUN, name: 7 }, 'edges[3].node', silentLogger), /edges\[3\]\.node\.name/);
  });

  it('parses JSONString objects, tolerating null and double encoding', () => {
    assert.deepEqual(parseJsonObject(null, 'x'), {});
    assert.deepEqual(parseJsonObject('null', 'x'), {});
    assert.deepEqual(parseJsonObject(JSON.stringify('{"a":1}'), 'x'), { a: 1 });
    assert.throws(() => parseJsonObject('nope', 'x'), PermanentError);
    // W&B's extended JSON: non-finite numbers become strings, no other key is lost
    assert.deepEqual(
      parseJsonObject(
        '{"loss": NaN, "best": Infinity, "n": {"g": -Infinity}, "s": "NaN and Infinity", "ok": 1}',
        'x',
      ),
      { loss: 'NaN', best: 'Infinity', n: { g: '-Infinity' }, s: 'NaN and Infinity', ok: 1 },
    );
    assert.deepEqual(parseJsonObject('[NaN]'.replace('[NaN]', '{"a": [NaN, -Infinity, 2]}'), 'x'), {
      a: ['NaN', '-Infinity', 2],
    });
    assert.throws(() => parseJsonObject('{"a": NaNa}', 'x'), PermanentError);
    assert.deepEqual(unwrapRunConfig({ a: { value: null }, b: { other: 1 } }), { a: null, b: { other: 1 } });
  });
});

describe('artifact records', () => {
  const scope = { entityName: 'e', projectName: 'p', collectionName: 'reg' };
  const alias = (
    name: string,
    coll: string | null,
    project: { name: string; entityName: string } | null = null,
  ) => ({
    alias: name,
    artifactCollection: coll === null ? null : { name: coll, project },
  });

  it('keeps only aliases of the collection listed through, without vN aliases', () => {
    const here = { name: 'p', entityName: 'e' };
    const node = {
      aliases: [
        alias('latest', 'seq', here),
        alias('production', 'reg', here),
        alias('staging', 'reg', { name: 'other', entityName: 'e' }),
        alias('v3', 'reg', here),
        alias('best', 'reg', here),
        alias('best', 'reg', here),
      ],
    };
    assert.deepEqual(scopedAliases(node, scope, 'n'), ['production', 'best']);
  });

  it('drops aliases whose collection or project is null, as the SDK does', () => {
    const node = {
      aliases: [
        alias('orphan', null),
        alias('homeless', 'reg', null),
        alias('kept', 'reg', { name: 'p', entityName: 'e' }),
      ],
    };
    assert.deepEqual(scopedAliases(node, scope, 'n'), ['kept']);
  });

  it('version index comes from the edge version name when present', () => {
    assert.equal(versionIndexFromName('v12'), 12);
    assert.equal(versionIndexFromName('latest'), null);
    assert.equal(versionIndexFromName(null), null);
    const node = {
      id: 'QXJ0aWZhY3Q6MQ==',
      digest: 'abc',
      versionIndex: 7,
      state: 'COMMITTED',
      size: '123',
      fileCount: 2,
      description: null,
      metadata: 'not json',
      createdAt: '2026-01-01T00:00:00Z',
      updatedAt: null,
      artifactType: { name: 'model' },
      aliases: [],
    };
    const v = mapVersion(node, scope, 2, 'n', silentLogger);
    assert.equal(v.versionIndex, 2);
    assert.equal(v.sizeBytes, 123);
    assert.deepEqual(v.metadata, {});
    assert.equal(mapVersion(node, scope, null, 'n', silentLogger).versionIndex, 7);
  });

  it('maps __typename to a collection kind', () => {
    assert.equal(collectionKind('ArtifactSequence'), 'sequence');
    assert.equal(collectionKind('ArtifactPortfolio'), 'portfolio');
    assert.throws(() => collectionKind('Other'), PermanentError);
  });
});
