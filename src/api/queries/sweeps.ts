import { operation, PAGE_INFO } from './operation.js';

export const PROJECT_SWEEPS = operation(
  'ProjectSweeps',
  `query ProjectSweeps($entity: String!, $project: String!, $first: Int!, $after: String) {
  project(name: $project, entityName: $entity) {
    sweeps(first: $first, after: $after) {
      ${PAGE_INFO}
      edges { node { id name displayName state method config runCount bestLoss createdAt updatedAt } }
    }
  }
}`,
);

/**
 * Runs of a sweep the way the SDK reads them: the project's runs filtered by sweep, oldest first.
 * Sweep.runs timed out on large sweeps and the SDK stopped using it (wandb/wandb#1894).
 */
export const SWEEP_RUNS = operation(
  'SweepRuns',
  `query SweepRuns($entity: String!, $project: String!, $filters: JSONString!, $first: Int!, $after: String) {
  project(name: $project, entityName: $entity) {
    runs(first: $first, after: $after, filters: $filters, order: "+created_at") {
      ${PAGE_INFO}
      edges { node { name } }
    }
  }
}`,
);
