import { operation } from './operation.js';

const VIEWER_FIELDS = `id
    username
    entity
    teams { edges { node { name } } }`;

/**
 * The viewer, its teams, and its organizations' own entities: W&B Registry projects live in an
 * org's entity, which is not among the teams (wandb-api.md §12b).
 */
export const VIEWER = operation(
  'Viewer',
  `query Viewer {
  viewer {
    ${VIEWER_FIELDS}
    organizations { name orgEntity { name } }
  }
}`,
);

/** The viewer without organizations, for servers older than `User.organizations`. */
export const VIEWER_WITHOUT_ORGS = operation(
  'ViewerWithoutOrgs',
  `query ViewerWithoutOrgs {
  viewer {
    ${VIEWER_FIELDS}
  }
}`,
);
