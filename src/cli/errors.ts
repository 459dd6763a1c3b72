import { WandbfsError } from '../core/errors.js';

/** Typed errors of the CLI commands; print.ts shows the message and `hint`. */

/** The path given to a command is not (or no longer) served by a running wandbfs. */
export class NotMountedError extends WandbfsError {
  constructor(message: string) {
    super('ERR_NOT_MOUNTED', message, { hint: 'see `wandbfs status`' });
  }
}

/** `wandbfs unmount` could not take the mount down. */
export class UnmountError extends WandbfsError {
  constructor(message: string, hint: string) {
    super('ERR_UNMOUNT', message, { hint });
  }
}

/** The mount daemon answered a refresh request with a failure. */
export class RefreshError extends WandbfsError {
  constructor(message: string) {
    super('ERR_REFRESH', message);
  }
}

/** The detached mount daemon exited, or did not mount in time. */
export class DaemonStartError extends WandbfsError {
  constructor(message: string, hint: string) {
    super('ERR_DAEMON_START', message, { hint });
  }
}
