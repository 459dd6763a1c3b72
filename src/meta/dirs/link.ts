import { symlinkNode } from '../nodes.js';
import type { KindTable } from './kind.js';

/** A symlink (an alias to its version, a sweep's run): it lists nothing and resolves nothing itself. */
export const LINK_KINDS: KindTable<'link'> = {
  link: {
    node: (_env, ctx, path) => symlinkNode(path, ctx.target, ctx.mtimeMs, ctx.immutable),
    stalePrefixes: () => [],
  },
};
