// Growable raw buffers in linear memory. The engine keeps bulk data as bytes and u32 words, never as
// managed AssemblyScript objects: no GC pressure, no UTF-16 strings, and memory is reused across calls.

/** A reusable byte region. `ensure` keeps the old contents only when `keep` is set. */
export class Region {
  ptr: usize = 0;
  cap: usize = 0;
  /** The size the last `ensure` asked for: what the holder may use (the capacity may be larger). */
  size: usize = 0;

  /** Makes room for `size` bytes (plus 8 of zeroed padding so word-sized loads at the end stay in bounds). */
  ensure(size: usize, keep: bool = false): usize {
    // 2 GiB is the most a region may hold; a larger request is a host bug and traps (the host restarts us).
    if (size > 0x7fff0000) abort('region larger than 2 GiB requested');
    const need = size + 8;
    if (need > this.cap) {
      // Kept contents grow by doubling (amortized appends); a region sized for one document gets its size,
      // rounded up to 64 KiB: doubling would waste up to half of a 20 MB link's buffers, and the allocator
      // itself grows memory by doubling once it runs out.
      let cap: usize;
      if (keep) {
        cap = this.cap < 256 ? <usize>256 : this.cap;
        while (cap < need) cap = cap << 1;
      } else {
        cap = (need + 0xffff) & ~(<usize>0xffff);
      }
      if (keep && this.ptr != 0) {
        this.ptr = heap.realloc(this.ptr, cap);
      } else {
        if (this.ptr != 0) heap.free(this.ptr);
        this.ptr = heap.alloc(cap);
      }
      this.cap = cap;
    }
    store<u64>(this.ptr + size, 0);
    this.size = size;
    return this.ptr;
  }

  /** Gives the memory back when it grew past `limit` bytes, so one huge document does not pin it forever. */
  shrink(limit: usize): void {
    if (this.cap > limit && this.ptr != 0) {
      heap.free(this.ptr);
      this.ptr = 0;
      this.cap = 0;
      this.size = 0;
    }
  }
}

/** A growable array of u32 words (the tape, sort orders, the container stack). */
export class Words {
  ptr: usize = 0;
  cap: u32 = 0;
  len: u32 = 0;

  @inline reset(): void {
    this.len = 0;
  }

  /** Reserves `n` more words and returns the index of the first. */
  grow(n: u32): u32 {
    const at = this.len;
    const need = at + n;
    if (need < at || need > 0x1fff0000) abort('word array larger than 2 GiB requested');
    if (need > this.cap) {
      let cap = this.cap < 64 ? <u32>64 : this.cap;
      while (cap < need) cap = cap << 1;
      this.ptr = this.ptr == 0 ? heap.alloc(<usize>cap << 2) : heap.realloc(this.ptr, <usize>cap << 2);
      this.cap = cap;
    }
    this.len = need;
    return at;
  }

  @inline get(i: u32): u32 {
    return load<u32>(this.ptr + (<usize>i << 2));
  }

  @inline set(i: u32, v: u32): void {
    store<u32>(this.ptr + (<usize>i << 2), v);
  }

  shrink(limitWords: u32): void {
    if (this.cap > limitWords && this.ptr != 0) {
      heap.free(this.ptr);
      this.ptr = 0;
      this.cap = 0;
      this.len = 0;
    }
  }
}
