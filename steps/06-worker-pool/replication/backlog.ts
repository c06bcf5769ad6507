// The replication backlog: the last `capacity` bytes of the write stream,
// in a ring buffer (Redis's repl-backlog-size, 1 MB by default).
//
// A replica that lost its link reconnects with `PSYNC <replid> <offset>`:
// the offset of the first byte it has not received. If that byte is still
// here, the primary answers +CONTINUE and sends the rest from the backlog;
// otherwise the replica needs a full resynchronisation.
//
// Offsets are those of the stream since the primary started (its
// master_repl_offset): the backlog holds the bytes [start, end).

export class Backlog {
  private readonly ring: Buffer;
  /** Offset just past the last byte appended (master_repl_offset). */
  private endOffset: number;
  private used = 0;

  constructor(readonly capacity: number, startOffset = 0) {
    this.ring = Buffer.alloc(capacity);
    this.endOffset = startOffset;
  }

  /** Appends the stream's next bytes (overwriting the oldest when full). */
  append(bytes: Uint8Array): void {
    let data = bytes;
    if (data.length > this.capacity) data = data.subarray(data.length - this.capacity);
    let at = (this.endOffset + (bytes.length - data.length)) % this.capacity;
    let rest = data;
    while (rest.length > 0) {
      const room = Math.min(rest.length, this.capacity - at);
      this.ring.set(rest.subarray(0, room), at);
      rest = rest.subarray(room);
      at = (at + room) % this.capacity;
    }
    this.endOffset += bytes.length;
    this.used = Math.min(this.capacity, this.used + bytes.length);
  }

  /** Offset of the oldest byte kept. */
  get start(): number {
    return this.endOffset - this.used;
  }

  get end(): number {
    return this.endOffset;
  }

  get size(): number {
    return this.used;
  }

  /** The bytes from `offset` to the end, or null when `offset` is not in [start, end]. */
  from(offset: number): Buffer | null {
    if (offset < this.start || offset > this.endOffset) return null;
    const length = this.endOffset - offset;
    const out = Buffer.alloc(length);
    const first = offset % this.capacity;
    const head = Math.min(length, this.capacity - first);
    this.ring.copy(out, 0, first, first + head);
    if (head < length) this.ring.copy(out, head, 0, length - head);
    return out;
  }
}
