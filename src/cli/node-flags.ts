/**
 * V8 flags every mount daemon runs with: the foreground daemon gets them from main.js's `#!` line
 * (`env -S`), the background one from the spawn in mount.ts; a test keeps the two equal.
 *
 * A 1 MiB semi-space (V8's default grows to 16 MiB): the daemon's garbage is short-lived per FUSE
 * request and per socket read, so a small young generation costs no measurable CPU on a cold read
 * and keeps ~20 MiB off the peak RSS (issue 15's <= 150 MiB while reading a 5 GiB file: 138-146
 * MiB with it, 157-166 without, measured alternating on the same cold 1 GiB read).
 */
export const DAEMON_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1'];
