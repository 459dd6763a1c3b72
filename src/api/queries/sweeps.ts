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

export const SWEEP_RUNS = operation(
  'SweepRuns',
  `query SweepRuns($entity: String!, $project: String!, $sweep: String!, $first: Int!, $after: String) {
  project(name: $project, entityName: $entity) {
    sweep(sweepName: $sweep) {
      runs(first: $first, after: $after) {
        ${PAGE_INFO}
        edges { node { name } }
      }
    }
  }
}`,
);
