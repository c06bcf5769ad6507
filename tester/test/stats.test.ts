import { test } from 'node:test';
import assert from 'node:assert/strict';
import { median } from '../stats.ts';

test('stats: the median of an odd count is the middle value, of an even count the mean of the two middle ones', () => {
  assert.equal(median([3]), 3);
  assert.equal(median([30, 10, 20]), 20);
  // `npm run loadgen -- --runs 2` once printed the higher run as the median.
  assert.equal(median([1000, 3000]), 2000);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.ok(Number.isNaN(median([])));
});
