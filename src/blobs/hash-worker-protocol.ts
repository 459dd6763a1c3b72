import type { DigestAlgo } from '../core/digest.js';

export interface HashWorkerData {
  path: string;
  algo: DigestAlgo;
}

export type HashWorkerRequest = { type: 'extend'; upTo: number } | { type: 'finish' };

export type HashWorkerReply =
  | { type: 'progress'; pos: number }
  | { type: 'digest'; hex: string; pos: number }
  | { type: 'error'; message: string };
