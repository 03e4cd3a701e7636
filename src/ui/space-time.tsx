// The space-time diagram on the page: a canvas redrawn on each animation frame in which anything it shows
// changed (the run, the clock, the window, the theme), drawing only the window in view. The window follows the
// clock and the scrubber; clicking an arrow inspects that message, clicking a mark inspects its node, and either
// moves the clock to that moment. Exports as SVG and PNG, the same drawing as on screen.
import { useEffect, useRef, useState } from 'react';
import { currentTimeline, shownClock, usePlayground } from '../playground/store.ts';
import { downloadText } from './controls.tsx';
import { usePresentation } from './legibility.ts';
import { useBoxSize } from './use-box-size.ts';
import { hitTest, layoutSpaceTime, type SpaceTimeHit, type SpaceTimeScene } from './space-time-model.ts';
import { canvasPen, pagePalette, paintScene, svgPen } from './space-time-paint.ts';

/** Window spans the zoom steps through, in virtual ms. */
const SPANS = [100, 250, 500, 1000, 2000, 5000, 10_000, 20_000] as const;
const DEFAULT_SPAN_INDEX = 3;
/** Where the cursor sits across the window, once the run is longer than that: most of it is the past. */
const CURSOR_AT = 0.85;
/** A lane tall enough for its name and labels at projector sizes. */
const LANE_MIN_PX = 30;

/** The scene drawn last, for the automation hook and the exports. */
let drawn: SpaceTimeScene | null = null;

/** The latest scene drawn (SPEC §7's automation hooks: `window.raftPlayground.spaceTime()`). */
export function drawnSpaceTime(): SpaceTimeScene | null {
  return drawn;
}

export function SpaceTime() {
  const [spanIndex, setSpanIndex] = useState(DEFAULT_SPAN_INDEX);
  const [fold, setFold] = useState(false);
  /** The arrow the keyboard is on (Left/Right move it, Enter inspects it), by message id. */
  const [focused, setFocused] = useState<number | null>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const boxRef = useRef<HTMLDivElement>(null);
  const box = useBoxSize(boxRef);
  const size = { width: Math.max(200, box.width), height: Math.max(120, box.height) };
  const span = SPANS[spanIndex]!;
  const nodes = usePlayground((s) => s.view?.nodes.length ?? 0);

  // The lanes fill the box, but never below LANE_MIN_PX: then the box scrolls.
  const height = Math.max(size.height, 30 + nodes * LANE_MIN_PX);

  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas) return;
    let frame = 0;
    let lastKey = '';
    const draw = () => {
      frame = requestAnimationFrame(draw);
      const source = currentTimeline();
      if (!source) return;
      const state = usePlayground.getState();
      const cursorMs = Math.max(0, shownClock(state));
      const timeline = source.timeline;
      const style = styleKey();
      const key = `${source.key}:${timeline.version}:${cursorMs}:${span}:${fold}:${size.width}:${height}:${style}:${focused}`;
      if (key === lastKey) return;
      lastKey = key;
      // Early in a run the window starts at 0 rather than show time before it.
      const startMs = Math.max(0, cursorMs - span * CURSOR_AT);
      const scene = layoutSpaceTime(timeline, { startMs, endMs: startMs + span, cursorMs, width: size.width, height, foldHeartbeats: fold });
      const ratio = window.devicePixelRatio || 1;
      if (canvas.width !== Math.round(size.width * ratio) || canvas.height !== Math.round(height * ratio)) {
        canvas.width = Math.round(size.width * ratio);
        canvas.height = Math.round(height * ratio);
      }
      const ctx = canvas.getContext('2d')!;
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      const palette = pagePalette(canvas, style);
      paintScene(canvasPen(ctx, palette.font), scene, palette, focused);
      drawn = scene;
      canvas.dataset['cursorMs'] = String(Math.floor(cursorMs));
      canvas.dataset['arrows'] = String(scene.arrows.length);
    };
    draw();
    return () => {
      cancelAnimationFrame(frame);
      drawn = null;
    };
  }, [span, fold, size.width, height, focused]);

  const inspect = (hit: SpaceTimeHit) => {
    const store = usePlayground.getState();
    store.scrubTo(hit.t);
    store.select(hit.kind === 'message' ? { kind: 'message', id: hit.id } : { kind: 'node', id: hit.node });
  };

  const onClick = (event: React.MouseEvent<HTMLCanvasElement>) => {
    if (!drawn) return;
    const rect = event.currentTarget.getBoundingClientRect();
    const hit = hitTest(drawn, event.clientX - rect.left, event.clientY - rect.top);
    if (hit) inspect(hit);
  };

  const onKeyDown = (event: React.KeyboardEvent<HTMLCanvasElement>) => {
    if (!['ArrowRight', 'ArrowLeft', 'Enter', ' '].includes(event.key)) return;
    // The diagram's keys, whether or not there is an arrow to go to: Space here must not also pause the run.
    event.preventDefault();
    event.stopPropagation();
    const arrows = drawn?.arrows.filter((a) => !a.future) ?? [];
    if (arrows.length === 0) return;
    const at = arrows.findIndex((a) => a.id === focused);
    if (event.key === 'ArrowRight' || event.key === 'ArrowLeft') {
      const next = at < 0 ? arrows.length - 1 : Math.max(0, Math.min(arrows.length - 1, at + (event.key === 'ArrowRight' ? 1 : -1)));
      setFocused(arrows[next]!.id);
    } else if (at >= 0) inspect({ kind: 'message', id: arrows[at]!.id, t: arrows[at]!.sentAt });
  };
  const focusedArrow = drawn?.arrows.find((a) => a.id === focused);

  const exportSvg = () => {
    const canvas = canvasRef.current;
    if (!drawn || !canvas) return;
    const palette = pagePalette(canvas, styleKey());
    const pen = svgPen(drawn.window.width, drawn.window.height, palette.font);
    paintScene(pen, drawn, palette);
    downloadText(new Blob([pen.svg()], { type: 'image/svg+xml' }), `space-time-${Math.floor(drawn.window.cursorMs)}ms.svg`);
  };

  const exportPng = () => {
    const canvas = canvasRef.current;
    if (!drawn || !canvas) return;
    // Twice the screen's resolution, for a slide.
    const scene = drawn;
    const picture = document.createElement('canvas');
    picture.width = scene.window.width * 2;
    picture.height = scene.window.height * 2;
    const ctx = picture.getContext('2d')!;
    ctx.scale(2, 2);
    const palette = pagePalette(canvas, styleKey());
    paintScene(canvasPen(ctx, palette.font), scene, palette);
    picture.toBlob((blob) => blob && downloadText(blob, `space-time-${Math.floor(scene.window.cursorMs)}ms.png`), 'image/png');
  };

  return (
    <div className="space-time">
      <div className="view-tools">
        <span className="zoom" role="group" aria-label="Time window">
          <button type="button" onClick={() => setSpanIndex((at) => Math.min(SPANS.length - 1, at + 1))} disabled={spanIndex === SPANS.length - 1} aria-label="Show more time">
            −
          </button>
          <span className="span" data-testid="space-time-span">
            {span >= 1000 ? `${span / 1000} s` : `${span} ms`}
          </span>
          <button type="button" onClick={() => setSpanIndex((at) => Math.max(0, at - 1))} disabled={spanIndex === 0} aria-label="Show less time">
            +
          </button>
        </span>
        <label>
          <input type="checkbox" checked={fold} onChange={(event) => setFold(event.target.checked)} /> Fold heartbeats
        </label>
        <button type="button" className="advanced" onClick={exportSvg}>
          SVG
        </button>
        <button type="button" className="advanced" onClick={exportPng}>
          PNG
        </button>
      </div>
      <SpaceTimeLegend />
      <div className="space-time-box" ref={boxRef}>
        <canvas
          ref={canvasRef}
          data-testid="space-time"
          style={{ width: size.width, height }}
          onClick={onClick}
          onKeyDown={onKeyDown}
          onBlur={() => setFocused(null)}
          tabIndex={0}
          role="application"
          aria-roledescription="space-time diagram"
          aria-label="Space-time diagram: a lane per server across time, each message an arrow from its sending to its arrival. Click an arrow or a mark to inspect it, or use the Left and Right keys to go through the arrows and Enter to inspect one; the Inspector tab then describes it."
        />
      </div>
      <p className="visually-hidden" aria-live="polite">
        {focusedArrow
          ? `${focusedArrow.type} S${focusedArrow.from} to S${focusedArrow.to}, sent at ${(focusedArrow.sentAt / 1000).toFixed(3)} s, ${focusedArrow.fate === 'in-flight' ? 'on the way' : focusedArrow.fate}`
          : ''}
      </p>
    </div>
  );
}

/** What the drawing's colours and type sizes depend on: the theme, presentation mode, the window (rem follows it). */
function styleKey(): string {
  return `${document.documentElement.dataset['theme'] ?? ''}:${usePresentation.getState().presenting}:${innerWidth}x${innerHeight}`;
}

function SpaceTimeLegend() {
  return (
    <p className="legend space-time-legend">
      <span className="key vote">— votes</span> <span className="key append">— entries</span> <span className="key heartbeat">— heartbeats</span>{' '}
      <span className="key snapshot">— snapshots</span> <span className="key">- - answers</span> <span className="key">✕ lost</span> <span className="key">═ duplicated</span>{' '}
      <span className="key">▬ leader</span> <span className="key">◆ commit</span>
    </p>
  );
}
