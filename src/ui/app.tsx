// The playground page: a live cluster (each node in its own Web Worker) drawn on a ring, its logs and state
// machines, the narration of every decision, and the controls. The URL sets the run (SPEC §7):
// `/?seed=42&nodes=5&speed=0.01&paused=1`, or `/#scenario=<base64url>` to replay a scenario file; `?present=1`
// opens it in presentation mode; `?lesson=ID&step=N` opens a lesson at a step (SPEC §8).
import { useEffect, useState, type KeyboardEvent } from 'react';
import { parseScenarioText, NODES_MAX, type Scenario } from '../sim/scenario.ts';
import type { Violation } from '../sim/safety-checker.ts';
import { stepOf, useLesson } from '../playground/lesson-store.ts';
import { DEFAULT_SPEED, liveCluster, shownClock, usePlayground, type StartOptions } from '../playground/store.ts';
import { Captions } from './captions.tsx';
import { ClientHistory } from './client-history.tsx';
import { ClusterRing } from './cluster-ring.tsx';
import { ClientControls, ClusterSettings, downloadScenario, NodeControls, PaceControls, RunControls, ScenarioControls } from './controls.tsx';
import { EventLog } from './event-log.tsx';
import { Inspector } from './inspector.tsx';
import { LessonMaker } from './lesson-maker.tsx';
import { LessonPanel, LessonsButton } from './lesson-panel.tsx';
import { usePresentation } from './legibility.ts';
import { LogGrid } from './log-grid.tsx';
import { MachinePanel } from './machine-panel.tsx';
import { encodeScenarioLink, scenarioFromHash } from './scenario-link.ts';
import { ShortcutsOverlay, useShortcuts } from './shortcuts.tsx';
import { SpaceTime } from './space-time.tsx';
import './views.css';
import { StandingNotes } from './standing-notes.tsx';
import './app.css';

/** The shipped scenarios (scenarios/*.json), by file name. */
const SCENARIOS: Record<string, string> = Object.fromEntries(
  Object.entries(import.meta.glob('../../scenarios/*.json', { query: '?raw', import: 'default', eager: true }) as Record<string, string>).map(
    ([path, text]) => [path.split('/').pop()!.replace(/\.json$/, ''), text],
  ),
);

/** What the URL asks for; a malformed part becomes a notice, and the rest still applies. */
export function startFromLocation(search: string, hash: string): { options: StartOptions; speed: number; problem: string | null } {
  const params = new URLSearchParams(search);
  let problem: string | null = null;
  const whole = (name: string, min: number, max: number, fallback: number): number => {
    const text = params.get(name);
    if (text === null) return fallback;
    const value = Number(text);
    if (Number.isInteger(value) && value >= min && value <= max) return value;
    problem = `${name}: expected a whole number from ${min} to ${max}, got "${text}"`;
    return fallback;
  };
  const seed = whole('seed', 0, 2 ** 32 - 1, Math.floor(Math.random() * 100_000)); // the page may draw: the run is then fixed by it
  const nodes = whole('nodes', 1, NODES_MAX, 5);
  const speedText = params.get('speed');
  let speed = DEFAULT_SPEED;
  if (speedText !== null) {
    const value = Number(speedText);
    if (value >= 0.001 && value <= 10) speed = value;
    else problem = `speed: expected a number from 0.001 to 10, got "${speedText}"`;
  }
  const paused = params.get('paused') === '1';
  let scenario: Scenario | undefined;
  try {
    const text = scenarioFromHash(hash);
    if (text !== null) scenario = parseScenarioText(text);
  } catch (error) {
    problem = `The shared scenario cannot be opened: ${error instanceof Error ? error.message : String(error)}`;
  }
  return { options: { seed, nodes, paused, ...(scenario ? { scenario } : {}) }, speed, problem };
}

export function App() {
  const status = usePlayground((s) => s.status);
  const error = usePlayground((s) => s.error);
  const notice = usePlayground((s) => s.notice);
  const [tab, setTab] = useState<DetailTab>('events');
  const [picture, setPicture] = useState<PictureTab>('ring');
  const selection = usePlayground((s) => s.selection);
  const [theme, setTheme] = useState<'light' | 'dark'>(() => (matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light'));
  const presenting = usePresentation((s) => s.presenting);
  const real = usePlayground((s) => s.real);
  // In a lesson, the node and client controls are needed only where the learner acts.
  const lessonQuiet = useLesson((s) => s.active !== null && s.active.phase !== 'waiting' && s.active.phase !== 'challenge' && s.active.phase !== 'solved');
  useShortcuts();

  useEffect(() => {
    document.documentElement.dataset['theme'] = theme;
  }, [theme]);

  useEffect(() => {
    if (new URLSearchParams(location.search).get('present') === '1') usePresentation.getState().setPresenting(true);
    const load = () => {
      const params = new URLSearchParams(location.search);
      const real = params.get('attach');
      if (real !== null) {
        void usePlayground.getState().attach(real.replace(/\/+$/, ''), params.get('token') ?? '');
        return;
      }
      const lesson = params.get('lesson');
      if (lesson !== null && location.hash === '') {
        const step = Number(params.get('step') ?? '1');
        const speed = params.get('speed') === null ? undefined : startFromLocation(location.search, '').speed;
        void useLesson.getState().open(lesson, Number.isInteger(step) && step >= 1 ? step - 1 : 0, speed);
        return;
      }
      const { options, speed, problem } = startFromLocation(location.search, location.hash);
      const store = usePlayground.getState();
      store.setSpeed(speed);
      store.notify(problem);
      void store.start(options);
    };
    load();
    const onHashChange = () => {
      // Our own Share link writes the hash of the run already showing: no need to restart it.
      const current = liveCluster();
      if (current && location.hash === `#scenario=${encodeScenarioLink(usePlayground.getState().exportScenario())}`) return;
      load();
    };
    window.addEventListener('hashchange', onHashChange);
    return () => window.removeEventListener('hashchange', onHashChange);
  }, []);

  useEffect(() => {
    if (selection) setTab('inspector');
  }, [selection]);

  // A lesson's step that points at one of the pictures opens it (each step anew); one that points at nodes or
  // messages, the ring.
  const pointedPicture = useLesson((s) => {
    const show = s.active ? stepOf(s.active).show : undefined;
    if (PICTURE_TABS.some(([id]) => id === show?.panel)) return show!.panel as PictureTab;
    return show?.nodes || show?.messages ? 'ring' : null;
  });
  const lessonStep = useLesson((s) => (s.active ? `${s.active.file.lesson.id}:${s.active.step}` : null));
  useEffect(() => {
    if (pointedPicture) setPicture(pointedPicture);
  }, [pointedPicture, lessonStep]);

  return (
    <div className={`page${presenting ? ' is-presenting' : ''}${lessonQuiet ? ' is-lesson-quiet' : ''}${real ? ' is-real' : ''}`}>
      <header className="top">
        <h1>Raft Playground</h1>
        <Clock />
        <section className="controls pace-controls" aria-label="Time">
          <PaceControls />
        </section>
        <LessonsButton />
        <button
          type="button"
          className="present"
          aria-pressed={presenting}
          onClick={() => usePresentation.getState().setPresenting(!presenting)}
          title={presenting ? 'Back to every control' : 'Large type for a projector; the advanced controls fold away'}
          // Short on the projector, so that the header keeps to one row there; the name says it all (WCAG 2.5.3).
          {...(presenting ? { 'aria-label': 'Exit presentation' } : {})}
        >
          {presenting ? 'Exit' : 'Present'}
        </button>
        <button type="button" className="theme" onClick={() => setTheme(theme === 'dark' ? 'light' : 'dark')} aria-label="Dark theme" aria-pressed={theme === 'dark'}>
          {theme === 'dark' ? '☀' : '☾'}
        </button>
        <section className="controls node-client-controls" aria-label="Node and client controls">
          <NodeControls />
          <ClientControls />
        </section>
      </header>
      {/* Always present, so that screen readers announce what appears in it. */}
      <div role="status" className="notice-region">
        {notice && (
          <p className="notice">
            {notice}{' '}
            <button type="button" onClick={() => usePlayground.getState().notify(null)} aria-label="Dismiss">
              ✕
            </button>
          </p>
        )}
      </div>
      {status === 'error' && (
        <p role="alert" className="error">
          The cluster stopped: {error}
        </p>
      )}
      {real && <RealBanner />}
      <Description />
      <SafetyAlarm />
      <main className="stage">
        <section className="left" aria-label="Cluster">
          <TabList tabs={PICTURE_TABS} tab={picture} onSelect={setPicture} label="Pictures" panel="picture-panel" />
          <div className={`picture${pointedPicture !== 'ring' && pointedPicture === picture ? ' is-pointed' : ''}`} role="tabpanel" id="picture-panel" aria-labelledby={`tab-${picture}`}>
            {picture === 'ring' && <ClusterRing />}
            {picture === 'space-time' && <SpaceTime />}
            {picture === 'history' && <ClientHistory />}
          </div>
          <Scrubber />
        </section>
        <section className="right">
          <LessonPanel />
          <LogGrid />
          <div className="tab-bar">
            <TabList tabs={DETAIL_TABS} tab={tab} onSelect={setTab} label="Details" panel="tab-panel" />
            <span className="hint keys-hint advanced" title="Press ? for the keyboard shortcuts">
              <kbd>?</kbd> keys
            </span>
          </div>
          <div className="tab-body" role="tabpanel" id="tab-panel" aria-labelledby={`tab-${tab}`}>
            {tab === 'events' && <EventLog />}
            {tab === 'inspector' && <Inspector />}
            {tab === 'machines' && <MachinePanel />}
          </div>
          <section className="controls run-setup advanced" aria-label="Run">
            <RunControls />
            <ScenarioPicker />
            <ScenarioControls />
            <LessonMaker />
            <ClusterSettings>
              <TraceFingerprint />
            </ClusterSettings>
          </section>
        </section>
      </main>
      <StandingNotes />
      <Captions />
      <ShortcutsOverlay />
    </div>
  );
}

const DETAIL_TABS = [
  ['events', 'What happened'],
  ['inspector', 'Inspector'],
  ['machines', 'State machines'],
] as const;

type DetailTab = (typeof DETAIL_TABS)[number][0];

/** The pictures of the run: the cluster now, the run over time, what the clients saw. */
const PICTURE_TABS = [
  ['ring', 'Cluster'],
  ['space-time', 'Space-time'],
  ['history', 'Client history'],
] as const;

type PictureTab = (typeof PICTURE_TABS)[number][0];

/** The WAI-ARIA tabs pattern: one tab in the Tab order, arrow keys (and Home, End) move between them. */
function TabList<T extends string>(props: {
  readonly tabs: readonly (readonly [T, string])[];
  readonly tab: T;
  readonly onSelect: (tab: T) => void;
  readonly label: string;
  readonly panel: string;
}) {
  const { tabs, tab, onSelect, label, panel } = props;
  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const at = tabs.findIndex(([id]) => id === tab);
    const last = tabs.length - 1;
    const next = { ArrowRight: at === last ? 0 : at + 1, ArrowLeft: at === 0 ? last : at - 1, Home: 0, End: last }[event.key];
    if (next === undefined) return;
    event.preventDefault();
    event.stopPropagation();
    const id = tabs[next]![0];
    onSelect(id);
    document.getElementById(`tab-${id}`)?.focus();
  };
  return (
    <div className="tabs" role="tablist" aria-label={label} onKeyDown={onKeyDown}>
      {tabs.map(([id, name]) => (
        <button key={id} id={`tab-${id}`} type="button" role="tab" aria-selected={tab === id} aria-controls={panel} tabIndex={tab === id ? 0 : -1} onClick={() => onSelect(id)}>
          {name}
        </button>
      ))}
    </div>
  );
}

function ScenarioPicker() {
  const [scenario, setScenario] = useState('');
  const open = (name: string) => {
    const text = SCENARIOS[name];
    if (!text) return;
    const hash = `#scenario=${encodeScenarioLink(text)}`;
    // The same scenario again starts it over: the hash does not change, so no hashchange would.
    if (location.hash === hash) void usePlayground.getState().importScenario(text);
    else location.hash = hash;
  };
  // Choosing only picks: arrow keys on a focused select change its value, and must not start a lesson each time.
  return (
    <span className="scenario-picker advanced">
      <label>
        Scenario{' '}
        <select value={scenario} onChange={(event) => setScenario(event.target.value)}>
          <option value="">Free play</option>
          {Object.keys(SCENARIOS).map((name) => (
            <option key={name} value={name}>
              {name.replace(/-/g, ' ')}
            </option>
          ))}
        </select>
      </label>{' '}
      <button type="button" disabled={scenario === ''} onClick={() => open(scenario)}>
        Open
      </button>
    </span>
  );
}

function Clock() {
  const ms = Math.floor(usePlayground(shownClock)); // the millisecond the events have reached or will next
  const scrubbed = usePlayground((s) => s.scrubMs !== null);
  return (
    <span className="clock" role="timer" data-testid="clock" data-ms={ms} aria-label={`virtual time ${(ms / 1000).toFixed(3)} seconds`}>
      {scrubbed && <span className="past">past </span>}
      {(ms / 1000).toFixed(3)} s
    </span>
  );
}

const NO_VIOLATIONS: readonly Violation[] = [];

/** Attached to a real cluster: say so, and what the clock and the buttons mean there. */
function RealBanner() {
  const nodes = usePlayground((s) => s.view?.nodes.length ?? 0);
  return (
    <p className="real-banner" role="note" data-testid="real-banner">
      <strong>A real cluster:</strong> {nodes} <code>raft-playground node</code> processes on this machine, each with its own disk, talking over TCP
      through fault proxies. The clock is wall time; Crash kills a process (SIGKILL), Partition and Heal cut and mend the proxies, Put writes to
      the leader.{' '}
      <button type="button" onClick={downloadScenario}>
        Export the record
      </button>
    </p>
  );
}

function Description() {
  const description = usePlayground((s) => s.description);
  return description ? (
    <p className="description" data-testid="description">
      {description}
    </p>
  ) : null;
}

function SafetyAlarm() {
  const violations = usePlayground((s) => s.view?.violations ?? NO_VIOLATIONS);
  if (violations.length === 0) return null;
  return (
    <div role="alert" className="alarm" data-testid="safety-alarm">
      <strong>Safety broken.</strong> The checker found {violations.length === 1 ? 'a violation' : `${violations.length} violations`}:{' '}
      {violations.slice(0, 2).map((v, i) => (
        <span key={i}>
          {v.invariant} at {(v.t / 1000).toFixed(3)} s: {v.message}.{' '}
        </span>
      ))}
    </div>
  );
}

/** Back through the run's history; acting in the past forks the run from there. */
function Scrubber() {
  const first = usePlayground((s) => s.history[0]?.nowMs ?? 0);
  const last = usePlayground((s) => s.view?.nowMs ?? 0);
  const shown = usePlayground(shownClock);
  const scrubbed = usePlayground((s) => s.scrubMs !== null);
  return (
    <div className="scrubber">
      <label>
        History{' '}
        <input
          type="range"
          aria-label="History"
          min={first}
          max={Math.max(first, last)}
          step={1}
          value={Math.min(Math.floor(shown), last)}
          aria-valuetext={`${(shown / 1000).toFixed(3)} seconds${scrubbed ? ' (the past)' : ''}`}
          onChange={(event) => usePlayground.getState().scrubTo(Number(event.target.value))}
        />
      </label>
      {scrubbed && (
        <button type="button" onClick={() => usePlayground.getState().scrubTo(null)}>
          Back to now
        </button>
      )}
      {scrubbed && <span className="hint">Acting now forks the run from this moment.</span>}
    </div>
  );
}

/** The trace hash of the run so far: a replay of the same seed and actions gives the same, here and in the CLI (SPEC §2). */
function TraceFingerprint() {
  const [hash, setHash] = useState<string | null>(null);
  const seed = usePlayground((s) => s.seed);
  useEffect(() => setHash(null), [seed]);
  return (
    <p className="facts advanced">
      <button
        type="button"
        className="link"
        onClick={async () => {
          const cluster = liveCluster();
          if (cluster) setHash((await cluster.result()).traceHash);
        }}
      >
        Trace fingerprint
      </button>{' '}
      {hash && <code data-testid="trace-hash">{hash}</code>}
    </p>
  );
}
