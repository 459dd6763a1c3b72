/**
 * Running external tools. Always argv arrays through spawn (never a shell string), so temp paths and
 * URLs are never interpreted by a shell.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { elapsedSec, startTimer } from './timing.js';

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** wall time from spawn to exit */
  seconds: number;
}

export interface RunOptions {
  /** discard stdout (sent to /dev/null by the OS, so big outputs cost nothing) */
  discardStdout?: boolean;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  timeoutMs?: number;
}

export class ToolError extends Error {
  constructor(
    message: string,
    readonly result: RunResult,
  ) {
    super(message);
    this.name = 'ToolError';
  }
}

/** Runs `cmd args...` to completion; resolves even on a non-zero exit (check `code`). */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const t = startTimer();
    const spawnOpts: SpawnOptions = {
      stdio: ['ignore', opts.discardStdout ? 'ignore' : 'pipe', 'pipe'],
      env: opts.env ?? process.env,
    };
    if (opts.cwd) spawnOpts.cwd = opts.cwd;
    const child = spawn(cmd, [...args], spawnOpts);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.stderr?.on('data', (b: Buffer) => {
      // keep only the tail: a chatty tool must not grow memory without bound
      err.push(b);
      if (err.length > 64) err.shift();
    });
    let timer: NodeJS.Timeout | undefined;
    if (opts.timeoutMs) timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        seconds: elapsedSec(t),
      });
    });
  });
}

/** Like `run`, but rejects with a ToolError (naming the tool and its stderr tail) on failure. */
export async function runOk(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) {
    const why = r.signal ? `signal ${r.signal}` : `exit ${String(r.code)}`;
    throw new ToolError(`${cmd} failed (${why}): ${r.stderr.trim().slice(-400)}`, r);
  }
  return r;
}

/** True when `cmd` can be executed (looked up on PATH). */
export async function hasTool(cmd: string): Promise<boolean> {
  try {
    const r = await run('sh', ['-c', 'command -v "$1"', 'sh', cmd]);
    return r.code === 0;
  } catch {
    return false;
  }
}

export interface Daemon {
  child: ChildProcess;
  /** stdout+stderr so far (tail), for error messages */
  output(): string;
  exited(): boolean;
  /** resolves when the process has exited */
  wait(): Promise<void>;
}

/** Starts a long-running process (mount daemons, servers); output is kept as a short tail. */
export function startDaemon(cmd: string, args: readonly string[], env?: NodeJS.ProcessEnv): Daemon {
  const child = spawn(cmd, [...args], { stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env });
  let tail = '';
  let done = false;
  const onData = (b: Buffer): void => {
    tail = (tail + b.toString('utf8')).slice(-4000);
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exitP = new Promise<void>((resolve) => {
    child.on('close', () => {
      done = true;
      resolve();
    });
    child.on('error', (e) => {
      tail += `\nspawn error: ${e.message}`;
      done = true;
      resolve();
    });
  });
  return { child, output: () => tail, exited: () => done, wait: () => exitP };
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function stopDaemon(d: Daemon, graceMs = 5000): Promise<void> {
  if (d.exited()) return;
  d.child.kill('SIGTERM');
  const killer = setTimeout(() => d.child.kill('SIGKILL'), graceMs);
  await d.wait();
  clearTimeout(killer);
}
