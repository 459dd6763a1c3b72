import { operation, PAGE_INFO } from './operation.js';

/** What a run file listing needs of each file (also asked inline on the runs page). */
export const RUN_FILE_FIELDS = 'name sizeBytes md5 updatedAt';

export const RUN_FILES = operation(
  'RunFiles',
  `query RunFiles($entity: String!, $project: String!, $run: String!, $first: Int!, $after: String) {
  project(name: $project, entityName: $entity) {
    run(name: $run) {
      files(first: $first, after: $after) {
        ${PAGE_INFO}
        edges { node { ${RUN_FILE_FIELDS} } }
      }
    }
  }
}`,
);

/** A fresh signed URL (and File.url, the authenticated fallback) for one run file. */
export const RUN_FILE_URL = operation(
  'RunFileUrl',
  `query RunFileUrl($entity: String!, $project: String!, $run: String!, $names: [String!]!) {
  project(name: $project, entityName: $entity) {
    run(name: $run) {
      files(names: $names, first: 1) { edges { node { name directUrl url } } }
    }
  }
}`,
);

/** A fresh signed URL for one file of an artifact version, by manifest path. */
export const ARTIFACT_FILE_URL = operation(
  'ArtifactFileUrl',
  `query ArtifactFileUrl($id: ID!, $names: [String!]!) {
  artifact(id: $id) {
    files(names: $names, first: 1) { edges { node { name directUrl url } } }
  }
}`,
);
