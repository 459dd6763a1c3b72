import {
  closeSync,
  existsSync,
  fstatSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import type { LogSink } from './log.js';

export const LOG_ROTATION_DEFAULTS = { maxBytes: 10 * 1024 * 1024, files: 5 } as const;

export interface Rotation {
  /** one file grows to at most this many bytes before it is rotated */
  maxBytes: number;
  /** files kept in total, the live one included: <path>, <path>.1 … <path>.<files-1> */
  files: number;
}

export interface RotatingSink extends LogSink {
  close(): void;
}

/**
 * A log file that never outgrows `files × maxBytes`: when the next line would push it past
 * `maxBytes`, <path>.N-1 … <path>.1 move up one (the oldest is dropped) and <path> starts empty.
 * Writes are synchronous like process.stderr's to a file: a line logged just before a crash is on
 * disk. The log lives in the cache dir, never inside a mount, so a sync write cannot deadlock.
 */
export function rotatingFileSink(path: string, r: Rotation): RotatingSink {
  const maxBytes = Math.max(1024, Math.floor(r.maxBytes));
  const files = Math.max(1, Math.floor(r.files));
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  let fd = openSync(path, 'a', 0o600);
  let size = fstatSync(fd).size;
  let broken = false;

  const rotate = (): void => {
    closeSync(fd);
    if (files === 1) {
      fd = openSync(path, 'w', 0o600);
    } else {
      rmSync(`${path}.${files - 1}`, { force: true });
      for (let i = files - 2; i >= 1; i--) {
        if (existsSync(`${path}.${i}`)) renameSync(`${path}.${i}`, `${path}.${i + 1}`);
      }
      renameSync(path, `${path}.1`);
      fd = openSync(path, 'a', 0o600);
    }
    size = 0;
  };

  return {
    write(line: string): void {
      if (broken) {
        process.stderr.write(line);
        return;
      }
      try {
        let buf = Buffer.from(line);
        if (buf.length > maxBytes) buf = Buffer.concat([buf.subarray(0, maxBytes - 2), Buffer.from('…\n')]);
        if (size > 0 && size + buf.length > maxBytes) rotate();
        writeSync(fd, buf);
        size += buf.length;
      } catch (err) {
        // A full or vanished log dir must not take the mount down: fall back to stderr.
        broken = true;
        process.stderr.write(`wandbfs: log file ${path} unusable (${String(err)}); logging to stderr\n`);
        process.stderr.write(line);
      }
    },
    close(): void {
      try {
        closeSync(fd);
      } catch {
        // already closed
      }
    },
  };
}

/** Where a daemon's stdout/stderr go: only crashes and native code write there (size-capped). */
export function stderrFileFor(logFile: string): string {
  return logFile.replace(/\.log$/, '') + '.stderr.log';
}

/**
 * A daemon's stdout/stderr point at a file only crashes and native code write to (the logger has
 * its own rotating file). It cannot be renamed under the fd, so it is emptied when it outgrows
 * `maxBytes`; the fd is O_APPEND, so later writes start again at the front.
 */
export function capStderrFile(maxBytes: number, everyMs = 30_000): () => void {
  const check = (): void => {
    try {
      const st = fstatSync(2);
      if (st.isFile() && st.size > maxBytes) {
        ftruncateSync(2, 0);
        process.stderr.write(
          `wandbfs: ${new Date().toISOString()} stderr exceeded ${maxBytes} bytes; emptied\n`,
        );
      }
    } catch {
      // not a file (terminal, pipe) or gone: nothing to cap
    }
  };
  check();
  const timer = setInterval(check, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
