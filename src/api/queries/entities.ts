import { operation, PAGE_INFO } from './operation.js';

export const ENTITY = operation(
  'Entity',
  `query Entity($entity: String!) {
  entity(name: $entity) { id name isTeam createdAt }
}`,
);

const PROJECT_FIELDS = 'id name entityName description createdAt updatedAt';

export const PROJECT = operation(
  'Project',
  `query Project($entity: String!, $project: String!) {
  project(name: $project, entityName: $entity) { ${PROJECT_FIELDS} }
}`,
);

export const ENTITY_PROJECTS = operation(
  'EntityProjects',
  `query EntityProjects($entity: String!, $first: Int!, $after: String) {
  entity(name: $entity) {
    projects(first: $first, after: $after) {
      ${PAGE_INFO}
      edges { node { ${PROJECT_FIELDS} } }
    }
  }
}`,
);
