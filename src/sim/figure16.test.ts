// `bench figure16`'s measure on a few trials: a leader's crash costs about an election timeout plus a vote's
// round trip, and the measure is a function of its trials' seeds.
import { expect, test } from 'vitest';
import { figure16Row } from './figure16.ts';

test('after the leader crashes, a 150-300 ms cluster elects within about an election timeout and a round trip', () => {
  const row = figure16Row({ timeoutMs: [150, 300] }, 30);
  expect(row.gaveUp).toBe(0);
  expect(row.median).toBeGreaterThanOrEqual(150);
  expect(row.max).toBeLessThan(2 * 300 + 4 * 15);
  expect(figure16Row({ timeoutMs: [150, 300] }, 30)).toEqual(row);
});
