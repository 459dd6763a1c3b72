/**
 * V8 flags every mount daemon runs with: the foreground daemon gets them from main.js's `#!` line
 * (`env -S`), the background one from the spawn in mount.ts; a test keeps the two equal.
 *
 * - A 1 MiB semi-space (V8's default grows to 16 MiB): the daemon's garbage is short-lived per FUSE
 *   request and per socket read, and a small young generation keeps ~20 MiB off the peak RSS (issue
 *   15's <= 150 MiB while reading a 5 GiB file: 138-146 MiB with it, 157-166 without).
 * - A 32 MiB initial old space. With the small young generation, objects that live across a few
 *   socket reads are promoted, and V8's old-space limit starts so close to the daemon's ~11 MiB live
 *   heap that it ran a mark-compact every ~40 ms of a cold read (33-79 per GiB, with concurrent
 *   marking on the other core). Measured alternating on the same cold reads: 4.3-5.0 CPU-s per GiB
 *   with it against 5.1-6.9 without (5 GiB: 25.6-26.8 CPU-s against 35.0-35.7), 237-280 MB/s
 *   against 200-251, peak RSS unchanged (134-150 MiB both); 16 MiB was in between, 48 and 64 no
 *   better than 32.
 */
export const DAEMON_NODE_FLAGS: readonly string[] = [
  '--max-semi-space-size=1',
  '--initial-old-space-size=32',
];
