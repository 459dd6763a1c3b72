/** Runs one of the bench's self-measuring scripts (md5-cpu, ranged-download) and reads its report. */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runOk } from './proc.js';

const benchDir = dirname(dirname(fileURLToPath(import.meta.url)));

export interface ChildCpu {
  /** user+system seconds the child counted around its own work (process.cpuUsage) */
  cpuSeconds: number;
  bytes: number;
}

/**
 * `node dist/bench/<script>.js args...` in a fresh process; its last stdout line is the JSON
 * report. A missing or malformed report is an error, never a zero.
 */
export async function runCpuScript(script: string, args: readonly string[]): Promise<ChildCpu> {
  const r = await runOk(process.execPath, [join(benchDir, `${script}.js`), ...args]);
  const last = r.stdout.trim().split('\n').pop() ?? '';
  let doc: unknown;
  try {
    doc = JSON.parse(last);
  } catch {
    throw new Error(`${script}: no JSON report on stdout (${last.slice(0, 80)})`);
  }
  const { cpuSeconds, bytes } = doc as Partial<ChildCpu>;
  if (typeof cpuSeconds !== 'number' || typeof bytes !== 'number') {
    throw new Error(`${script}: report without cpuSeconds/bytes: ${last.slice(0, 80)}`);
  }
  return { cpuSeconds, bytes };
}
