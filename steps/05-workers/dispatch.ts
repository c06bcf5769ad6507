import type { Dispatch } from '../04-ipc-queue/persister.ts';
import { BY_KEY } from './dispatch/by-key.ts';
import { FREE } from './dispatch/free.ts';

// Step 05's dispatch strategies, one file each behind step 04's Dispatch
// interface (steps/04-ipc-queue/persister.ts): which worker process takes
// which batch, and which log it appends to.
//
//   dispatch/free.ts     the least busy worker process, one shared log: the hazard
//   dispatch/by-key.ts   hash(key) mod N, a log each: the fix

export const DISPATCHES = { 'by-key': BY_KEY, free: FREE } as const satisfies Record<string, Dispatch>;
export type DispatchName = keyof typeof DISPATCHES;
export const DISPATCH_NAMES = ['by-key', 'free'] as const satisfies readonly DispatchName[];
