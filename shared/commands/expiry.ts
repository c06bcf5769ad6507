import { TYPE_NONE, passThrough, type Store, type StoreExtras } from '../store/store.ts';

// Expiry (issue 13): a key may carry a time after which it no longer exists.
// Redis removes such keys two ways, and so do we:
//
// LAZILY. Every read goes through ExpiringStore, the top of a step's store
// chain (ExpiringStore -> VersionedStore -> RecordingStore -> the store): a
// key whose time has passed is hidden from get(), entries() (so DUMP, KEYS,
// SCAN), typeOf() (TYPE, EXISTS, the lists). A write to it (set, delete,
// setExpiresAt...) first reclaims it, so INCR on an expired counter starts
// from 0, and DEL of an expired key answers 0. DBSIZE counts what is stored,
// expired keys not yet reclaimed included - as Redis's DBSIZE does.
//   A read may also reclaim (`readsMayDelete`) where reads run alone (step
//   01's one thread). In step 06 reads run under the READ lock, beside other
//   readers: a delete there would be a write without the write lock, so a
//   read only hides the key and leaves it to the next write or to:
//
// ACTIVELY. activeExpireCycle(), run every 100 ms by the server (under its
// write lock), reclaims keys nobody touches, as Redis's
// activeExpireCycle: sample 20 keys that have a time, reclaim the expired
// ones, and go on while more than a quarter of the sample had expired -
// within a budget of 25 ms (a quarter of the interval), so a million keys
// expiring at once cost many short cycles, never one long stall.
//
// THE ONE PLACE where an expiry deletes a key is reclaim(): it deletes
// through the chain, so the deletion is logged as DEL (RecordingStore), bumps
// the key's version (WATCH sees it) and reaches replication as DEL, as Redis
// propagates expired keys.

export interface ExpiringStoreOptions {
  /** Reads reclaim what they find expired (only where nothing runs beside them: step 01). */
  readsMayDelete?: boolean;
  /** The clock, ms since 1970 (tests may pass their own). */
  now?: () => number;
}

export interface ExpiringStore extends Pick<StoreExtras, 'expiringKeys' | 'sampleExpiring' | 'journal'> {}
export class ExpiringStore implements Store {
  /** Called after reclaim() removed a key (the lists forget its elements). */
  onReclaim: ((key: Buffer) => void) | null = null;
  /** Figures for INFO: keys reclaimed, and the sampled average time to live. */
  expiredKeys = 0;
  averageTtl = 0;
  readonly now: () => number;
  private readonly readsMayDelete: boolean;

  constructor(
    private readonly inner: Store,
    options: ExpiringStoreOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.readsMayDelete = options.readsMayDelete ?? false;
    const { expiringKeys, sampleExpiring, journal } = passThrough(inner);
    Object.assign(this, { expiringKeys, sampleExpiring, journal });
  }

  /** Whether this store has expiry at all (steps 02-05's SharedStore does not). */
  get hasExpiry(): boolean {
    return this.inner.setExpiresAt !== undefined;
  }

  /** True when `key` is stored but its time has passed. Costs a lookup only while some key has a time. */
  isExpired(key: Buffer): boolean {
    if (this.inner.expiringKeys === undefined || this.inner.expiringKeys() === 0) return false;
    const at = this.inner.expiresAt!(key);
    return at !== undefined && at !== 0 && at <= this.now();
  }

  /**
   * Removes `key` because its time has passed: THE place where an expiry
   * becomes a deletion (logged and replicated as DEL). True when it did.
   */
  reclaim(key: Buffer): boolean {
    if (!this.isExpired(key)) return false;
    this.inner.delete(key);
    this.expiredKeys++;
    this.onReclaim?.(key);
    return true;
  }

  // A read met an expired key: hide it, and reclaim it where reads may write.
  private hidden(key: Buffer): boolean {
    if (!this.isExpired(key)) return false;
    if (this.readsMayDelete) this.reclaim(key);
    return true;
  }

  get(key: Buffer): Buffer | undefined {
    return this.hidden(key) ? undefined : this.inner.get(key);
  }

  set(key: Buffer, value: Buffer): void {
    this.reclaim(key);
    this.inner.set(key, value);
  }

  delete(key: Buffer): boolean {
    if (this.reclaim(key)) return false; // it had expired: DEL counts it as absent
    return this.inner.delete(key);
  }

  size(): number {
    return this.inner.size();
  }

  entries(): Array<[Buffer, Buffer]> {
    const entries = this.inner.entries();
    if (this.inner.expiringKeys === undefined || this.inner.expiringKeys() === 0) return entries;
    return entries.filter(([key]) => !this.hidden(key));
  }

  expiresAt(key: Buffer): number | undefined {
    return this.hidden(key) ? undefined : this.inner.expiresAt?.(key);
  }

  setExpiresAt(key: Buffer, at: number): boolean {
    if (this.reclaim(key) || this.inner.setExpiresAt === undefined) return false;
    return this.inner.setExpiresAt(key, at);
  }

  typeOf(key: Buffer): number {
    if (this.inner.typeOf === undefined) return this.inner.get(key) === undefined ? TYPE_NONE : 1;
    return this.hidden(key) ? TYPE_NONE : this.inner.typeOf(key);
  }

  setType(key: Buffer, type: number): boolean {
    if (this.reclaim(key) || this.inner.setType === undefined) return false;
    return this.inner.setType(key, type);
  }
}

export interface ExpireCycleResult {
  /** Keys with a time looked at, and how many of them had expired. */
  sampled: number;
  expired: number;
  /** Rounds of `sample` keys (more than one when over a quarter had expired). */
  rounds: number;
}

/**
 * One cycle of active expiry (see the top of this file). The caller holds
 * whatever lock writes need. Bounded: at most `budgetMs` of work.
 */
export function activeExpireCycle(store: ExpiringStore, sample = 20, budgetMs = 25): ExpireCycleResult {
  const result: ExpireCycleResult = { sampled: 0, expired: 0, rounds: 0 };
  if (store.sampleExpiring === undefined) return result;
  const started = performance.now();
  for (;;) {
    const keys = store.sampleExpiring(sample);
    const now = store.now();
    let expired = 0;
    let ttlSum = 0;
    for (const [key, at] of keys) {
      if (at <= now) {
        if (store.reclaim(key)) expired++;
      } else ttlSum += at - now;
    }
    result.rounds++;
    result.sampled += keys.length;
    result.expired += expired;
    const alive = keys.length - expired;
    // Redis's estimate: a running average of the sampled times to live.
    if (alive > 0) store.averageTtl = store.averageTtl === 0 ? ttlSum / alive : (store.averageTtl * 49 + ttlSum / alive) / 50;
    if (keys.length === 0 || expired * 4 <= keys.length || performance.now() - started >= budgetMs) return result;
  }
}

/** Redis's active expiry period: a cycle every 100 ms (hz 10). */
export const ACTIVE_EXPIRE_INTERVAL_MS = 100;

/**
 * Runs `cycle` every 100 ms on this thread's event loop (the timer does not
 * keep the process alive). Returns a function that stops it.
 */
export function startActiveExpiry(cycle: () => void, intervalMs = ACTIVE_EXPIRE_INTERVAL_MS): () => void {
  const timer = setInterval(cycle, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
