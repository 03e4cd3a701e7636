// The toolbar (time, the run, faults on a node, client requests, files) and the settings panel. Real buttons
// and inputs with the accessible names of SPEC §7, so that people and Playwright drive the page alike. Every
// control turns into a scenario action (store.act), so whatever is done here replays from the export.
import { useEffect, useRef, useState, type ReactNode } from 'react';
import { create } from 'zustand';
import type { NodeId } from '../core/types.ts';
import type { LessonScenario } from '../lessons/lesson-plan.ts';
import type { Action } from '../playground/live-cluster.ts';
import { useLesson } from '../playground/lesson-store.ts';
import { SPEEDS, shownSummary, usePlayground, type ClusterSummary } from '../playground/store.ts';
import { READ_MODE_NAMES } from '../sim/explain.ts';
import { NODES_MAX, parseScenarioText, READ_MODES, type ReadMode, type SimConfig } from '../sim/scenario.ts';
import { availability, chosenNode, formatSpeed, parsePayload, scenarioFileName, speedIndex, timingActions, timingProblem } from './controls-model.ts';
import { isolateGroups } from './ring-geometry.ts';
import { encodeScenarioLink } from './scenario-link.ts';
import './controls.css';

/** What one press of the fast-forward button runs (virtual ms). */
const FAST_FORWARD_MS = 1000;
/** A claimed task stays with its worker this long unless acked (virtual ms). */
const CLAIM_LEASE_MS = 5000;
/** A slider's value is applied once it has rested this long (wall ms), so that a drag makes one action. */
const SLIDER_SETTLE_MS = 300;
/** The latency slider sets [value, value + LATENCY_SPREAD_MS]. */
const LATENCY_SPREAD_MS = 5;
const LATENCY_SLIDER_MAX_MS = 200;

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Do actions in order; a failure becomes a notice rather than an unhandled rejection. */
export async function runActions(actions: readonly Action[]): Promise<void> {
  const store = usePlayground.getState();
  try {
    for (const action of actions) await store.act(action);
  } catch (error) {
    store.notify(`That did not work: ${errorText(error)}`);
  }
}

/** Save the run so far as `raft-playground-seed{seed}.json` (attached to a real cluster: its record). */
export function downloadScenario(): void {
  const store = usePlayground.getState();
  let text: string;
  try {
    text = store.exportScenario();
  } catch (error) {
    store.notify(`Export failed: ${errorText(error)}`);
    return;
  }
  downloadText(text, store.real ? 'raft-playground-real-cluster.json' : scenarioFileName(store.seed));
}

/** Offer `content` as a download named `name` (a scenario, lesson or history file, a picture). */
export function downloadText(content: string | Blob, name: string): void {
  const url = URL.createObjectURL(typeof content === 'string' ? new Blob([content], { type: 'application/json' }) : content);
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** Put the run in the address bar as `#scenario=…` and copy the address. */
export async function shareLink(): Promise<void> {
  const store = usePlayground.getState();
  let text: string;
  try {
    text = store.exportScenario();
  } catch (error) {
    store.notify(`Share failed: ${errorText(error)}`);
    return;
  }
  // replaceState sets the hash without a hashchange event: the page keeps running instead of reloading the link.
  history.replaceState(history.state, '', `#scenario=${encodeScenarioLink(text)}`);
  try {
    await navigator.clipboard?.writeText(location.href);
  } catch {
    // No clipboard (permissions, an insecure origin): the link is in the address bar all the same.
  }
  store.notify('Link copied');
}

function nodeOptionLabel(view: ClusterSummary, id: NodeId): string {
  const node = view.nodes.find((n) => n.id === id);
  if (!node) return `S${id}`;
  if (node.status === 'down') return `S${id} (down)`;
  return node.role === 'follower' ? `S${id}` : `S${id} (${node.role})`;
}

function Group({ label, children, className }: { label: string; children: ReactNode; className?: string }) {
  return (
    <fieldset className={`control-group${className ? ` ${className}` : ''}`}>
      <legend>{label}</legend>
      {children}
    </fieldset>
  );
}

/** What the controls need of the view shown, and whether the cluster can take actions now. */
function useRunning(): { view: ClusterSummary | null; running: boolean } {
  const view = usePlayground(shownSummary);
  const status = usePlayground((s) => s.status);
  return { view, running: status === 'running' && view !== null };
}

/** Pause / Resume, Step, Speed. */
export function PaceControls() {
  const { running } = useRunning();
  const paused = usePlayground((s) => s.paused);
  const speed = usePlayground((s) => s.speed);
  return (
    <Group label="Pace">
      <button type="button" className="primary" onClick={() => usePlayground.getState().setPaused(!paused)} disabled={!running}>
        {paused ? 'Resume' : 'Pause'}
      </button>
      <button type="button" onClick={() => void usePlayground.getState().step()} disabled={!running} title="Run up to the next moment anything happens">
        Step
      </button>
      <button type="button" onClick={() => void usePlayground.getState().fastForward(FAST_FORWARD_MS)} disabled={!running} title="Run one second of virtual time at once">
        +1 s
      </button>
      <span className="speed">
        <label htmlFor="control-speed">Speed</label>
        <input
          id="control-speed"
          type="range"
          aria-label="Speed"
          aria-valuetext={formatSpeed(speed)}
          min={0}
          max={SPEEDS.length - 1}
          step={1}
          value={speedIndex(speed, SPEEDS)}
          onChange={(event) => usePlayground.getState().setSpeed(SPEEDS[Number(event.target.value)]!)}
        />
        <output htmlFor="control-speed" className="speed-value">
          {formatSpeed(speed)}
        </output>
      </span>
    </Group>
  );
}

/** Seed, Nodes, Reset. */
export function RunControls() {
  const status = usePlayground((s) => s.status);
  const storeSeed = usePlayground((s) => s.seed);
  const storeNodes = usePlayground((s) => s.nodes);
  const [seed, setSeed] = useState(String(storeSeed));
  const [nodes, setNodes] = useState(String(storeNodes));
  // A new run (an import, a link) brings its own seed and size.
  useEffect(() => setSeed(String(storeSeed)), [storeSeed]);
  useEffect(() => setNodes(String(storeNodes)), [storeNodes]);
  const seedValue = Number(seed);
  const nodesValue = Number(nodes);
  const resetValid = seed.trim() !== '' && Number.isSafeInteger(seedValue) && seedValue >= 0 && Number.isInteger(nodesValue) && nodesValue >= 1 && nodesValue <= NODES_MAX;
  const reset = () => {
    const store = usePlayground.getState();
    void store.start({ seed: seedValue, nodes: nodesValue, ...(store.config ? { config: store.config } : {}), paused: store.paused });
  };
  return (
    <Group label="Run" className="advanced">
      <label>
        Seed
        <input aria-label="Seed" type="number" className="narrow" min={0} step={1} value={seed} onChange={(event) => setSeed(event.target.value)} />
      </label>
      <label>
        Nodes
        <input aria-label="Nodes" type="number" className="tiny" min={1} max={NODES_MAX} step={1} value={nodes} onChange={(event) => setNodes(event.target.value)} />
      </label>
      <button type="button" onClick={reset} disabled={!resetValid || status === 'starting'} title="Start again with this seed and size, keeping the settings">
        Reset
      </button>
    </Group>
  );
}

/** Faults and admin actions on the chosen node. */
export function NodeControls() {
  const { view, running } = useRunning();
  const selection = usePlayground((s) => s.selection);
  const chosen = chosenNode(selection, view);
  const can = availability(view, chosen, 'leader');
  const ids = view?.nodes.map((n) => n.id) ?? [];
  const onNode = (make: (id: NodeId) => Action) => () => {
    if (chosen !== null) void runActions([make(chosen)]);
  };
  return (
    <Group label="Faults">
      <label>
        Node
        <select
          aria-label="Node"
          value={chosen ?? ''}
          disabled={!running}
          onChange={(event) => usePlayground.getState().select({ kind: 'node', id: Number(event.target.value) })}
        >
          {view?.nodes.map((n) => (
            <option key={n.id} value={n.id}>
              {nodeOptionLabel(view, n.id)}
            </option>
          ))}
        </select>
      </label>
      <button type="button" className="danger" onClick={onNode((node) => ({ do: 'crash', node }))} disabled={!running || !can.crash}>
        Crash
      </button>
      <button type="button" onClick={onNode((node) => ({ do: 'restart', node }))} disabled={!running || !can.restart}>
        Restart
      </button>
      <button type="button" onClick={onNode((node) => ({ do: 'timeout', node }))} disabled={!running || !can.timeout} title="Force its election timeout: it starts an election now">
        Time out
      </button>
      <button type="button" className="advanced" onClick={onNode((node) => ({ do: 'snapshot', node }))} disabled={!running || !can.snapshot} title="Compact its log into a snapshot">
        Snapshot
      </button>
      <button
        type="button"
        className="advanced"
        onClick={onNode((to) => ({ do: 'transfer', to }))}
        disabled={!running || !can.transfer}
        aria-label="Transfer leadership"
        title="Transfer leadership: ask the leader to hand it to this node"
      >
        Transfer
      </button>
      <button
        type="button"
        onClick={onNode((node) => ({ do: 'partition', groups: isolateGroups(ids, node) }))}
        disabled={!running || !can.partition}
        title="Cut this node off from all the others"
      >
        Partition
      </button>
      <button type="button" onClick={() => void runActions([{ do: 'heal' }])} disabled={!running || !can.heal} title="Mend every cut link">
        Heal
      </button>
    </Group>
  );
}

/** Where client requests go: the leader, or a chosen node (which refuses unless it leads). */
const useClientTarget = create<{ readonly target: 'leader' | NodeId; setTarget(target: 'leader' | NodeId): void }>()((set) => ({
  target: 'leader',
  setTarget: (target) => set({ target }),
}));

/** What a client request needs: the target that exists now, whether it can be sent, and a sender. */
function useClientRequest() {
  const { view, running } = useRunning();
  const selection = usePlayground((s) => s.selection);
  const target = useClientTarget((s) => s.target);
  const targetExists = target === 'leader' || (view?.nodes.some((n) => n.id === target) ?? false);
  const effectiveTarget = targetExists ? target : 'leader';
  const can = availability(view, chosenNode(selection, view), effectiveTarget);
  const request = (make: (node: 'leader' | NodeId) => Action) => () => void runActions([make(effectiveTarget)]);
  return { view, running, effectiveTarget, sendable: running && can.request, request };
}

/** Key-value requests, to the leader or a chosen node. */
export function ClientControls() {
  const { view, running, effectiveTarget, sendable, request } = useClientRequest();
  const setTarget = useClientTarget((s) => s.setTarget);
  const [key, setKey] = useState('x');
  const [value, setValue] = useState('1');
  return (
    <Group label="Client" className="client">
      <div className="control-row">
        <label>
          Target
          <select
            aria-label="Target"
            value={effectiveTarget === 'leader' ? 'leader' : String(effectiveTarget)}
            disabled={!running}
            onChange={(event) => setTarget(event.target.value === 'leader' ? 'leader' : Number(event.target.value))}
          >
            <option value="leader">Leader</option>
            {view?.nodes.map((n) => (
              <option key={n.id} value={n.id}>
                {nodeOptionLabel(view, n.id)}
              </option>
            ))}
          </select>
        </label>
        <label>
          Key
          <input aria-label="Key" className="tiny" value={key} onChange={(event) => setKey(event.target.value)} />
        </label>
        <label>
          Value
          <input aria-label="Value" className="tiny" value={value} onChange={(event) => setValue(event.target.value)} />
        </label>
        <button type="button" onClick={request((node) => ({ do: 'put', key, value, node }))} disabled={!sendable || key === ''}>
          Put
        </button>
        <button type="button" onClick={request((node) => ({ do: 'get', key, node }))} disabled={!sendable || key === ''}>
          Get
        </button>
        <button type="button" className="advanced" onClick={request((node) => ({ do: 'delete', key, node }))} disabled={!sendable || key === ''}>
          Delete
        </button>
      </div>
    </Group>
  );
}

/** Task-queue requests, to the same target as the key-value ones; shown beside the queues they change. */
export function QueueControls() {
  const { sendable, request } = useClientRequest();
  const [queue, setQueue] = useState('jobs');
  const [payload, setPayload] = useState('hello');
  const [worker, setWorker] = useState('w1');
  const [task, setTask] = useState('1');
  const taskValue = Number(task);
  const taskValid = task.trim() !== '' && Number.isSafeInteger(taskValue) && taskValue >= 0;
  return (
    <div className="controls queue-controls">
      <Group label="Task queue">
        <label>
          Queue
          <input aria-label="Queue" className="tiny" value={queue} onChange={(event) => setQueue(event.target.value)} />
        </label>
        <label>
          Payload
          <input aria-label="Payload" className="tiny" value={payload} onChange={(event) => setPayload(event.target.value)} />
        </label>
        <button
          type="button"
          onClick={request((node) => ({ do: 'enqueue', queue, payload: parsePayload(payload), node }))}
          disabled={!sendable || queue === ''}
        >
          Enqueue
        </button>
        <label>
          Worker
          <input aria-label="Worker" className="tiny" value={worker} onChange={(event) => setWorker(event.target.value)} />
        </label>
        <button
          type="button"
          onClick={request((node) => ({ do: 'claim', queue, worker, leaseMs: CLAIM_LEASE_MS, node }))}
          disabled={!sendable || queue === '' || worker === ''}
          title={`Claim the next task for this worker, leased for ${CLAIM_LEASE_MS / 1000} s`}
        >
          Claim
        </button>
        <label>
          Task
          <input aria-label="Task" type="number" className="tiny" min={0} step={1} value={task} onChange={(event) => setTask(event.target.value)} />
        </label>
        <button type="button" onClick={request((node) => ({ do: 'ack', queue, task: taskValue, node }))} disabled={!sendable || !taskValid}>
          Ack
        </button>
        <button type="button" onClick={request((node) => ({ do: 'nack', queue, task: taskValue, node }))} disabled={!sendable || !taskValid}>
          Nack
        </button>
      </Group>
    </div>
  );
}

/** Export, Import, Share link. */
export function ScenarioControls() {
  const { running } = useRunning();
  const fileInput = useRef<HTMLInputElement>(null);
  const importFile = async (file: File) => {
    try {
      const text = await file.text();
      // A lesson file opens in the lesson player; any other scenario replays.
      const lesson = lessonIn(text);
      if (lesson) await useLesson.getState().openFile(lesson);
      else await usePlayground.getState().importScenario(text);
    } catch (error) {
      usePlayground.getState().notify(`Import failed: ${errorText(error)}`);
    }
  };
  return (
    <Group label="Scenario" className="advanced">
      <button type="button" onClick={downloadScenario} disabled={!running}>
        Export
      </button>
      <button type="button" onClick={() => fileInput.current?.click()}>
        Import
      </button>
      <input
        ref={fileInput}
        type="file"
        accept=".json,application/json"
        hidden
        data-testid="import-file"
        onChange={(event) => {
          const file = event.target.files?.[0];
          event.target.value = '';
          if (file) void importFile(file);
        }}
      />
      <button type="button" onClick={() => void shareLink()} disabled={!running}>
        Share link
      </button>
    </Group>
  );
}

// ---- Settings -------------------------------------------------------------------------------------------------

/**
 * A value edited locally and applied once it settles: shows the draft while the user drags or types (and until
 * the change has been applied), and the store's value otherwise.
 */
function useSettled<T>(current: T, apply: (value: T) => Promise<void> | void, delayMs = SLIDER_SETTLE_MS): [T, (value: T) => void] {
  const [draft, setDraft] = useState<{ value: T } | null>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const latestApply = useRef(apply);
  latestApply.current = apply;
  useEffect(
    () => () => {
      if (timer.current) clearTimeout(timer.current);
    },
    [],
  );
  const change = (value: T) => {
    const mine = { value };
    setDraft(mine);
    if (timer.current) clearTimeout(timer.current);
    timer.current = setTimeout(() => {
      timer.current = null;
      void Promise.resolve(latestApply.current(value)).finally(() => setDraft((now) => (now === mine ? null : now)));
    }, delayMs);
  };
  return [draft ? draft.value : current, change];
}

function setConfig<K extends keyof SimConfig>(key: K, value: SimConfig[K]): Promise<void> {
  return runActions([{ do: 'set', key, value }]);
}

/** Switches and choices show the new value at once, while the `set` action runs. */
function useOptimisticConfig(config: SimConfig | null) {
  const [pending, setPending] = useState<Partial<SimConfig>>({});
  const shown = <K extends keyof SimConfig>(key: K, fallback: SimConfig[K]): SimConfig[K] =>
    key in pending ? (pending[key] as SimConfig[K]) : (config?.[key] ?? fallback);
  const change = <K extends keyof SimConfig>(key: K, value: SimConfig[K]) => {
    setPending((now) => ({ ...now, [key]: value }));
    void setConfig(key, value).finally(() =>
      setPending((now) => {
        const rest = { ...now };
        delete rest[key];
        return rest;
      }),
    );
  };
  return { shown, change };
}

const TEACHING_SWITCHES = [
  { key: 'unsafeSkipVoteRestriction', label: 'Break: vote without the up-to-date log check (§5.4.1)' },
  { key: 'unsafeCommitPreviousTerms', label: "Break: commit an earlier term's entries by counting copies (§5.4.2, Figure 8)" },
  { key: 'unsafeForgetVoteOnRestart', label: 'Break: forget the vote on restart (§5.2: votedFor must survive a crash)' },
] as const satisfies readonly { key: keyof SimConfig; label: string }[];

/** The run's settings; `children` (the trace fingerprint) go at the end. */
export function ClusterSettings({ children }: { readonly children?: ReactNode }) {
  const config = usePlayground((s) => s.config);
  const view = usePlayground(shownSummary);
  const selection = usePlayground((s) => s.selection);
  const status = usePlayground((s) => s.status);
  const enabled = status === 'running' && config !== null;
  const chosen = chosenNode(selection, view);
  const can = availability(view, chosen, 'leader');
  const setting = useOptimisticConfig(config);

  const [latency, setLatency] = useSettled(config?.latencyMs[0] ?? 10, (v) => setConfig('latencyMs', [v, v + LATENCY_SPREAD_MS]));
  const [loss, setLoss] = useSettled(Math.round((config?.lossRatio ?? 0) * 100), (v) => setConfig('lossRatio', v / 100));
  const [duplicates, setDuplicates] = useSettled(Math.round((config?.duplicateRatio ?? 0) * 100), (v) => setConfig('duplicateRatio', v / 100));
  const [snapshotEvery, setSnapshotEvery] = useSettled(String(config?.snapshotEveryEntries ?? 0), (v) => {
    const n = Number(v);
    if (v.trim() !== '' && Number.isSafeInteger(n) && n >= 0) return setConfig('snapshotEveryEntries', n);
  }, 600);

  // Timing is applied as a whole with a button: its three numbers are only valid together.
  const [timing, setTiming] = useState<{ min: string; max: string; heartbeat: string } | null>(null);
  const shownTiming = timing ?? {
    min: String(config?.electionTimeoutMs[0] ?? ''),
    max: String(config?.electionTimeoutMs[1] ?? ''),
    heartbeat: String(config?.heartbeatMs ?? ''),
  };
  const nextTiming = { electionTimeoutMs: [Number(shownTiming.min), Number(shownTiming.max)] as const, heartbeatMs: Number(shownTiming.heartbeat) };
  const problem = timing ? timingProblem(nextTiming.electionTimeoutMs, nextTiming.heartbeatMs) : null;
  const applyTiming = () => {
    if (!config || problem) return;
    void runActions(timingActions(config, nextTiming)).then(() => setTiming(null));
  };

  const latencyShown = config && latency === config.latencyMs[0] ? config.latencyMs : [latency, latency + LATENCY_SPREAD_MS];

  return (
    <details className="cluster-settings">
      <summary>Cluster settings</summary>
      <div className="settings-body">
        <Group label="Network">
          <label className="slider">
            <span>Latency</span>
            <input type="range" aria-label="Latency" aria-valuetext={`${latencyShown[0]} to ${latencyShown[1]} ms`} min={0} max={LATENCY_SLIDER_MAX_MS} step={1} value={latency} disabled={!enabled} onChange={(event) => setLatency(Number(event.target.value))} />
            <output>
              {latencyShown[0]}–{latencyShown[1]} ms
            </output>
          </label>
          <label className="slider">
            <span>Loss</span>
            <input type="range" aria-label="Loss" aria-valuetext={`${loss}%`} min={0} max={50} step={1} value={loss} disabled={!enabled} onChange={(event) => setLoss(Number(event.target.value))} />
            <output>{loss}%</output>
          </label>
          <label className="slider">
            <span>Duplicates</span>
            <input type="range" aria-label="Duplicates" aria-valuetext={`${duplicates}%`} min={0} max={50} step={1} value={duplicates} disabled={!enabled} onChange={(event) => setDuplicates(Number(event.target.value))} />
            <output>{duplicates}%</output>
          </label>
        </Group>

        <Group label="Timing (ms)">
          {(
            [
              ['min', 'Election timeout min'],
              ['max', 'Election timeout max'],
              ['heartbeat', 'Heartbeat'],
            ] as const
          ).map(([field, name]) => (
            <label key={field}>
              {name}
              <input
                aria-label={name}
                type="number"
                className="narrow"
                min={1}
                value={shownTiming[field]}
                disabled={!enabled}
                onChange={(event) => setTiming({ ...shownTiming, [field]: event.target.value })}
                onKeyDown={(event) => event.key === 'Enter' && applyTiming()}
              />
            </label>
          ))}
          <button type="button" onClick={applyTiming} disabled={!enabled || timing === null || problem !== null}>
            Apply timing
          </button>
          <span className="problem" aria-live="polite">
            {problem ?? ''}
          </span>
        </Group>

        <Group label="Protocol">
          <label className="check">
            <input type="checkbox" checked={setting.shown('preVote', false)} disabled={!enabled} onChange={(event) => setting.change('preVote', event.target.checked)} />
            PreVote (§9.6: ask before raising the term)
          </label>
          <label className="check">
            <input type="checkbox" checked={setting.shown('checkQuorum', false)} disabled={!enabled} onChange={(event) => setting.change('checkQuorum', event.target.checked)} />
            CheckQuorum (§6.2: a leader that hears no majority steps down)
          </label>
          <label>
            Reads
            <select aria-label="Reads" value={setting.shown('readMode', 'read-index')} disabled={!enabled} onChange={(event) => setting.change('readMode', event.target.value as ReadMode)}>
              {READ_MODES.map((mode) => (
                <option key={mode} value={mode}>
                  {READ_MODE_NAMES[mode]}
                </option>
              ))}
            </select>
          </label>
          <label>
            Snapshot every (entries, 0 = never)
            <input aria-label="Snapshot every (entries, 0 = never)" type="number" className="tiny" min={0} step={1} value={snapshotEvery} disabled={!enabled} onChange={(event) => setSnapshotEvery(event.target.value)} />
          </label>
        </Group>

        <Group label="Teaching switches: each breaks one safety rule" className="teaching">
          {TEACHING_SWITCHES.map(({ key, label }) => (
            <label key={key} className="check warning">
              <input type="checkbox" checked={setting.shown(key, false)} disabled={!enabled} onChange={(event) => setting.change(key, event.target.checked)} />
              <span aria-hidden="true" className="warning-sign">
                ⚠
              </span>
              {label}
            </label>
          ))}
        </Group>

        <Group label="Membership">
          <button type="button" onClick={() => void runActions([{ do: 'add-node' }])} disabled={!enabled || !can.addNode}>
            Add node
          </button>
          <button
            type="button"
            onClick={() => chosen !== null && void runActions([{ do: 'remove-node', node: chosen }])}
            disabled={!enabled || !can.removeNode}
            aria-describedby="remove-node-which"
          >
            Remove node
          </button>
          <span id="remove-node-which" className="hint">
            {chosen !== null ? `removes S${chosen} (the node chosen in Faults)` : ''}
          </span>
          <span className="hint">Cluster size for a fresh run: Nodes, then Reset.</span>
        </Group>
        {children}
      </div>
    </details>
  );
}

/** The file as a lesson, when it reads and has a lesson block (else the scenario import reports its problem). */
function lessonIn(text: string): LessonScenario | null {
  try {
    const scenario = parseScenarioText(text);
    return scenario.lesson ? (scenario as LessonScenario) : null;
  } catch {
    return null;
  }
}
