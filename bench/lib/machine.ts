/** What the numbers were measured on: printed at the top of every run and stored in the JSON. */
import { readFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { run } from './proc.js';

export interface Machine {
  nproc: number;
  cpuModel: string;
  memoryGiB: number;
  kernel: string;
  node: string;
  disk: string;
  tmpdir: string;
  loadAverage: string;
  fuseNative: string;
  rclone: string;
  curl: string;
  fio: string;
}

async function firstLine(cmd: string, args: string[]): Promise<string> {
  try {
    const r = await run(cmd, args);
    return (r.stdout || r.stderr).split('\n')[0]?.trim() || 'unknown';
  } catch {
    return 'not installed';
  }
}

async function readText(path: string): Promise<string> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch {
    return 'unknown';
  }
}

export async function describeMachine(tmpdir: string): Promise<Machine> {
  const nproc = await firstLine('nproc', []);
  const df = await run('df', ['-hT', tmpdir]).catch(() => null);
  const dfLine = df?.stdout.split('\n')[1]?.trim().split(/\s+/) ?? [];
  const fnPkg = await readText(
    new URL('../../../node_modules/fuse-native/package.json', import.meta.url).pathname,
  );
  let fuseNative = 'unknown';
  try {
    fuseNative = (JSON.parse(fnPkg) as { version?: string }).version ?? 'unknown';
  } catch {
    // keep unknown
  }
  return {
    nproc: Number(nproc) || cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: (await readText('/proc/sys/kernel/osrelease')) || 'unknown',
    node: process.version,
    disk: dfLine.length >= 3 ? `${dfLine[0]} ${dfLine[1]} ${dfLine[2]} (${tmpdir})` : 'unknown',
    tmpdir,
    loadAverage: (await readText('/proc/loadavg')).split(' ').slice(0, 3).join(' '),
    fuseNative,
    rclone: await firstLine('rclone', ['version']),
    curl: await firstLine('curl', ['--version']),
    fio: await firstLine('fio', ['--version']),
  };
}

export function formatMachine(m: Machine): string {
  return [
    `machine: ${m.nproc} CPUs (${m.cpuModel}), ${m.memoryGiB} GiB RAM, kernel ${m.kernel}, node ${m.node}`,
    `disk:    ${m.disk}`,
    `tools:   fuse-native ${m.fuseNative}; ${m.rclone}; ${m.curl.split(' ').slice(0, 2).join(' ')}; ${m.fio}`,
    `load:    ${m.loadAverage} (1/5/15 min) at start — the machine is shared; read ratios, not absolutes`,
  ].join('\n');
}
