import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { GraphQLSchema } from 'graphql';
import { buildSchema, Kind, parse, validate } from 'graphql';
import { ALL_OPERATIONS } from '../../src/api/queries/index.js';
import { packageRoot } from '../../src/core/package-root.js';

const REFERENCE_SDL = join(packageRoot(), '..', 'shared', 'reference', 'wandb-schema.graphql');
const FAKE_SDL = join(packageRoot(), 'test', 'fake-wandb', 'schema.graphql');

function checkAll(schema: GraphQLSchema): void {
  for (const op of ALL_OPERATIONS) {
    const errors = validate(schema, parse(op.document));
    assert.deepEqual(
      errors.map((e) => e.message),
      [],
      `${op.name} does not validate`,
    );
  }
}

describe('GraphQL documents', () => {
  it('each is one named operation whose name is its operationName, names unique', () => {
    const names = new Set<string>();
    for (const op of ALL_OPERATIONS) {
      const ops = parse(op.document).definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
      assert.equal(ops.length, 1, op.name);
      const def = ops[0];
      assert.ok(def?.kind === Kind.OPERATION_DEFINITION && def.operation === 'query', op.name);
      assert.equal(def.name?.value, op.name);
      assert.ok(!names.has(op.name), `duplicate ${op.name}`);
      names.add(op.name);
    }
    assert.ok(names.size >= 15);
  });

  it('validate against the fake server SDL (test/fake-wandb/schema.graphql)', (t) => {
    if (!existsSync(FAKE_SDL)) {
      t.diagnostic(`skipped: ${FAKE_SDL} not present`);
      return;
    }
    checkAll(buildSchema(readFileSync(FAKE_SDL, 'utf8')));
  });

  it('validate against ../shared/reference/wandb-schema.graphql', (t) => {
    if (!existsSync(REFERENCE_SDL)) {
      t.diagnostic(`skipped: ${REFERENCE_SDL} not present`);
      return;
    }
    checkAll(buildSchema(readFileSync(REFERENCE_SDL, 'utf8')));
  });

  it('a field W&B does not have is caught (the check can fail)', () => {
    const schema = buildSchema(readFileSync(existsSync(REFERENCE_SDL) ? REFERENCE_SDL : FAKE_SDL, 'utf8'));
    const bad = parse('query X { viewer { id noSuchField } }');
    assert.equal(validate(schema, bad).length, 1);
  });
});
