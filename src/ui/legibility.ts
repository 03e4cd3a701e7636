// How large the page draws what a class has to read. The ring scales with the space it gets, so its text and
// glyphs have floors in CSS pixels on screen; presentation mode (the Present button, `?present=1`) raises every
// floor for a projector read from the back of a room, and folds the advanced controls away.
import { create } from 'zustand';

/** The smallest on-screen sizes, in CSS px. */
export interface Legibility {
  /** A node's name (S3). */
  readonly labelPx: number;
  /** A node's term, a vote tally's words, the ring's hints. */
  readonly termPx: number;
  /** A message's glyph, at its narrowest. */
  readonly glyphPx: number;
}

export const EVERYDAY: Legibility = { labelPx: 16, termPx: 13, glyphPx: 12 };
/** Issue 12's floors for a 1280×720 projector: readable from 10 m. */
export const PRESENTING: Legibility = { labelPx: 24, termPx: 18, glyphPx: 16 };

/** The narrowest message glyph in ring units (a heartbeat's answer, cluster-ring.tsx), before it is scaled. */
export const NARROWEST_GLYPH_UNITS = 12;

export interface RingSizes {
  /** The least node radius (ring units) that holds the name and `term 12` at these sizes. */
  readonly minNodeRadius: number;
  readonly nameFloor: number;
  readonly termFloor: number;
  /** How much every message glyph is enlarged (1 = as drawn). */
  readonly glyphScale: number;
}

/** The floors in ring units, for a ring drawn at `pxPerUnit` CSS px per unit. */
export function ringSizes(pxPerUnit: number, legibility: Legibility): RingSizes {
  const scale = pxPerUnit > 0 && Number.isFinite(pxPerUnit) ? pxPerUnit : 1;
  // Rounded up to a tenth of a unit, so that the size on screen is never a hair under the floor.
  const nameFloor = Math.ceil((legibility.labelPx / scale) * 10) / 10;
  const termFloor = Math.ceil((legibility.termPx / scale) * 10) / 10;
  return {
    // The name is drawn at 0.6 of the radius; `term 12` is about 3.9 em wide on a chord of 1.7 radii.
    minNodeRadius: Math.ceil(Math.max(nameFloor / 0.6, termFloor * 2.2)),
    nameFloor,
    termFloor,
    glyphScale: Math.max(1, legibility.glyphPx / (NARROWEST_GLYPH_UNITS * scale)),
  };
}

interface PresentationState {
  readonly presenting: boolean;
  setPresenting(on: boolean): void;
}

export const usePresentation = create<PresentationState>()((set) => ({
  presenting: false,
  setPresenting(on) {
    set({ presenting: on });
    // The address says so, so that a reload or a shared link opens the same way.
    const url = new URL(location.href);
    if (on) url.searchParams.set('present', '1');
    else url.searchParams.delete('present');
    history.replaceState(history.state, '', url);
  },
}));

export function useLegibility(): Legibility {
  return usePresentation((s) => s.presenting) ? PRESENTING : EVERYDAY;
}
