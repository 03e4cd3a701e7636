// `bench figure16`'s measure: a leader's crash costs about an election timeout plus a vote's round trip, the
// measure is a function of its trials' seeds, and the three figures the paper's text states (§9.3) come out
// within 20% with the paper's 1000 trials a range.
import { expect, test } from 'vitest';
import { FIGURE16_RANGES, figure16Row } from './figure16.ts';

test('after the leader crashes, a 150-300 ms cluster elects within about an election timeout and a round trip', () => {
  const row = figure16Row({ timeoutMs: [150, 300] }, 30);
  expect(row.gaveUp).toBe(0);
  expect(row.median).toBeGreaterThanOrEqual(150);
  expect(row.max).toBeLessThan(2 * 300 + 4 * 15);
  expect(figure16Row({ timeoutMs: [150, 300] }, 30)).toEqual(row);
});

test.each(FIGURE16_RANGES.filter((range) => range.paper !== undefined).map((range) => [`${range.timeoutMs.join('-')} ms`, range] as const))(
  "%s: the paper's figure within 20%",
  (_name, range) => {
    const row = figure16Row(range, 1000);
    const { what, ms } = range.paper!;
    expect(row.gaveUp).toBe(0);
    expect(row[what] / ms).toBeGreaterThan(0.8);
    expect(row[what] / ms).toBeLessThan(1.2);
  },
);

test("with no randomness (150-150 ms) split votes keep every trial leaderless past the paper's 10 seconds", () => {
  const row = figure16Row({ timeoutMs: [150, 150] }, 5);
  expect(row.median).toBeGreaterThan(10_000);
  expect(row.gaveUp).toBe(5);
});
