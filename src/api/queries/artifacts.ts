import { operation, PAGE_INFO } from './operation.js';

export const ARTIFACT_TYPES = operation(
  'ArtifactTypes',
  `query ArtifactTypes($entity: String!, $project: String!, $first: Int!, $after: String) {
  project(name: $project, entityName: $entity) {
    artifactTypes(first: $first, after: $after) {
      ${PAGE_INFO}
      edges { node { id name } }
    }
  }
}`,
);

export const ARTIFACT_COLLECTIONS = operation(
  'ArtifactCollections',
  `query ArtifactCollections($entity: String!, $project: String!, $type: String!, $first: Int!, $after: String) {
  project(name: $project, entityName: $entity) {
    artifactType(name: $type) {
      artifactCollections(first: $first, after: $after) {
        ${PAGE_INFO}
        edges { node { __typename id name description createdAt updatedAt } }
      }
    }
  }
}`,
);

/**
 * Aliases come from every collection the artifact is in, each naming its collection; the mapper keeps
 * the ones of the collection the version was reached through (as the SDK does).
 */
export const VERSION_FIELDS = `fragment VersionFields on Artifact {
  id
  digest
  versionIndex
  state
  size
  fileCount
  description
  metadata
  createdAt
  updatedAt
  artifactType { name }
  aliases { alias artifactCollection { name project { name entityName } } }
}`;

/** The sequence an artifact was logged to: a portfolio's (registry's) versions name their source. */
export const SOURCE_SEQUENCE = 'artifactSequence { name project { name entityName } }';

export const COLLECTION_VERSIONS = operation(
  'CollectionVersions',
  `query CollectionVersions(
  $entity: String!
  $project: String!
  $type: String!
  $collection: String!
  $filters: JSONString!
  $first: Int!
  $after: String
) {
  project(name: $project, entityName: $entity) {
    artifactType(name: $type) {
      artifactCollection(name: $collection) {
        artifacts(first: $first, after: $after, filters: $filters) {
          ${PAGE_INFO}
          edges { version node { ...VersionFields ${SOURCE_SEQUENCE} } }
        }
      }
    }
  }
}
${VERSION_FIELDS}`,
);

export const RUN_INPUT_ARTIFACTS = operation(
  'RunInputArtifacts',
  `query RunInputArtifacts($entity: String!, $project: String!, $run: String!, $first: Int!, $after: String) {
  project(name: $project, entityName: $entity) {
    run(name: $run) {
      inputArtifacts(first: $first, after: $after) {
        ${PAGE_INFO}
        edges { usedAs node { ...VersionFields ${SOURCE_SEQUENCE} } }
      }
    }
  }
}
${VERSION_FIELDS}`,
);

export const RUN_OUTPUT_ARTIFACTS = operation(
  'RunOutputArtifacts',
  `query RunOutputArtifacts($entity: String!, $project: String!, $run: String!, $first: Int!, $after: String) {
  project(name: $project, entityName: $entity) {
    run(name: $run) {
      outputArtifacts(first: $first, after: $after) {
        ${PAGE_INFO}
        edges { node { ...VersionFields ${SOURCE_SEQUENCE} } }
      }
    }
  }
}
${VERSION_FIELDS}`,
);

export const ARTIFACT_MANIFEST = operation(
  'ArtifactManifest',
  `query ArtifactManifest($id: ID!) {
  artifact(id: $id) {
    currentManifest { file { directUrl url } }
  }
}`,
);
