import type { Clock } from '../core/clock.js';
import { raceAbort } from './abort.js';
import type { FileUrls } from './fallback-url.js';

interface Slot {
  url: Promise<FileUrls>;
  /** when the URL was obtained; entries older than the TTL are fetched again */
  atMs: number;
}

/**
 * Short-lived memory of signed URLs per file (filled in bulk by listings and batch queries), so the
 * parallel chunk fetches of one file, and the files of one directory, share GraphQL lookups. A URL storage rejected is invalidated (only if it is still the current one: a
 * sibling may already have replaced it). The lookup itself is not tied to any caller's signal, so
 * one cancelled reader cannot fail the others waiting on the same URL.
 */
export class SignedUrlCache {
  private readonly slots = new Map<string, Slot>();

  constructor(
    private readonly clock: Clock,
    private readonly ttlMs: number,
    private readonly maxEntries = 50_000,
  ) {}

  /** Stores URLs that came in bulk (a listing page, a batch query) for files nobody asked for yet. */
  put(key: string, urls: FileUrls): void {
    this.set(key, { url: Promise.resolve(urls), atMs: this.clock.nowMs() });
  }

  async get(key: string, resolve: () => Promise<FileUrls>, signal?: AbortSignal): Promise<FileUrls> {
    const now = this.clock.nowMs();
    let slot = this.slots.get(key);
    if (!slot || now - slot.atMs > this.ttlMs) {
      const url = resolve();
      slot = { url, atMs: now };
      this.set(key, slot);
      url.catch(() => {
        if (this.slots.get(key) === slot) this.slots.delete(key);
      });
    }
    return raceAbort(slot.url, signal);
  }

  /** Forgets the URLs of `key` if their signed URL is still `directUrl`. */
  async invalidate(key: string, directUrl: string): Promise<void> {
    const slot = this.slots.get(key);
    if (!slot) return;
    const current = await slot.url.catch(() => null);
    if (current?.direct === directUrl && this.slots.get(key) === slot) this.slots.delete(key);
  }

  private set(key: string, slot: Slot): void {
    this.slots.delete(key);
    this.slots.set(key, slot);
    // Map iteration is insertion order, so the first key is the least recently fetched.
    while (this.slots.size > this.maxEntries) {
      const oldest = this.slots.keys().next().value;
      if (oldest === undefined) break;
      this.slots.delete(oldest);
    }
  }
}
