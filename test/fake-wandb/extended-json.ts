/**
 * W&B's "extended JSON": run summaries and configs hold NaN, Infinity and -Infinity as bare tokens
 * (wandb-core runsummary/metricsummary.go; the SDK reads them with Python's json.loads, which
 * accepts them). JSON.stringify would turn them into null, so the fake writes them itself.
 */
function nonFinite(n: number): string {
  return Number.isNaN(n) ? 'NaN' : n > 0 ? 'Infinity' : '-Infinity';
}

export function stringifyExtended(value: unknown): string {
  if (typeof value === 'number') return Number.isFinite(value) ? JSON.stringify(value) : nonFinite(value);
  if (Array.isArray(value)) return `[${value.map((v) => stringifyExtended(v ?? null)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const parts: string[] = [];
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (v === undefined || typeof v === 'function') continue;
      parts.push(`${JSON.stringify(k)}:${stringifyExtended(v)}`);
    }
    return `{${parts.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
