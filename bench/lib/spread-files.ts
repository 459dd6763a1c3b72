/**
 * Many different run files of one fake-server project, one per run, so each reader of a burst is its
 * own fill (issue 15's "128 concurrent readers" figure came from such a burst over the `large` fixture).
 */
import { join, sep } from 'node:path';
import type { FixtureFile } from './fake-files.js';
import type { FakeWandb } from './wandbfs.js';

/**
 * `count` files from the project with the most runs: runs spread evenly over the project, and the
 * largest file of each (the `large` fixture's `checkpoints/ckpt.bin`, 50–110 KB; the rest are < 4 KiB).
 * Empty files are never picked: a reader of 0 bytes starts no fill.
 */
export function onePerRun(fake: FakeWandb, count: number): FixtureFile[] {
  const projects = fake.fixture.entities.flatMap((e) => e.projects);
  const proj = projects.reduce<(typeof projects)[number] | undefined>(
    (best, p) => (best && best.runs.length >= p.runs.length ? best : p),
    undefined,
  );
  if (!proj || proj.runs.length < count) throw new Error(`the fixture has no project with ${count} runs`);
  const stride = Math.floor(proj.runs.length / count);
  const out: FixtureFile[] = [];
  for (let i = 0; i < count; i++) {
    const run = proj.runs.at(i * stride);
    if (!run) throw new Error(`run ${i * stride} of ${proj.name} missing`);
    let best: { name: string; sizeBytes: number } | undefined;
    for (let j = 0; j < run.files.length; j++) {
      const f = run.files.at(j);
      if (f && f.sizeBytes > 0 && (!best || f.sizeBytes > best.sizeBytes)) best = f;
    }
    if (!best) throw new Error(`run ${run.name} has no non-empty file`);
    out.push({
      entity: proj.entityName,
      project: proj.name,
      run: run.name,
      file: best.name,
      sizeBytes: best.sizeBytes,
    });
  }
  return out;
}

/**
 * Paths of `files` (all of `first`'s project) in a mount, given where `first` was found: the same
 * layout with the run's path segment and the file name swapped. Only the first file is looked up
 * beforehand, so the other readers resolve their own paths cold, at the same time, as in the burst.
 */
export function samePlace(firstPath: string, first: FixtureFile, files: readonly FixtureFile[]): string[] {
  const suffix = sep + first.file;
  if (!firstPath.endsWith(suffix)) throw new Error(`${firstPath} does not end with ${first.file}`);
  const segs = firstPath.slice(0, -suffix.length).split(sep);
  const k = segs.lastIndexOf(first.run);
  if (k < 0) throw new Error(`${firstPath} has no segment for run ${first.run}`);
  return files.map((f) => {
    if (f.entity !== first.entity || f.project !== first.project)
      throw new Error(`${f.run}/${f.file} is not in ${first.entity}/${first.project}`);
    const s = [...segs];
    s[k] = f.run;
    return join(s.join(sep), f.file);
  });
}
