import { operation, PAGE_INFO } from './operation.js';

/** What a run file listing needs of each file (also asked inline on the runs page). */
export const RUN_FILE_FIELDS = 'name sizeBytes md5 updatedAt';

/** The run-files listing also carries each file's signed URL and File.url: reads need no more queries. */
export const RUN_FILES = operation(
  'RunFiles',
  `query RunFiles($entity: String!, $project: String!, $run: String!, $first: Int!, $after: String) {
  project(name: $project, entityName: $entity) {
    run(name: $run) {
      files(first: $first, after: $after) {
        ${PAGE_INFO}
        edges { node { ${RUN_FILE_FIELDS} directUrl url } }
      }
    }
  }
}`,
);

/** Every file URL of one run, page by page (when its listing came without URLs, e.g. inline). */
export const RUN_FILE_URLS = operation(
  'RunFileUrls',
  `query RunFileUrls($entity: String!, $project: String!, $run: String!, $first: Int!, $after: String) {
  project(name: $project, entityName: $entity) {
    run(name: $run) {
      files(first: $first, after: $after) { ${PAGE_INFO} edges { node { name directUrl url } } }
    }
  }
}`,
);

/**
 * Every file URL of one artifact version, through the membership of the collection being browsed
 * (as the SDK asks since 2025-03, so registry access is resolved by the collection), 5000 a page.
 */
export const MEMBERSHIP_FILE_URLS = operation(
  'MembershipFileUrls',
  `query MembershipFileUrls($entity: String!, $project: String!, $collection: String!, $alias: String!, $first: Int!, $after: String) {
  project(name: $project, entityName: $entity) {
    artifactCollection(name: $collection) {
      artifactMembership(aliasName: $alias) {
        files(first: $first, after: $after) { ${PAGE_INFO} edges { node { name directUrl url } } }
      }
    }
  }
}`,
);

/** Every file URL of one artifact version by id, when no collection scope is known. */
export const ARTIFACT_FILE_URLS = operation(
  'ArtifactFileUrls',
  `query ArtifactFileUrls($id: ID!, $first: Int!, $after: String) {
  artifact(id: $id) {
    files(first: $first, after: $after) { ${PAGE_INFO} edges { node { name directUrl url } } }
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
