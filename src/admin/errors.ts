import { WandbfsError } from '../core/errors.js';

/** The CLI could not talk to a mount daemon's control socket (not running, or it answered garbage). */
export class ControlError extends WandbfsError {
  constructor(message: string, hint?: string) {
    super('ERR_CONTROL', message, hint === undefined ? {} : { hint });
  }
}

/** The mount daemon accepted the request but did not answer in time. */
export class ControlTimeoutError extends WandbfsError {
  constructor(timeoutMs: number) {
    super('ERR_CONTROL_TIMEOUT', `no answer from the mount daemon within ${timeoutMs} ms`);
  }
}
