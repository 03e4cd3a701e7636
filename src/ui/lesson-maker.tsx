// Make a lesson from the run on the page (SPEC §8): pause where a step should end, write what to say, tick a
// claim or make it a question, cut; then export the lot as a lesson file (lesson --check accepts it), or try it
// at once in the lesson player.
import { useState } from 'react';
import { lessonFromDraft, type DraftStep } from '../lessons/lesson-draft.ts';
import { useLesson } from '../playground/lesson-store.ts';
import { liveCluster, usePlayground } from '../playground/store.ts';
import { formatScenario } from '../sim/scenario.ts';
import { downloadText } from './controls.tsx';

export function LessonMaker() {
  const [cuts, setCuts] = useState<DraftStep[]>([]);
  const [words, setWords] = useState('');
  const [claimLeader, setClaimLeader] = useState(false);
  const [askWhoLeads, setAskWhoLeads] = useState(false);
  const [id, setId] = useState('my-lesson');
  const [title, setTitle] = useState('My lesson');
  const [paper, setPaper] = useState('§5');
  const paused = usePlayground((s) => s.paused && s.scrubMs === null);
  const nowMs = usePlayground((s) => Math.floor(s.clockMs));
  const notify = usePlayground.getState().notify;
  const lastCut = cuts.at(-1)?.atMs ?? 0;

  const cut = () => {
    const cluster = liveCluster();
    if (!cluster) return;
    const atMs = cluster.nowMs;
    if (atMs <= lastCut) return notify(`A step must end after the one before it (${lastCut} ms): let the run go on first.`);
    if (!askWhoLeads && words.trim() === '') return notify('Write what the step says first.');
    setCuts([...cuts, { atMs, words, ...(claimLeader ? { claimLeader: cluster.sim.leader() } : {}), ...(askWhoLeads ? { askWhoLeads } : {}) }]);
    setWords('');
    setClaimLeader(false);
    setAskWhoLeads(false);
  };

  const build = () => {
    try {
      return lessonFromDraft(liveCluster()!.scenario(), { id, title, paper, speed: usePlayground.getState().speed }, cuts);
    } catch (error) {
      notify(`The lesson cannot be made yet: ${error instanceof Error ? error.message : String(error)}`);
      return null;
    }
  };

  return (
    <details className="lesson-maker advanced">
      <summary>Make a lesson</summary>
      <p className="hint">Play the run you want to teach. Pause where a step should end, write what it says, and cut. Each step plays to its cut and pauses there.</p>
      <div className="lesson-maker-row">
        <label>
          Id <input aria-label="Lesson id" value={id} onChange={(event) => setId(event.target.value)} />
        </label>
        <label>
          Title <input aria-label="Lesson title" value={title} onChange={(event) => setTitle(event.target.value)} />
        </label>
        <label>
          Section <input aria-label="Lesson section" className="tiny" value={paper} onChange={(event) => setPaper(event.target.value)} />
        </label>
      </div>
      <label className="lesson-maker-words">
        What the step ending at {(nowMs / 1000).toFixed(3)} s says
        <textarea aria-label="Step words" rows={2} value={words} onChange={(event) => setWords(event.target.value)} />
      </label>
      <div className="lesson-maker-row">
        <label className="check">
          <input type="checkbox" checked={claimLeader} disabled={askWhoLeads} onChange={(event) => setClaimLeader(event.target.checked)} /> Claim who leads here
        </label>
        <label className="check">
          <input type="checkbox" checked={askWhoLeads} onChange={(event) => setAskWhoLeads(event.target.checked)} /> Ask “Who leads?” here (the words explain the answer)
        </label>
        <button type="button" onClick={cut} disabled={!paused} title={paused ? 'End a step at this moment' : 'Pause first: a step ends where the run is paused'}>
          Cut a step here
        </button>
      </div>
      <ol className="lesson-maker-steps" aria-label="Steps cut so far">
        {cuts.map((step, i) => (
          <li key={i}>
            {(step.atMs / 1000).toFixed(3)} s: {step.askWhoLeads ? 'Who leads? ' : ''}
            {step.words}
            {step.claimLeader !== undefined ? ` (claims ${step.claimLeader === null ? 'nobody' : `S${step.claimLeader}`} leads)` : ''}
          </li>
        ))}
      </ol>
      <div className="lesson-maker-row">
        <button
          type="button"
          disabled={cuts.length === 0}
          onClick={() => {
            const file = build();
            if (file) downloadText(formatScenario(file), `${file.lesson.id}.json`);
          }}
        >
          Export lesson
        </button>
        <button
          type="button"
          disabled={cuts.length === 0}
          onClick={() => {
            const file = build();
            if (file) void useLesson.getState().openFile(file);
          }}
        >
          Try it
        </button>
        <button type="button" disabled={cuts.length === 0} onClick={() => setCuts(cuts.slice(0, -1))}>
          Undo last cut
        </button>
      </div>
    </details>
  );
}
