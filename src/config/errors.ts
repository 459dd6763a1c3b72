import { WandbfsError } from '../core/errors.js';

/** No API key could be found in the environment or netrc. */
export class MissingApiKeyError extends WandbfsError {
  constructor(machine: string) {
    super('ERR_NO_API_KEY', `no W&B API key found for ${machine}`, {
      hint: `set WANDB_API_KEY, or run \`wandb login\` (writes ~/.netrc machine ${machine})`,
    });
  }
}
