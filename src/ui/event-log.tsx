// What happened and why, one sentence per event, newest at the bottom. It follows the newest line unless
// the reader has scrolled up to read an older one; when scrubbed into the past it stops at the moment shown.
import { memo } from 'react';
import { panelsThrottled, shownClock, shownPanelView, usePlayground, type Narration } from '../playground/store.ts';
import { countUpTo, decodeRoles, encodeRoles, formatSeconds } from './panel-format.ts';
import { RoleBadge } from './role-badge.tsx';
import './panels.css';

/**
 * The latest sentences drawn (the store keeps more; the scrubber reaches further back): fewer while the clock
 * runs too fast to read them, when a busy cluster says more than this between two redraws of the panel.
 */
const LINES_SHOWN = 60;
const LINES_SHOWN_RUNNING_FAST = 20;

export function EventLog() {
  const narration = usePlayground((s) => s.narration);
  // Numbers and strings, so that the clock moving every frame re-renders only when a line appears.
  const count = usePlayground((s) => countUpTo(s.narration, shownClock(s)));
  const encodedRoles = usePlayground((s) => {
    const view = shownPanelView(s);
    return view ? encodeRoles(view.nodes) : '';
  });
  const roles = decodeRoles(encodedRoles);
  // Newest first in the document, drawn bottom-up (column-reverse): the list stays at its newest line without
  // script, and a reader who scrolled up keeps their place as lines arrive.
  const shown = usePlayground(panelsThrottled) ? LINES_SHOWN_RUNNING_FAST : LINES_SHOWN;
  const lines = narration.slice(Math.max(0, count - shown), count).reverse();
  return (
    <section className="panel event-log" data-testid="event-log" aria-label="Event log">
      <h2 className="panel-title">What happened</h2>
      {/* It scrolls: focusable, so that the keyboard scrolls it too (WCAG 2.1.1). */}
      <ol className="event-lines" reversed tabIndex={0} aria-label="Events, newest first">
        {lines.length === 0 ? <li className="hint">Nothing has happened yet.</li> : null}
        {lines.map((line) => (
          <EventLine key={line.seq} line={line} role={roles.get(line.node)} />
        ))}
      </ol>
    </section>
  );
}

/** One sentence; drawn once, not again every frame (only a new role for its node redraws it). */
const EventLine = memo(function EventLine({ line, role }: { line: Narration; role: ReturnType<ReturnType<typeof decodeRoles>['get']> }) {
  return (
    <li className="event-line" data-testid="event-line">
      <span className="event-time">{formatSeconds(line.t)}</span> <RoleBadge id={line.node} role={role} /> <span className="event-text">{line.text}</span>
    </li>
  );
});
