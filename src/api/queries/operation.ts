/**
 * A named GraphQL operation. Documents are plain strings (parsed by urql at request time and by the
 * schema tests); the name is also the operationName the fake server counts by.
 */
export interface GqlOperation {
  readonly name: string;
  readonly document: string;
}

export function operation(name: string, document: string): GqlOperation {
  return { name, document };
}

/** Shared selection for every relay connection we page through. */
export const PAGE_INFO = 'pageInfo { hasNextPage endCursor }';
