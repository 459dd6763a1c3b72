import type { DigestAlgo } from '../core/digest.js';

/** Main thread → pooled hash worker; every message names its job. */
export type HashWorkerRequest =
  | { type: 'open'; id: number; path: string; algo: DigestAlgo }
  /** bytes [0, upTo) of the job's file are on disk */
  | { type: 'extend'; id: number; upTo: number }
  | { type: 'finish'; id: number }
  | { type: 'drop'; id: number };

export type HashWorkerReply =
  | { type: 'progress'; id: number; pos: number }
  | { type: 'digest'; id: number; hex: string; pos: number }
  | { type: 'error'; id: number; message: string };
