/**
 * Listing keys: one per directory source, hierarchical so a subtree is a key prefix (`refresh`
 * marks `key` and `key/...` stale). Components are URI-encoded so no name can forge a level.
 */
const c = encodeURIComponent;

export const rootKey = 'root';
export const projectsKey = (entity: string) => `e/${c(entity)}`;
export const projectKey = (entity: string, project: string) => `e/${c(entity)}/p/${c(project)}`;
export const runsKey = (entity: string, project: string) => `${projectKey(entity, project)}/runs`;
/** a run's metadata and file list (TTL by run state) */
export const runKey = (entity: string, project: string, run: string) =>
  `${projectKey(entity, project)}/run/${c(run)}`;
export const runArtifactsKey = (
  entity: string,
  project: string,
  run: string,
  direction: 'input' | 'output',
) => `${runKey(entity, project, run)}/art/${direction}`;
export const collectionsKey = (entity: string, project: string) =>
  `${projectKey(entity, project)}/collections`;
export const versionsKey = (entity: string, project: string, typeName: string, collection: string) =>
  `${projectKey(entity, project)}/versions/${c(typeName)}/${c(collection)}`;
export const sweepsKey = (entity: string, project: string) => `${projectKey(entity, project)}/sweeps`;
export const sweepRunsKey = (entity: string, project: string, sweep: string) =>
  `${projectKey(entity, project)}/sweep/${c(sweep)}`;
/** manifests belong to an artifact, not to a place in the tree */
export const manifestKey = (artifactId: string) => `manifest/${c(artifactId)}`;
