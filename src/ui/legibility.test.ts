import { describe, expect, test } from 'vitest';
import { EVERYDAY, NARROWEST_GLYPH_UNITS, PRESENTING, ringSizes } from './legibility.ts';
import { layoutRing } from './ring-geometry.ts';

describe('ringSizes: type on the ring never drops under its floor on screen', () => {
  test('a ring drawn small gets larger type in ring units, so that it is as large on screen', () => {
    const small = ringSizes(0.5, EVERYDAY);
    expect(small.nameFloor * 0.5).toBeGreaterThanOrEqual(EVERYDAY.labelPx);
    expect(small.termFloor * 0.5).toBeGreaterThanOrEqual(EVERYDAY.termPx);
    expect(NARROWEST_GLYPH_UNITS * small.glyphScale * 0.5).toBeCloseTo(EVERYDAY.glyphPx);
  });

  test('presentation mode raises every floor (issue 12: 24 px names, 18 px terms, 16 px glyphs)', () => {
    const sizes = ringSizes(1, PRESENTING);
    expect(sizes.nameFloor).toBe(24);
    expect(sizes.termFloor).toBe(18);
    expect(NARROWEST_GLYPH_UNITS * sizes.glyphScale).toBeGreaterThanOrEqual(16);
  });

  test('a ring drawn large enlarges nothing past what it draws anyway', () => {
    expect(ringSizes(2, EVERYDAY).glyphScale).toBe(1);
  });

  test('nodes grow to hold large type, and nine of them still do not touch', () => {
    const sizes = ringSizes(0.9, PRESENTING);
    const nine = layoutRing([1, 2, 3, 4, 5, 6, 7, 8, 9], sizes.minNodeRadius);
    const everyday = layoutRing([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(nine.nodeRadius).toBeGreaterThan(everyday.nodeRadius);
    const [a, b] = [nine.places.get(1)!, nine.places.get(2)!];
    expect(Math.hypot(a.x - b.x, a.y - b.y)).toBeGreaterThan(2 * nine.nodeRadius + 20);
  });

  test('a ring not measured yet (zero size) is treated as drawn 1:1', () => {
    expect(ringSizes(0, EVERYDAY)).toEqual(ringSizes(1, EVERYDAY));
  });
});
