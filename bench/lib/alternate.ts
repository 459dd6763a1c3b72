/**
 * Rows whose ratio is the target are best sampled side by side: on a shared, noisy machine two rows
 * measured minutes apart can differ by more than the margin being judged. `measureAlternating`
 * takes sample i of every row before sample i + 1 of any, so each pair sees the same stretch of load.
 */
import type { BenchContext, RowSpec } from './context.js';
import type { Row } from './report.js';

export interface AlternatingRow {
  spec: RowSpec;
  sample: (i: number) => Promise<number>;
}

function message(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ').slice(0, 160);
}

/**
 * `n` samples of each row, interleaved (a0 b0 a1 b1 ...). A failing sample fails every row: a
 * ratio of one row's median to a partial other would not be side by side any more.
 */
export async function measureAlternating(
  ctx: BenchContext,
  rows: readonly AlternatingRow[],
  n: number,
): Promise<Row[]> {
  const samples: number[][] = rows.map(() => []);
  for (const r of rows) ctx.log(`${r.spec.workload} :: ${r.spec.subject} (alternating)`);
  try {
    for (let i = 0; i < n; i++) {
      for (const [k, r] of rows.entries()) samples[k]?.push(await r.sample(i));
    }
  } catch (err) {
    ctx.log(`  failed: ${message(err)}`);
    return rows.map((r, k) =>
      ctx.report.add({ ...r.spec, samples: samples[k] ?? [], unavailable: `failed: ${message(err)}` }),
    );
  }
  return rows.map((r, k) => {
    const got = samples[k] ?? [];
    ctx.log(`  ${r.spec.id}: ${got.map((s) => s.toPrecision(4)).join(', ')}`);
    return ctx.report.add({ ...r.spec, samples: got });
  });
}
