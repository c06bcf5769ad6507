import type { Store } from './store.ts';

// The simplest store: a JavaScript Map, private to one thread. Steps 01 uses
// it; it is also the reference the shared-memory store is tested against.
//
// A Map cannot use a Buffer as a key by content, so keys are turned into
// 'latin1' strings: one character per byte, so every byte sequence maps to a
// distinct string and back (binary-safe).
export class MapStore implements Store {
  private readonly map = new Map<string, Buffer>();

  get(key: Buffer): Buffer | undefined {
    return this.map.get(key.toString('latin1'));
  }

  set(key: Buffer, value: Buffer): void {
    // Copy: the caller's Buffer may be a view into a reused socket buffer.
    this.map.set(key.toString('latin1'), Buffer.from(value));
  }

  delete(key: Buffer): boolean {
    return this.map.delete(key.toString('latin1'));
  }

  size(): number {
    return this.map.size;
  }

  entries(): Array<[Buffer, Buffer]> {
    return [...this.map].map(([key, value]) => [Buffer.from(key, 'latin1'), value]);
  }
}
