/** Dropping the kernel page cache for "cold" rows; needs root, and the report says when it was not possible. */
import { writeFile } from 'node:fs/promises';
import { run } from './proc.js';

let warned = false;

export interface DropResult {
  ok: boolean;
  reason?: string;
}

export async function dropCaches(): Promise<DropResult> {
  try {
    await run('sync', []);
    await writeFile('/proc/sys/vm/drop_caches', '3\n');
    return { ok: true };
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    if (!warned) {
      warned = true;
      process.stderr.write(`bench: cannot drop the page cache (${reason}); "cold" local rows are warm\n`);
    }
    return { ok: false, reason };
  }
}
