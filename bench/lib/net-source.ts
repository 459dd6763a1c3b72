/**
 * Chooses where the network baselines read from. With the fake W&B server available (and a big file
 * in its `huge-file` fixture), curl downloads the fake's signed URL and rclone lists an index page
 * whose links redirect to fresh signed URLs: curl, rclone and wandbfs then read the same bytes from
 * the same server under the same shaping. Otherwise a local HTTP server serves the generated files.
 */
import type { NetFile, NetSource } from './context.js';
import type { LocalFile } from './data.js';
import { bigRunFiles, signedUrl } from './fake-files.js';
import { startFileServer } from './file-server.js';
import { onCleanup } from './cleanup.js';
import { GiB } from './timing.js';
import type { Wandbfs } from './wandbfs.js';

export async function localNetSource(small: LocalFile, big: LocalFile | null): Promise<NetSource> {
  const files: Record<string, string> = { [small.name]: small.path };
  if (big) files[big.name] = big.path;
  const server = await startFileServer(files);
  onCleanup('bench HTTP server', () => server.close());
  const nf = (f: LocalFile): NetFile => ({
    name: f.name,
    sizeBytes: f.sizeBytes,
    readBytes: f.sizeBytes,
    fixtureFile: null,
  });
  return {
    describe: 'local bench HTTP server',
    server,
    small: nf(small),
    big: big ? nf(big) : null,
    curlUrl: (f) => Promise.resolve(server.urlFor(f.name)),
    setShaping: (s) => Object.assign(server.shaping, s),
  };
}

/** Returns null (with the reason logged) when the fake cannot serve the bench's files. */
export async function fakeNetSource(
  wandbfs: Wandbfs,
  wantBig: boolean,
  log: (m: string) => void,
): Promise<NetSource | null> {
  try {
    const fake = await wandbfs.fake('huge-file');
    const big = bigRunFiles(fake, GiB);
    const small = big[0];
    if (!small) {
      log('fake W&B: the huge-file fixture has no file >= 1 GiB; network baselines use the local server');
      return null;
    }
    const largest = big[big.length - 1];
    const files: Record<string, () => Promise<string>> = {};
    const smallNf: NetFile = {
      name: 'data-small.bin',
      sizeBytes: small.sizeBytes,
      // a 1-1.5 GiB file is read whole (cat can run); a bigger one only up to its first GiB
      readBytes: small.sizeBytes <= 1.5 * GiB ? small.sizeBytes : GiB,
      fixtureFile: small,
    };
    files[smallNf.name] = () => signedUrl(fake, small);
    let bigNf: NetFile | null = null;
    if (wantBig && largest && largest.sizeBytes >= 5 * GiB) {
      bigNf = {
        name: 'data-big.bin',
        sizeBytes: largest.sizeBytes,
        readBytes: largest.sizeBytes,
        fixtureFile: largest,
      };
      files[bigNf.name] = () => signedUrl(fake, largest);
    }
    const server = await startFileServer(files);
    onCleanup('bench redirect server', () => server.close());
    return {
      describe: 'fake W&B storage (signed URL)',
      server,
      small: smallNf,
      big: bigNf,
      curlUrl: (f) => {
        const ff = f.fixtureFile;
        if (!ff) throw new Error(`${f.name} is not a fake W&B file`);
        return signedUrl(fake, ff);
      },
      setShaping: (s) => Object.assign(fake.faults.storage, s),
    };
  } catch (err) {
    log(
      `fake W&B: cannot use it as the byte source (${String(err)}); network baselines use the local server`,
    );
    return null;
  }
}
