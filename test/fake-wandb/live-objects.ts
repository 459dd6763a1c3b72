/**
 * Stored objects that change after they were listed, as the files of a running run do on the real
 * service: the SDK re-uploads output.log as it grows and a checkpoint saved again under the same
 * name replaces the object behind the same storage path. A signed URL names that path, not the
 * bytes, so a URL handed out before the change serves the NEW bytes, while a client's listing keeps
 * the old size and MD5 until it lists the run's files again.
 *
 * Here a URL names a blob id, so the change is an overlay: the old id (and anything it was replaced
 * by before) resolves to the new content, for signed URLs and the fallback URLs alike.
 */
import type { BlobContent } from './content.js';
import type { FixtureBase } from './fixture-base.js';
import type { RunFileFx } from './fixture-types.js';

export class LiveObjects {
  /** blob id whose object was replaced → the id of what storage serves for it now */
  private readonly replaced = new Map<string, string>();

  constructor(private readonly fixture: FixtureBase) {}

  /** What storage serves for `blobId` now. */
  contentOf(blobId: string): BlobContent | undefined {
    let id = blobId;
    for (let hops = 0; this.replaced.has(id) && hops < 1000; hops++) id = this.replaced.get(id) as string;
    return this.fixture.contentOf(id);
  }

  /**
   * Replaces a run file's bytes: its URLs, also those already handed out, serve `bytes` at once, and
   * the run's file listing shows the new size and MD5 the next time a client asks for it.
   */
  replaceRunFile(entity: string, project: string, run: string, name: string, bytes: Buffer): RunFileFx {
    const { before, after } = this.fixture.replaceRunFileContent(entity, project, run, name, { bytes });
    if (after.blobId !== before.blobId) this.replaced.set(before.blobId, after.blobId);
    return after;
  }

  /** Appends to a run file (a growing output.log); see replaceRunFile. */
  appendToRunFile(entity: string, project: string, run: string, name: string, bytes: Buffer): RunFileFx {
    const file = this.fixture.run(entity, project, run)?.files.get(name);
    const content = file === undefined ? undefined : this.contentOf(file.blobId);
    if (content === undefined) throw new Error(`no run file ${entity}/${project}/${run}/${name}`);
    const now = content.read(0, content.sizeBytes);
    return this.replaceRunFile(entity, project, run, name, Buffer.concat([now, bytes]));
  }

  /**
   * The object behind every URL of `blobId` now holds `bytes`, while every listing (run files,
   * manifests) keeps the old size and digest: an object overwritten in the bucket behind W&B's back.
   */
  replaceObject(blobId: string, bytes: Buffer): void {
    this.replaced.set(blobId, this.fixture.blobs.addLiteral(bytes, 'application/octet-stream'));
  }
}
