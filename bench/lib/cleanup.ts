/**
 * One process-wide stack of cleanup actions (unmount, kill, remove temp dirs). Run in `finally` and on
 * SIGINT/SIGTERM, so a Ctrl+C in the middle of a benchmark leaves no mount, process or 1 GiB file behind.
 */
type Cleanup = () => Promise<void> | void;

const stack: { label: string; fn: Cleanup }[] = [];
let installed = false;
let running: Promise<void> | null = null;

/** Registers `fn`; the returned function runs it early (once) and removes it from the stack. */
export function onCleanup(label: string, fn: Cleanup): () => Promise<void> {
  const entry = { label, fn };
  stack.push(entry);
  installSignalHandlers();
  return async () => {
    const i = stack.indexOf(entry);
    if (i < 0) return;
    stack.splice(i, 1);
    await runOne(entry);
  };
}

async function runOne(entry: { label: string; fn: Cleanup }): Promise<void> {
  try {
    await entry.fn();
  } catch (err) {
    process.stderr.write(`bench: cleanup "${entry.label}" failed: ${String(err)}\n`);
  }
}

/** Runs every registered cleanup, newest first. Safe to call more than once. */
export function runAllCleanups(): Promise<void> {
  if (running) return running;
  running = (async () => {
    while (stack.length > 0) {
      const entry = stack.pop();
      if (entry) await runOne(entry);
    }
  })().finally(() => {
    running = null;
  });
  return running;
}

function installSignalHandlers(): void {
  if (installed) return;
  installed = true;
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      process.stderr.write(`\nbench: ${sig}, cleaning up (mounts, processes, temp files)...\n`);
      void runAllCleanups().finally(() => process.exit(130));
    });
  }
}
