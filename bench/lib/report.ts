/**
 * Results of one run: rows of medians plus the ratios the issue's targets are stated in, always
 * against a baseline measured in the same run. Rows that could not be measured say why instead of
 * carrying a number.
 */
import { median } from './timing.js';

export type Unit = 'MB/s' | 's' | 'MiB' | 'IOPS' | 'req' | 'CPU-s/GiB';

export interface Comparison {
  /** id of the baseline row */
  vs: string;
  /** the target ratio subject/baseline, e.g. 0.7 (with op '>=') or 2 (with op '<=') */
  target?: number;
  op?: '>=' | '<=';
}

export interface Row {
  id: string;
  workload: string;
  subject: string;
  /** how other rows name this one in their "vs baseline" column */
  short?: string;
  unit: Unit;
  samples: number[];
  /** why there is no number (tool missing, wandbfs not mountable, ...) */
  unavailable?: string;
  /** extra facts shown after the table (GraphQL request counts, IOPS, ...) */
  note?: string;
  comparisons: Comparison[];
  /** an absolute bar, e.g. RSS <= 150 MiB */
  limit?: { value: number; op: '>=' | '<=' };
}

export interface ComputedComparison {
  vs: string;
  vsSubject: string;
  ratio: number | null;
  target: string;
  met: 'yes' | 'NO' | '-';
}

export class Report {
  readonly rows: Row[] = [];

  add(row: Omit<Row, 'comparisons'> & { comparisons?: Comparison[] }): Row {
    const existing = this.rows.findIndex((r) => r.id === row.id);
    const full: Row = { comparisons: [], ...row };
    if (existing >= 0) this.rows[existing] = full;
    else this.rows.push(full);
    return full;
  }

  /** rows grouped by workload ('0 baselines' first), in measurement order within a workload */
  ordered(): Row[] {
    return [...this.rows].sort((a, b) => a.workload.localeCompare(b.workload));
  }

  get(id: string): Row | undefined {
    return this.rows.find((r) => r.id === id);
  }

  value(row: Row): number | null {
    if (row.unavailable !== undefined || row.samples.length === 0) return null;
    return median(row.samples);
  }

  compare(row: Row): ComputedComparison[] {
    const out: ComputedComparison[] = [];
    const mine = this.value(row);
    for (const c of row.comparisons) {
      const base = this.get(c.vs);
      const theirs = base ? this.value(base) : null;
      const ratio = mine !== null && theirs !== null && theirs > 0 ? mine / theirs : null;
      const target = c.target !== undefined ? `${c.op ?? '>='} ${c.target}x` : '';
      let met: ComputedComparison['met'] = '-';
      if (ratio !== null && c.target !== undefined) {
        met = (c.op ?? '>=') === '>=' ? (ratio >= c.target ? 'yes' : 'NO') : ratio <= c.target ? 'yes' : 'NO';
      }
      out.push({
        vs: c.vs,
        vsSubject: base?.short ?? base?.subject ?? `${c.vs} (not measured)`,
        ratio,
        target,
        met,
      });
    }
    if (row.limit) {
      const { value: lim, op } = row.limit;
      const met = mine === null ? '-' : (op === '>=' ? mine >= lim : mine <= lim) ? 'yes' : 'NO';
      out.push({ vs: '', vsSubject: '(absolute)', ratio: null, target: `${op} ${lim} ${row.unit}`, met });
    }
    return out;
  }

  toJSON(): unknown {
    return this.rows.map((r) => ({
      ...r,
      median: this.value(r),
      comparisons: this.compare(r),
    }));
  }
}

function fmtValue(v: number, unit: Unit): string {
  if (unit === 's') return v < 1 ? `${(v * 1000).toFixed(0)} ms` : `${v.toFixed(2)} s`;
  if (unit === 'MiB') return `${v.toFixed(0)} MiB`;
  if (unit === 'IOPS') return `${v.toFixed(0)} IOPS`;
  if (unit === 'req') return `${v.toFixed(0)} requests`;
  if (unit === 'CPU-s/GiB') return `${v.toFixed(2)} CPU-s/GiB`;
  return `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} MB/s`;
}

const MAX_REASON = 60;

function clip(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, n - 3)}...`;
}

/** One plain-text table; a row with two comparisons gets a continuation line. */
export function formatTable(report: Report): string {
  const header = ['workload', 'subject', 'median', 'n', 'vs baseline', 'ratio', 'target', 'met'];
  const lines: string[][] = [];
  for (const row of report.ordered()) {
    const v = report.value(row);
    const why = row.unavailable;
    const shown =
      why !== undefined ? clip(why, MAX_REASON) : v === null ? 'no samples' : fmtValue(v, row.unit);
    const comps = report.compare(row);
    const first = comps[0];
    const cells = (c: ComputedComparison | undefined): string[] =>
      c
        ? [c.vsSubject, c.ratio === null ? (c.vs ? 'n/a' : '') : `${c.ratio.toFixed(2)}x`, c.target, c.met]
        : ['', '', '', ''];
    lines.push([row.workload, row.subject, shown, String(row.samples.length), ...cells(first)]);
    for (const c of comps.slice(1)) lines.push(['', '', '', '', ...cells(c)]);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  const fmt = (l: string[]): string =>
    l
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join(' | ')
      .trimEnd();
  const sep = widths.map((w) => '-'.repeat(w)).join('-|-');
  const notes = report
    .ordered()
    .filter((r) => r.note || (r.unavailable && r.unavailable.length > MAX_REASON))
    .map((r) => `  ${r.subject}: ${[r.note, r.unavailable].filter(Boolean).join('; ')}`);
  return [fmt(header), sep, ...lines.map(fmt), ...(notes.length ? ['', 'notes:', ...notes] : [])].join('\n');
}

/** The same table as Markdown, for docs/performance.md. */
export function formatMarkdown(report: Report): string {
  const out = [
    '| workload | subject | median | n | vs baseline | ratio | target | met |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const row of report.ordered()) {
    const v = report.value(row);
    const shown =
      row.unavailable !== undefined ? row.unavailable : v === null ? 'no samples' : fmtValue(v, row.unit);
    const comps = report.compare(row);
    const cell = (c: ComputedComparison | undefined): string =>
      c
        ? `${c.vsSubject} | ${c.ratio === null ? (c.vs ? 'n/a' : '') : `${c.ratio.toFixed(2)}x`} | ${c.target} | ${c.met}`
        : ' | | | ';
    out.push(`| ${row.workload} | ${row.subject} | ${shown} | ${row.samples.length} | ${cell(comps[0])} |`);
    for (const c of comps.slice(1)) out.push(`| | | | | ${cell(c)} |`);
  }
  const notes = report
    .ordered()
    .filter((r) => r.note)
    .map((r) => `- ${r.subject}: ${r.note ?? ''}`);
  return [...out, ...(notes.length ? ['', ...notes] : [])].join('\n');
}
