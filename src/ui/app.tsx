// A first page: it runs a scenario file in a Web Worker and shows where the cluster ended up and why.
// The interactive playground (issue 5) grows from here.
import { wrap } from 'comlink';
import { useEffect, useMemo, useState } from 'react';
import { explainEvent } from '../sim/explain.ts';
import { ClusterRing } from './cluster-ring.tsx';
import { clusterAt } from './replay.ts';
import type { ScenarioRun, ScenarioRunner } from '../worker/scenario-runner.worker.ts';
import { encodeScenarioLink, scenarioFromHash } from './scenario-link.ts';
import './app.css';

/** The shipped lessons (scenarios/*.json), by file name. */
const LESSONS: Record<string, string> = Object.fromEntries(
  Object.entries(import.meta.glob('../../scenarios/*.json', { query: '?raw', import: 'default', eager: true }) as Record<string, string>).map(
    ([path, text]) => [path.split('/').pop()!.replace(/\.json$/, ''), text],
  ),
);
const DEFAULT_LESSON = 'first-election';

type State = { status: 'running' } | { status: 'done'; run: ScenarioRun } | { status: 'error'; message: string };

export function App() {
  const [state, setState] = useState<State>({ status: 'running' });
  const [hash, setHash] = useState(window.location.hash);

  useEffect(() => {
    const onHashChange = () => setHash(window.location.hash);
    window.addEventListener('hashchange', onHashChange);
    return () => window.removeEventListener('hashchange', onHashChange);
  }, []);

  useEffect(() => {
    setState({ status: 'running' });
    const worker = new Worker(new URL('../worker/scenario-runner.worker.ts', import.meta.url), { type: 'module' });
    const runner = wrap<ScenarioRunner>(worker);
    let text: string;
    try {
      text = scenarioFromHash(hash) ?? LESSONS[DEFAULT_LESSON]!;
    } catch (error) {
      setState({ status: 'error', message: (error as Error).message });
      worker.terminate();
      return;
    }
    runner.run(text).then(
      (run) => setState({ status: 'done', run }),
      (error: unknown) => setState({ status: 'error', message: error instanceof Error ? error.message : String(error) }),
    );
    return () => worker.terminate();
  }, [hash]);

  const shown = Object.keys(LESSONS).find((name) => scenarioFromHashOrNull(hash) === LESSONS[name]) ?? (hash ? '' : DEFAULT_LESSON);
  return (
    <main>
      <h1>Raft Playground</h1>
      <label className="lesson">
        Lesson{' '}
        <select
          value={shown}
          onChange={(event) => {
            window.location.hash = `scenario=${encodeScenarioLink(LESSONS[event.target.value]!)}`;
          }}
        >
          {shown === '' && <option value="">(a shared scenario)</option>}
          {Object.keys(LESSONS).map((name) => (
            <option key={name} value={name}>
              {name}
            </option>
          ))}
        </select>
      </label>
      {state.status === 'running' && <p aria-live="polite">Running the scenario in a Web Worker…</p>}
      {state.status === 'error' && (
        <p role="alert" className="error">
          This scenario cannot run: {state.message}
        </p>
      )}
      {state.status === 'done' && <ScenarioReport run={state.run} />}
    </main>
  );
}

function scenarioFromHashOrNull(hash: string): string | null {
  try {
    return scenarioFromHash(hash);
  } catch {
    return null;
  }
}

function ScenarioReport({ run }: { run: ScenarioRun }) {
  const { result } = run;
  return (
    <>
      {run.description && <p className="description">{run.description}</p>}
      {result.violations.length > 0 && (
        <div role="alert" className="alarm" data-testid="safety-alarm">
          <strong>Safety broken.</strong> The checker found {result.violations.length === 1 ? 'a violation' : `${result.violations.length} violations`}:
          <ul>
            {result.violations.slice(0, 5).map((v, i) => (
              <li key={i}>
                <span className="time">{v.t} ms</span> {v.invariant}: {v.message}
              </li>
            ))}
          </ul>
        </div>
      )}
      <Replay run={run} />
      <p>
        After {result.endMs} ms of simulated time:{' '}
        {result.leader === null ? 'no leader' : `S${result.leader} leads`}. Trace fingerprint{' '}
        <code data-testid="trace-hash">{result.traceHash}</code> over {result.events.toLocaleString('en')} events;{' '}
        <span data-testid="violations">{result.violations.length === 0 ? 'no safety violations' : `${result.violations.length} safety violations`}</span>.
      </p>
      <table>
        <thead>
          <tr>
            <th scope="col">Node</th>
            <th scope="col">Status</th>
            <th scope="col">Role</th>
            <th scope="col">Term</th>
            <th scope="col">Commit</th>
            <th scope="col">Last index</th>
          </tr>
        </thead>
        <tbody>
          {result.nodes.map((node) => (
            <tr key={node.id}>
              <th scope="row">S{node.id}</th>
              <td>{node.status}</td>
              <td>{node.role}</td>
              <td>{node.term}</td>
              <td>{node.commitIndex}</td>
              <td>{node.lastLogIndex}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>What happened</h2>
      <ol className="events">
        {run.explained.map((event, i) => (
          <li key={i}>
            <span className="time">{event.t} ms</span> {event.text}
          </li>
        ))}
      </ol>
    </>
  );
}

/** How many of the latest explanations the narration beside the ring shows. */
const NARRATED_SHOWN = 8;

/** Replay speed: simulated milliseconds per real second (a tenth of real time, slow enough to follow). */
const REPLAY_MS_PER_SECOND = 100;

function Replay({ run }: { run: ScenarioRun }) {
  const endMs = run.result.endMs;
  const [atMs, setAtMs] = useState(endMs);
  const [playing, setPlaying] = useState(false);
  const ids = useMemo(() => run.result.nodes.map((n) => n.id), [run]);
  const view = useMemo(() => clusterAt(run.events, ids, atMs), [run, ids, atMs]);
  const narrated = useMemo(
    // Decisions, not deliveries: a dropped message is shown dying on the ring instead.
    () => run.events.flatMap((event) => {
      const text = event.type === 'drop' ? null : explainEvent(event);
      return text === null ? [] : [{ t: event.t, text }];
    }),
    [run],
  );
  const latest = useMemo(() => {
    let end = 0;
    while (end < narrated.length && narrated[end]!.t <= atMs) end++;
    return narrated.slice(Math.max(0, end - NARRATED_SHOWN), end).reverse();
  }, [narrated, atMs]);
  const atMsRef = useRefOf(atMs);

  useEffect(() => {
    if (!playing) return;
    let last = performance.now();
    let frame = requestAnimationFrame(function advance(now) {
      const next = Math.min(endMs, atMsRef.current + ((now - last) / 1000) * REPLAY_MS_PER_SECOND);
      last = now;
      atMsRef.current = next;
      setAtMs(next);
      if (next >= endMs) setPlaying(false);
      else frame = requestAnimationFrame(advance);
    });
    return () => cancelAnimationFrame(frame);
  }, [playing, endMs, atMsRef]);

  return (
    <section className="replay" aria-label="Replay">
      <div className="replay-stage">
        <ClusterRing view={view} />
        <ol className="narration" aria-label="Just now" data-testid="narration">
          {latest.map((line, i) => (
            <li key={`${line.t}-${i}`}>
              <span className="time">{line.t} ms</span> {line.text}
            </li>
          ))}
        </ol>
      </div>
      <div className="replay-controls">
        <button
          type="button"
          onClick={() => {
            if (!playing && atMs >= endMs) setAtMs((atMsRef.current = 0));
            setPlaying(!playing);
          }}
        >
          {playing ? 'Pause' : atMs >= endMs ? 'Replay' : 'Resume'}
        </button>
        <label>
          Time{' '}
          <input
            type="range"
            min={0}
            max={endMs}
            step={1}
            value={Math.round(atMs)}
            onChange={(event) => {
              setPlaying(false);
              setAtMs((atMsRef.current = Number(event.target.value)));
            }}
          />
        </label>
        <span data-testid="clock" data-ms={Math.round(atMs)} className="clock">
          {Math.round(atMs)} ms
        </span>
      </div>
    </section>
  );
}

/** A ref that follows a value, for animation frames that must read the latest one. */
function useRefOf<T>(value: T): { current: T } {
  const [ref] = useState(() => ({ current: value }));
  ref.current = value;
  return ref;
}
