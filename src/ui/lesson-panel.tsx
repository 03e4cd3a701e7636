// The lesson player's panel (SPEC §8): the lesson's title and section, step n of m, the step's words; for a
// question its choices, then which one held and why; for a step that waits for the learner, what to do; a
// challenge's task and, once solved, the promise that broke; Back, Start over, Next and Leave. And the list
// of lessons, with the learner's progress.
import { useEffect, useRef, useState } from 'react';
import { describeLearnerAction } from '../lessons/lesson-plan.ts';
import { SHIPPED_LESSONS } from '../lessons/shipped.ts';
import { stepOf, useLesson, type ActiveLesson } from '../playground/lesson-store.ts';
import { usePlayground } from '../playground/store.ts';
import { learnerAction } from '../sim/lesson-format.ts';
import { INVARIANT_MEANING, type Invariant } from '../sim/safety-checker.ts';
import { encodeScenarioLink } from './scenario-link.ts';
import './lesson.css';

export function LessonPanel() {
  const active = useLesson((s) => s.active);
  if (!active) return null;
  const { lesson } = active.file;
  const step = stepOf(active);
  const last = lesson.steps.length - 1;
  return (
    <section className="panel lesson-panel" aria-label="Lesson" data-testid="lesson" data-step={active.step + 1} data-phase={active.phase}>
      <header className="lesson-head">
        <h2 className="panel-title">{lesson.title}</h2>
        <span className="lesson-paper">{lesson.paper}</span>
        <span className="lesson-count" data-testid="lesson-step">
          Step {active.step + 1} of {lesson.steps.length}
        </span>
        <nav className="lesson-nav" aria-label="Lesson steps">
          <button type="button" onClick={() => void useLesson.getState().back()} disabled={active.step === 0}>
            Back
          </button>
          <button type="button" onClick={() => void useLesson.getState().restart()}>
            Start over
          </button>
          <NextButton active={active} last={last} />
          <button type="button" onClick={() => useLesson.getState().leave()}>
            Leave
          </button>
        </nav>
      </header>
      <p className="lesson-words" data-testid="lesson-words" aria-live="polite">
        {'say' in step ? step.say : step.ask}
      </p>
      {'ask' in step && <Choices active={active} />}
      <StepStatus active={active} />
    </section>
  );
}

function NextButton({ active, last }: { active: ActiveLesson; last: number }) {
  const ref = useRef<HTMLButtonElement>(null);
  const challengeNext = active.file.lesson.challenge !== undefined && active.step === last;
  const ready = active.phase === 'ended' && (active.step < last || challengeNext);
  // Once the step has ended, Next takes the keyboard (Enter goes on), unless the learner is typing somewhere.
  useEffect(() => {
    const typing = document.activeElement instanceof HTMLInputElement || document.activeElement instanceof HTMLSelectElement;
    if (ready && !typing) ref.current?.focus({ preventScroll: true });
  }, [ready]);
  return (
    <button ref={ref} type="button" className="lesson-next" onClick={() => (challengeNext ? useLesson.getState().startChallenge() : void useLesson.getState().next())} disabled={!ready}>
      {challengeNext ? 'Start the challenge' : 'Next'}
    </button>
  );
}

function Choices({ active }: { active: ActiveLesson }) {
  const step = stepOf(active);
  if (!('ask' in step)) return null;
  const revealed = active.phase === 'ended' ? active.outcome?.answer : undefined;
  return (
    <div className="lesson-choices" role="group" aria-label="Your prediction">
      {step.choices.map((choice, i) => {
        const state = revealed === undefined ? (active.chosen === i ? 'chosen' : '') : revealed === i ? 'held' : active.chosen === i ? 'missed' : '';
        return (
          <button
            key={i}
            type="button"
            className={`lesson-choice${state ? ` is-${state}` : ''}`}
            data-testid={`lesson-choice-${i}`}
            aria-pressed={active.chosen === i}
            disabled={active.phase !== 'choosing'}
            onClick={() => useLesson.getState().choose(i)}
          >
            {state === 'held' ? '✓ ' : state === 'missed' ? '✗ ' : ''}
            {choice.text}
          </button>
        );
      })}
    </div>
  );
}

function StepStatus({ active }: { active: ActiveLesson }) {
  const step = stepOf(active);
  const challenge = active.file.lesson.challenge;
  switch (active.phase) {
    case 'challenge':
      return (
        <p className="lesson-status lesson-prompt" data-testid="lesson-challenge">
          Your challenge: make the checker report {listOr(challenge?.goal ?? [])}. The clock is paused where the lesson ended: Resume, Step or +1 s
          move it on; crash, restart, partition and write as you like. Start over goes back to the beginning.
        </p>
      );
    case 'solved': {
      const broken = active.solvedBy!;
      const invariant = broken.invariant as Invariant;
      return (
        <p className="lesson-reveal" data-testid="lesson-solved" data-invariant={broken.invariant}>
          <b>You broke it.</b> At {(broken.t / 1000).toFixed(3)} s the checker reported {broken.invariant}: {broken.message}. The rule that broke:{' '}
          {INVARIANT_MEANING[invariant] ?? broken.invariant}. <ReplayLink />
        </p>
      );
    }
    case 'starting':
      return <p className="lesson-status hint">Setting up the step…</p>;
    case 'choosing':
      return <p className="lesson-status lesson-prompt">Choose your prediction: the run goes on once you have.</p>;
    case 'waiting':
      return (
        <p className="lesson-status lesson-prompt" data-testid="lesson-waiting">
          Your turn: {describeLearnerAction(learnerAction(step)!)}.
        </p>
      );
    case 'playing':
      return <p className="lesson-status hint">Playing… it pauses when the step is over.</p>;
    case 'ended': {
      if (active.mismatch) return <p className="lesson-status lesson-mismatch" role="alert">{`Something is wrong: ${active.mismatch}.`}</p>;
      if (!active.outcome) return <p className="lesson-status hint">Checking…</p>;
      const failures = active.outcome.check && !active.outcome.check.holds ? active.outcome.check.failures : [];
      return (
        <>
          {'ask' in step && active.outcome.answer !== undefined && (
            <p className="lesson-reveal" data-testid="lesson-reveal" data-answer={active.outcome.answer} data-right={active.chosen === active.outcome.answer ? 'true' : 'false'}>
              <b>{active.chosen === active.outcome.answer ? 'You were right. ' : 'Not this time. '}</b>“{step.choices[active.outcome.answer]!.text}” held: {step.why}
            </p>
          )}
          {/* For automation: whether what the step says held on this run. */}
          <span hidden data-testid="lesson-verdict" data-holds={failures.length === 0 ? 'true' : 'false'} />
          {failures.length > 0 && <p className="lesson-status lesson-mismatch">{`This step's claim did not hold: ${failures.join('; ')}.`}</p>}
          {active.step === active.file.lesson.steps.length - 1 && (
            <p className="lesson-status lesson-prompt" data-testid="lesson-done">
              {challenge ? 'Now the challenge: press Start the challenge.' : 'That is the end of the lesson.'}
            </p>
          )}
        </>
      );
    }
  }
}

/**
 * The failing run as a link that replays it (SPEC §7 `#scenario=`), made when it is shown: to share, or to follow
 * here. Followed here it leaves the lesson and replays at once (the address may already hold this very run, and
 * a hash that does not change would not start it again).
 */
function ReplayLink() {
  const [text] = useState(() => usePlayground.getState().exportScenario());
  const href = `#scenario=${encodeScenarioLink(text)}`;
  return (
    <a
      href={href}
      data-testid="challenge-replay"
      onClick={(event) => {
        event.preventDefault();
        useLesson.getState().leave();
        history.replaceState(null, '', href);
        void usePlayground.getState().importScenario(text);
      }}
    >
      Replay this run
    </a>
  );
}

function listOr(names: readonly string[]): string {
  return names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} or ${names.at(-1)}`;
}

/** The lessons, in curriculum order, each with what the learner has done of it; opens one. */
export function LessonList({ onOpen }: { onOpen?: () => void }) {
  const progress = useLesson((s) => s.progress);
  const active = useLesson((s) => s.active);
  return (
    <ol className="lesson-list" aria-label="Lessons">
      {SHIPPED_LESSONS.lessons.map(({ lesson }) => {
        const mine = progress[lesson.id];
        const answers = mine ? Object.values(mine.answers) : [];
        const right = answers.filter((answer) => answer.right).length;
        return (
          <li key={lesson.id}>
            <button
              type="button"
              data-testid={`lesson-open-${lesson.id}`}
              aria-current={active?.file.lesson.id === lesson.id ? 'true' : undefined}
              onClick={() => {
                onOpen?.();
                void useLesson.getState().open(lesson.id);
              }}
            >
              <span className="lesson-list-title">{lesson.title}</span> <span className="lesson-paper">{lesson.paper}</span>
              <span className="lesson-list-progress">
                {mine?.done ? '✓ done' : ''}
                {answers.length > 0 ? ` ${right} of ${answers.length} predictions right` : ''}
              </span>
            </button>
          </li>
        );
      })}
    </ol>
  );
}

/** The header's Lessons button: the list in a modal dialog. */
export function LessonsButton() {
  const dialog = useRef<HTMLDialogElement>(null);
  return (
    <>
      <button type="button" className="lessons-button" onClick={() => dialog.current?.showModal()}>
        Lessons
      </button>
      <dialog ref={dialog} className="lessons-dialog" aria-labelledby="lessons-dialog-title">
        <h2 id="lessons-dialog-title">Lessons</h2>
        <p className="hint">Each lesson plays a real cluster step by step, asks you to predict before it shows, and has you act on it.</p>
        <LessonList onOpen={() => dialog.current?.close()} />
        <form method="dialog">
          <button type="submit">Close</button>
        </form>
      </dialog>
    </>
  );
}
