// "Right now", above the captions: what is true of the cluster at the moment shown and is not an event, so the
// narration's lines never say it. Today: a node that still believes it leads but cannot commit, and why
// (leadership-model.ts).
// A polite live region, always in the document so that screen readers follow it; empty when all is well.
import { shownPanelView, usePlayground } from '../playground/store.ts';
import { standingNotes } from './leadership-model.ts';
import './standing-notes.css';

export function StandingNotes() {
  // A string, so that the clock moving every frame re-renders only when what it says changes.
  const encoded = usePlayground((s) => JSON.stringify(standingNotes(shownPanelView(s), { checkQuorum: s.config?.checkQuorum ?? false })));
  const notes = JSON.parse(encoded) as ReturnType<typeof standingNotes>;
  return (
    <div className="standing-notes" data-testid="standing-notes" role="status" aria-live="polite">
      {notes.length > 0 ? (
        <>
          <h3 className="standing-title">Right now</h3>
          <ul className="standing-lines">
            {notes.map((note) => (
              <li key={note.node} className="standing-note" data-testid="standing-note" data-node={note.node}>
                {note.text}
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </div>
  );
}
