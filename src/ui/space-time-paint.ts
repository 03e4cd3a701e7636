// Draws a space-time scene with a pen: on the page's canvas every frame, and into an SVG file (or a PNG) for
// slides. One drawing for both, so that the export is exactly what the class saw.
import type { Arrow, Mark, MessageFamily, SpaceTimeScene } from './space-time-model.ts';

export interface Palette {
  readonly background: string;
  readonly text: string;
  readonly muted: string;
  readonly grid: string;
  /** Indexed by term modulo their number (the log grid's colours). */
  readonly terms: readonly string[];
  readonly families: Readonly<Record<MessageFamily, string>>;
  readonly cursor: string;
  readonly font: string;
  /** Text sizes in px: labels, and the lane names (the page's 0.7rem and 0.85rem: legible from the back row). */
  readonly small: number;
  readonly large: number;
}

/** The log grid's term colours (panels.css --term-0 … --term-6), for a page without the stylesheet. */
const TERM_FALLBACK = ['#cc79a7', '#0072b2', '#e69f00', '#009e73', '#56b4e9', '#d55e00', '#f0e442'];

export interface Pen {
  line(x1: number, y1: number, x2: number, y2: number, colour: string, width: number, dash?: readonly number[], alpha?: number): void;
  rect(x: number, y: number, w: number, h: number, fill: string, alpha?: number): void;
  /** A closed shape through the points. */
  polygon(points: readonly (readonly [number, number])[], fill: string, alpha?: number): void;
  circle(x: number, y: number, r: number, fill: string, stroke?: string, alpha?: number): void;
  text(x: number, y: number, text: string, colour: string, size: number, align?: 'left' | 'center' | 'right', weight?: 'normal' | 'bold', alpha?: number): void;
  /** Finish what is drawn so far (a pen may gather strokes of one style into one path). */
  flush(): void;
}

/** The faded look of what comes after the cursor (a run scrubbed into its past). */
const FUTURE_ALPHA = 0.3;

/** `focused`: the id of the message the keyboard is on, drawn with a ring of the cursor's colour. */
export function paintScene(pen: Pen, scene: SpaceTimeScene, palette: Palette, focused: number | null = null): void {
  const { width, height } = scene.window;
  pen.rect(0, 0, width, height, palette.background);
  const laneHalf = Math.min(14, scene.laneHeight * 0.32);
  const size = palette.large;

  for (const tick of scene.ticks) {
    pen.line(tick.x, scene.axisHeight - 4, tick.x, height, palette.grid, 1);
    pen.text(tick.x, scene.axisHeight - 6, tick.label, palette.muted, palette.small, 'center');
  }

  // Terms as bands in their colour; the leader's stretch bold, a candidate's dashed; down: a thin grey line.
  for (const band of scene.bands) {
    const y = scene.lanes.find((lane) => lane.node === band.node)!.y;
    if (!band.up) {
      pen.line(band.x0, y, band.x1, y, palette.muted, 1, [2, 4]);
      continue;
    }
    const colour = palette.terms[band.term % palette.terms.length]!;
    pen.rect(band.x0, y - laneHalf, band.x1 - band.x0, laneHalf * 2, colour, 0.22);
    if (band.role === 'leader') pen.line(band.x0, y, band.x1, y, palette.text, 5);
    else if (band.role === 'candidate') pen.line(band.x0, y, band.x1, y, palette.text, 3, [6, 4]);
    else pen.line(band.x0, y, band.x1, y, palette.text, 1.5);
  }

  for (const change of scene.network) {
    const alpha = change.future ? FUTURE_ALPHA : 1;
    pen.line(change.x, scene.axisHeight, change.x, height, palette.families.other, 2, [3, 3], alpha);
    pen.text(change.x + 3, scene.axisHeight + palette.small, `✂ ${change.label}`, palette.text, palette.small, 'left', 'bold', alpha);
  }

  // Arrows of one look one after another, so that a pen can draw each look in one stroke.
  const arrows = [...scene.arrows].sort((a, b) => arrowLook(a) - arrowLook(b));
  const focus = scene.arrows.find((arrow) => arrow.id === focused);
  if (focus) pen.line(focus.x1, focus.y1, focus.x2, focus.y2, palette.cursor, 7, undefined, 0.6);
  for (const arrow of arrows) paintShaft(pen, arrow, palette);
  for (const arrow of arrows) paintHead(pen, arrow, palette);
  for (const mark of scene.marks) paintMark(pen, mark, palette, laneHalf);

  // Lane names last, over anything that reached the gutter.
  pen.rect(0, scene.axisHeight, scene.plotLeft - 4, height - scene.axisHeight, palette.background);
  for (const lane of scene.lanes) pen.text(scene.plotLeft - 10, lane.y + size * 0.35, `S${lane.node}`, palette.text, size, 'right', 'bold');

  pen.line(scene.cursorX, 0, scene.cursorX, height, palette.cursor, 2);
  pen.flush();
}

const FAMILIES: readonly MessageFamily[] = ['vote', 'append', 'heartbeat', 'snapshot', 'other'];

/** What decides an arrow's stroke: its family, answer or not, copy or not, faded or not. */
function arrowLook(arrow: Arrow): number {
  return FAMILIES.indexOf(arrow.family) * 8 + (arrow.response ? 4 : 0) + (arrow.duplicate ? 2 : 0) + (arrow.future ? 1 : 0);
}

const RESPONSE_DASH = [5, 3] as const;

function paintShaft(pen: Pen, arrow: Arrow, palette: Palette): void {
  const colour = palette.families[arrow.family];
  const alpha = arrow.future ? FUTURE_ALPHA : 1;
  const width = arrow.family === 'heartbeat' ? 1 : arrow.family === 'snapshot' ? 3 : 1.75;
  const dash = arrow.response ? RESPONSE_DASH : undefined;
  const { x1, y1, x2, y2 } = arrow;
  if (arrow.duplicate) {
    // A copy the network made: drawn doubled, the two strokes either side of the path.
    const [nx, ny] = normal(x1, y1, x2, y2, 2);
    pen.line(x1 + nx, y1 + ny, x2 + nx, y2 + ny, colour, width, dash, alpha);
    pen.line(x1 - nx, y1 - ny, x2 - nx, y2 - ny, colour, width, dash, alpha);
  } else pen.line(x1, y1, x2, y2, colour, width, dash, alpha);
}

/** The arrow's head, or the ✕ where it was lost. */
function paintHead(pen: Pen, arrow: Arrow, palette: Palette): void {
  const colour = palette.families[arrow.family];
  const alpha = arrow.future ? FUTURE_ALPHA : 1;
  const { x1, y1, x2, y2 } = arrow;
  if (arrow.fate === 'lost') {
    const r = 5;
    pen.line(x2 - r, y2 - r, x2 + r, y2 + r, colour, 2.5, undefined, alpha);
    pen.line(x2 - r, y2 + r, x2 + r, y2 - r, colour, 2.5, undefined, alpha);
    return;
  }
  const length = Math.hypot(x2 - x1, y2 - y1);
  if (length < 4) return;
  const ux = (x2 - x1) / length;
  const uy = (y2 - y1) / length;
  const head = arrow.fate === 'in-flight' ? 6 : 7;
  pen.polygon(
    [
      [x2, y2],
      [x2 - ux * head - uy * head * 0.5, y2 - uy * head + ux * head * 0.5],
      [x2 - ux * head + uy * head * 0.5, y2 - uy * head - ux * head * 0.5],
    ],
    colour,
    alpha,
  );
}

function paintMark(pen: Pen, mark: Mark, palette: Palette, laneHalf: number): void {
  const alpha = mark.future ? FUTURE_ALPHA : 1;
  const { x, y } = mark;
  switch (mark.kind) {
    case 'heartbeats':
      pen.line(x, y - laneHalf, x, y + laneHalf, palette.families.heartbeat, 2, undefined, alpha);
      return;
    case 'commit':
      pen.polygon([[x, y - 4], [x + 4, y], [x, y + 4], [x - 4, y]], palette.text, alpha);
      return;
    case 'crash': {
      const r = laneHalf * 0.8;
      pen.line(x - r, y - r, x + r, y + r, palette.text, 3, undefined, alpha);
      pen.line(x - r, y + r, x + r, y - r, palette.text, 3, undefined, alpha);
      break;
    }
    case 'restart':
      pen.circle(x, y, laneHalf * 0.6, palette.background, palette.text, alpha);
      break;
    case 'leader':
      pen.polygon([[x - 6, y - laneHalf], [x - 6, y - laneHalf - 7], [x - 3, y - laneHalf - 3], [x, y - laneHalf - 8], [x + 3, y - laneHalf - 3], [x + 6, y - laneHalf - 7], [x + 6, y - laneHalf]], palette.text, alpha);
      break;
    case 'candidate':
      pen.circle(x, y, 4, palette.background, palette.text, alpha);
      break;
    case 'snapshot':
      pen.rect(x - 4, y - 4, 8, 8, palette.families.snapshot, alpha);
      break;
  }
  if (mark.label) {
    // On a halo of the background, so that the words read over the arrows.
    const width = mark.label.length * palette.small * 0.6;
    pen.rect(x + 6, y - laneHalf - palette.small + 3, width + 4, palette.small + 3, palette.background, 0.85 * alpha);
    pen.text(x + 8, y - laneHalf + 2, mark.label, palette.text, palette.small, 'left', 'bold', alpha);
  }
}

function normal(x1: number, y1: number, x2: number, y2: number, by: number): [number, number] {
  const length = Math.hypot(x2 - x1, y2 - y1) || 1;
  return [(-(y2 - y1) / length) * by, ((x2 - x1) / length) * by];
}

/**
 * The page's colours and type sizes, as its stylesheets resolve them. Reading styles makes the browser work them
 * out, so they are read again only when `key` (what they depend on: the theme, presentation mode) changes.
 */
export function pagePalette(element: Element, key: string): Palette {
  if (cachedPalette?.key !== key) cachedPalette = { key, palette: readPalette(element) };
  return cachedPalette.palette;
}

let cachedPalette: { readonly key: string; readonly palette: Palette } | null = null;

function readPalette(element: Element): Palette {
  const style = getComputedStyle(element);
  const read = (name: string, fallback: string) => style.getPropertyValue(name).trim() || fallback;
  const rem = parseFloat(getComputedStyle(document.documentElement).fontSize) || 20;
  return {
    background: read('--panel-bg', '#ffffff'),
    text: read('--text', '#1a1a1a'),
    muted: read('--muted', '#6b6b6b'),
    grid: read('--grid-line', 'rgba(127,127,127,0.25)'),
    terms: TERM_FALLBACK.map((fallback, i) => read(`--term-${i}`, fallback)),
    // Okabe–Ito: told apart by people with any common colour blindness; responses are dashed besides.
    families: { vote: '#d55e00', append: read('--text', '#1a1a1a'), heartbeat: '#8a8a8a', snapshot: '#009e73', other: '#cc79a7' },
    cursor: '#0072b2',
    font: style.fontFamily || 'sans-serif',
    small: Math.max(14, Math.round(rem * 0.7)),
    large: Math.round(rem * 0.85),
  };
}

/**
 * A pen on a canvas that gathers consecutive strokes of one style into one path, and fills likewise: a frame of
 * a busy window draws hundreds of arrows in a few dozen calls.
 */
export function canvasPen(ctx: CanvasRenderingContext2D, font: string): Pen {
  let open: string | null = null; // the style of the path being gathered, if any
  let filling = false;
  const flush = () => {
    if (open === null) return;
    if (filling) ctx.fill();
    else ctx.stroke();
    open = null;
  };
  const begin = (key: string, fill: boolean, apply: () => void) => {
    if (open === key && filling === fill) return;
    flush();
    apply();
    ctx.beginPath();
    open = key;
    filling = fill;
  };
  return {
    line(x1, y1, x2, y2, colour, width, dash, alpha = 1) {
      begin(`l${colour}${width}${dash?.join(',') ?? ''}${alpha}`, false, () => {
        ctx.globalAlpha = alpha;
        ctx.strokeStyle = colour;
        ctx.lineWidth = width;
        ctx.setLineDash(dash ? [...dash] : []);
      });
      ctx.moveTo(x1, y1);
      ctx.lineTo(x2, y2);
    },
    polygon(points, fill, alpha = 1) {
      begin(`p${fill}${alpha}`, true, () => {
        ctx.globalAlpha = alpha;
        ctx.fillStyle = fill;
      });
      points.forEach(([x, y], i) => (i === 0 ? ctx.moveTo(x, y) : ctx.lineTo(x, y)));
      ctx.closePath();
    },
    rect(x, y, w, h, fill, alpha = 1) {
      flush();
      ctx.globalAlpha = alpha;
      ctx.fillStyle = fill;
      ctx.fillRect(x, y, w, h);
    },
    circle(x, y, r, fill, stroke, alpha = 1) {
      flush();
      ctx.globalAlpha = alpha;
      ctx.fillStyle = fill;
      ctx.beginPath();
      ctx.arc(x, y, r, 0, Math.PI * 2);
      ctx.fill();
      if (stroke) {
        ctx.setLineDash([]);
        ctx.strokeStyle = stroke;
        ctx.lineWidth = 2;
        ctx.stroke();
      }
    },
    text(x, y, text, colour, size, align = 'left', weight = 'normal', alpha = 1) {
      flush();
      ctx.globalAlpha = alpha;
      ctx.fillStyle = colour;
      ctx.font = `${weight} ${size}px ${font}`;
      ctx.textAlign = align;
      ctx.fillText(text, x, y);
    },
    flush,
  };
}

/** A pen that writes SVG elements; `svg()` wraps them in a document. */
export function svgPen(width: number, height: number, font: string): Pen & { svg(): string } {
  const parts: string[] = [];
  const n = (value: number) => (Math.round(value * 10) / 10).toString();
  const opacity = (alpha: number | undefined) => (alpha === undefined || alpha === 1 ? '' : ` opacity="${alpha}"`);
  return {
    line(x1, y1, x2, y2, colour, width, dash, alpha) {
      const dashes = dash ? ` stroke-dasharray="${dash.join(' ')}"` : '';
      parts.push(`<line x1="${n(x1)}" y1="${n(y1)}" x2="${n(x2)}" y2="${n(y2)}" stroke="${colour}" stroke-width="${width}"${dashes}${opacity(alpha)}/>`);
    },
    rect(x, y, w, h, fill, alpha) {
      parts.push(`<rect x="${n(x)}" y="${n(y)}" width="${n(w)}" height="${n(h)}" fill="${fill}"${opacity(alpha)}/>`);
    },
    polygon(points, fill, alpha) {
      parts.push(`<polygon points="${points.map(([x, y]) => `${n(x)},${n(y)}`).join(' ')}" fill="${fill}"${opacity(alpha)}/>`);
    },
    circle(x, y, r, fill, stroke, alpha) {
      parts.push(`<circle cx="${n(x)}" cy="${n(y)}" r="${n(r)}" fill="${fill}"${stroke ? ` stroke="${stroke}" stroke-width="2"` : ''}${opacity(alpha)}/>`);
    },
    text(x, y, text, colour, size, align = 'left', weight = 'normal', alpha) {
      const anchor = { left: 'start', center: 'middle', right: 'end' }[align];
      parts.push(`<text x="${n(x)}" y="${n(y)}" fill="${colour}" font-size="${size}" font-weight="${weight}" text-anchor="${anchor}"${opacity(alpha)}>${escapeXml(text)}</text>`);
    },
    flush() {},
    svg() {
      return [
        `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${escapeXml(font)}">`,
        ...parts,
        '</svg>',
        '',
      ].join('\n');
    },
  };
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}
