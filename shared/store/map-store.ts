import { TYPE_NONE, TYPE_STRING, type Store } from './store.ts';

// The simplest store: a JavaScript Map, private to one thread. Steps 01 uses
// it; it is also the reference the shared-memory store is tested against.
//
// A Map cannot use a Buffer as a key by content, so keys are turned into
// 'latin1' strings: one character per byte, so every byte sequence maps to a
// distinct string and back (binary-safe).
//
// Expiry times and type tags live in maps of their own, beside the values:
// `expiries` holds only the keys that have a time (so INFO's expires= is its
// size, and active expiry samples it), `types` only the keys that are not
// strings.
export class MapStore implements Store {
  private readonly map = new Map<string, Buffer>();
  private readonly expiries = new Map<string, number>();
  private readonly types = new Map<string, number>();
  private sampler: Iterator<[string, number]> | null = null;

  get(key: Buffer): Buffer | undefined {
    return this.map.get(key.toString('latin1'));
  }

  set(key: Buffer, value: Buffer): void {
    // Copy: the caller's Buffer may be a view into a reused socket buffer.
    const id = key.toString('latin1');
    this.map.set(id, Buffer.from(value));
    this.types.delete(id);
  }

  delete(key: Buffer): boolean {
    const id = key.toString('latin1');
    this.expiries.delete(id);
    this.types.delete(id);
    return this.map.delete(id);
  }

  size(): number {
    return this.map.size;
  }

  entries(): Array<[Buffer, Buffer]> {
    return [...this.map].map(([key, value]) => [Buffer.from(key, 'latin1'), value]);
  }

  expiresAt(key: Buffer): number | undefined {
    const id = key.toString('latin1');
    return this.map.has(id) ? (this.expiries.get(id) ?? 0) : undefined;
  }

  setExpiresAt(key: Buffer, at: number): boolean {
    const id = key.toString('latin1');
    if (!this.map.has(id)) return false;
    if (at === 0) this.expiries.delete(id);
    else this.expiries.set(id, at);
    return true;
  }

  expiringKeys(): number {
    return this.expiries.size;
  }

  sampleExpiring(limit: number): Array<[Buffer, number]> {
    const out: Array<[Buffer, number]> = [];
    // A Map iterator goes on from where it stopped (and sees keys added
    // since); at its end, start again: each call continues the round.
    for (let restarts = 0; out.length < Math.min(limit, this.expiries.size) && restarts < 2;) {
      this.sampler ??= this.expiries.entries();
      const next = this.sampler.next();
      if (next.done) {
        this.sampler = null;
        restarts++;
        continue;
      }
      out.push([Buffer.from(next.value[0], 'latin1'), next.value[1]]);
    }
    return out;
  }

  typeOf(key: Buffer): number {
    const id = key.toString('latin1');
    return this.map.has(id) ? (this.types.get(id) ?? TYPE_STRING) : TYPE_NONE;
  }

  setType(key: Buffer, type: number): boolean {
    const id = key.toString('latin1');
    if (!this.map.has(id)) return false;
    if (type === TYPE_STRING) this.types.delete(id);
    else this.types.set(id, type);
    return true;
  }
}
