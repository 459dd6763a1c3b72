import { WandbfsError } from '../core/errors.js';

/**
 * A directory was never listed and W&B cannot be reached (or failed) right now: there is nothing
 * stored to answer from. Maps to EIO, never to ENOENT or an empty directory.
 */
export class OfflineMissError extends WandbfsError {
  constructor(what: string, cause?: unknown) {
    super('ERR_META_OFFLINE', `${what} has not been listed yet and W&B is unavailable`, {
      hint: 'the directory is listed once W&B is reachable again; check the network or `wandbfs doctor`',
      ...(cause === undefined ? {} : { cause }),
    });
  }
}
