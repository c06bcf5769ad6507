import { performance } from 'node:perf_hooks';

/**
 * Keeps this thread busy computing for `ms` milliseconds: a stand-in for a
 * heavy command (parsing, compressing, hashing...). It really uses the CPU,
 * unlike a sleep, so it shows what a busy thread does to everything else
 * waiting for that thread.
 */
export function burnCpu(ms: number): void {
  const end = performance.now() + ms;
  let x = 0;
  while (performance.now() < end) {
    for (let i = 0; i < 1000; i++) x = (x * 31 + i) | 0;
  }
  sink = x;
}

// Written so that the optimizer cannot drop the loop as useless.
export let sink = 0;
