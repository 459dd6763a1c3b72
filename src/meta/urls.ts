/**
 * W&B web-page URLs for user.wandb.url xattrs. Built from names only: never a signed URL.
 */

/** api.wandb.ai (and api.<host>) serves the app at the bare host; other servers on the same origin. */
export function appUrlFromBaseUrl(baseUrl: string): string {
  const u = new URL(baseUrl);
  if (u.hostname === 'api.wandb.ai') u.hostname = 'wandb.ai';
  return u.origin;
}

/** URI-encodes one path segment; '.' and '..' too, so a URL never walks up. */
const e = (segment: string) =>
  segment === '.' || segment === '..' ? segment.replaceAll('.', '%2E') : encodeURIComponent(segment);
const pathOf = (path: string) => path.split('/').map(e).join('/');

export class AppUrls {
  constructor(private readonly app: string) {}
  entity(entity: string): string {
    return `${this.app}/${e(entity)}`;
  }
  project(entity: string, project: string): string {
    return `${this.app}/${e(entity)}/${e(project)}`;
  }
  run(entity: string, project: string, run: string): string {
    return `${this.project(entity, project)}/runs/${e(run)}`;
  }
  runFile(entity: string, project: string, run: string, name: string): string {
    return `${this.run(entity, project, run)}/files/${pathOf(name)}`;
  }
  collection(entity: string, project: string, typeName: string, collection: string): string {
    return `${this.project(entity, project)}/artifacts/${e(typeName)}/${e(collection)}`;
  }
  version(entity: string, project: string, typeName: string, collection: string, index: number): string {
    return `${this.collection(entity, project, typeName, collection)}/v${index}`;
  }
  versionFile(
    entity: string,
    project: string,
    typeName: string,
    collection: string,
    index: number,
    path: string,
  ): string {
    return `${this.version(entity, project, typeName, collection, index)}/files/${pathOf(path)}`;
  }
  sweep(entity: string, project: string, sweep: string): string {
    return `${this.project(entity, project)}/sweeps/${e(sweep)}`;
  }
}
