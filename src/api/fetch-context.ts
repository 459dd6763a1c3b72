import type { Logger } from '../core/log.js';
import type { GraphqlTransport } from './transport.js';

/** What every fetcher needs: the transport (limits, retries inside), the page size, a logger. */
export interface FetchContext {
  transport: GraphqlTransport;
  pageSize: number;
  logger: Logger;
}
