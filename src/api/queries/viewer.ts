import { operation } from './operation.js';

/**
 * The viewer, its teams, and its organizations' own entities: W&B Registry projects live in an
 * org's entity, which is not among the teams (wandb-api.md §12b).
 */
export const VIEWER = operation(
  'Viewer',
  `query Viewer {
  viewer {
    id
    username
    entity
    teams { edges { node { name } } }
    organizations { name orgEntity { name } }
  }
}`,
);
