import { operation, PAGE_INFO } from './operation.js';

const RUN_FIELDS = `fragment RunFields on Run {
  id
  name
  displayName
  state
  config
  summaryMetrics
  tags
  group
  jobType
  sweepName
  user { username }
  createdAt
  heartbeatAt
  updatedAt
}`;

export const RUN = operation(
  'Run',
  `query Run($entity: String!, $project: String!, $run: String!) {
  project(name: $project, entityName: $entity) {
    run(name: $run) { ...RunFields }
  }
}
${RUN_FIELDS}`,
);

export const PROJECT_RUNS = operation(
  'ProjectRuns',
  `query ProjectRuns($entity: String!, $project: String!, $first: Int!, $after: String) {
  project(name: $project, entityName: $entity) {
    runs(first: $first, after: $after) {
      ${PAGE_INFO}
      edges { node { ...RunFields } }
    }
  }
}
${RUN_FIELDS}`,
);
