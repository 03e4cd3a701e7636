// The narration as captions under the stage: the latest sentence, largest, and the two before it. Always in
// view, whatever the detail tabs show (a class reading the Inspector still sees why the leader changed); the
// full list is the "What happened" tab. When scrubbed into the past it shows what was said up to that moment.
import { usePointedPanel } from '../playground/lesson-store.ts';
import { shownClock, usePlayground } from '../playground/store.ts';
import { countUpTo, formatSeconds } from './panel-format.ts';
import './panels.css';

/** The latest sentence and this many before it. */
const EARLIER_SHOWN = 2;

export function Captions() {
  const narration = usePlayground((s) => s.narration);
  const pointed = usePointedPanel('narration');
  const count = usePlayground((s) => countUpTo(s.narration, shownClock(s)));
  const lines = narration.slice(Math.max(0, count - EARLIER_SHOWN - 1), count);
  const latest = lines[lines.length - 1];
  return (
    <section className={`captions${pointed ? ' is-pointed' : ''}`} data-testid="captions" aria-label="Narration">
      {lines.slice(0, -1).map((line) => (
        <p key={line.seq} className="caption caption-earlier">
          <span className="caption-time">{formatSeconds(line.t)}</span> {line.text}
        </p>
      ))}
      {latest ? (
        <p key={latest.seq} className="caption caption-latest" data-testid="caption-latest">
          <span className="caption-time">{formatSeconds(latest.t)}</span> {latest.text}
        </p>
      ) : (
        <p className="caption caption-latest hint">The cluster is starting: every node begins as a follower (§5.2).</p>
      )}
    </section>
  );
}
