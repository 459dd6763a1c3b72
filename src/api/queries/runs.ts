import { SOURCE_SEQUENCE, VERSION_FIELDS } from './artifacts.js';
import { RUN_FILE_FIELDS } from './files.js';
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

/**
 * A page of runs, oldest first, each with the first page of its files and of its input/output
 * artifacts (the fields RUN_FILES / RUN_*_ARTIFACTS ask for); a run whose inline page is complete
 * needs no request of its own. The order matters: W&B's cursors are offsets, and in its default
 * order (newest first) a run created while we page shifts every later page, so the new run is never
 * seen (SDK issues #6614, #7666). Oldest first, new runs land on the last page. Page sizes keep the
 * worst case under the server's node cap (api/runs.ts fitRunsPage).
 */
export const PROJECT_RUNS = operation(
  'ProjectRuns',
  `query ProjectRuns(
  $entity: String!
  $project: String!
  $first: Int!
  $after: String
  $files: Int!
  $artifacts: Int!
) {
  project(name: $project, entityName: $entity) {
    runs(first: $first, after: $after, order: "+created_at") {
      ${PAGE_INFO}
      edges {
        node {
          ...RunFields
          files(first: $files) {
            ${PAGE_INFO}
            edges { node { ${RUN_FILE_FIELDS} } }
          }
          inputArtifacts(first: $artifacts) {
            ${PAGE_INFO}
            edges { usedAs node { ...VersionFields ${SOURCE_SEQUENCE} } }
          }
          outputArtifacts(first: $artifacts) {
            ${PAGE_INFO}
            edges { node { ...VersionFields ${SOURCE_SEQUENCE} } }
          }
        }
      }
    }
  }
}
${RUN_FIELDS}
${VERSION_FIELDS}`,
);
