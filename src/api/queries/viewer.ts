import { operation } from './operation.js';

export const VIEWER = operation(
  'Viewer',
  `query Viewer {
  viewer {
    id
    username
    entity
    teams { edges { node { name } } }
  }
}`,
);
