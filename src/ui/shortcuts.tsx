// Keyboard shortcuts for a lecture: one key per move (pause, step, crash the selected node, partition it, heal,
// write), and an overlay listing them, opened with `?`. The key map is in controls-model.ts.
import { useEffect, useRef } from 'react';
import { create } from 'zustand';
import { SPEEDS, shownView, usePlayground } from '../playground/store.ts';
import { availability, chosenNode, commandForKey, SHORTCUTS, stepSpeed, type ShortcutCommand } from './controls-model.ts';
import { downloadScenario, runActions } from './controls.tsx';
import { isolateGroups } from './ring-geometry.ts';
import './controls.css';

const useOverlay = create<{ open: boolean }>()(() => ({ open: false }));

function setOverlayOpen(open: boolean): void {
  useOverlay.setState({ open });
}

/** Numbers the keys `w` writes: k1=1, k2=2, … */
let writeCount = 0;

/** Typing in a field is not a shortcut. */
function isTypingTarget(target: EventTarget | null): boolean {
  if (!(target instanceof Element)) return false;
  if (target instanceof HTMLElement && target.isContentEditable) return true;
  return target.closest('input, select, textarea') !== null;
}

/** Space on a focused button presses that button; the shortcut must not also fire. */
function isPressable(target: EventTarget | null): boolean {
  return target instanceof Element && target.closest('button, summary, a[href], [role="button"]') !== null;
}

function perform(command: ShortcutCommand): void {
  const store = usePlayground.getState();
  const view = shownView(store);
  const node = chosenNode(store.selection, view);
  const can = availability(view, node, 'leader');
  const onNode = (allowed: boolean, why: string, run: (id: number) => void) => {
    if (node === null) return;
    if (!allowed) store.notify(`S${node} ${why}`);
    else run(node);
  };
  switch (command.kind) {
    case 'toggle-pause':
      store.setPaused(!store.paused);
      return;
    case 'step':
      void store.step();
      return;
    case 'speed':
      store.setSpeed(stepSpeed(store.speed, SPEEDS, command.direction));
      return;
    case 'select':
      if (view?.nodes.some((n) => n.id === command.node)) store.select({ kind: 'node', id: command.node });
      return;
    case 'crash':
      onNode(can.crash, 'is already down', (id) => void runActions([{ do: 'crash', node: id }]));
      return;
    case 'restart':
      onNode(can.restart, 'is up: nothing to restart', (id) => void runActions([{ do: 'restart', node: id }]));
      return;
    case 'timeout':
      onNode(can.timeout, 'has no election timer to run out', (id) => void runActions([{ do: 'timeout', node: id }]));
      return;
    case 'snapshot':
      onNode(can.snapshot, 'is down: it cannot take a snapshot', (id) => void runActions([{ do: 'snapshot', node: id }]));
      return;
    case 'partition':
      onNode(can.partition, 'cannot be cut off: there is no one else', (id) => {
        void runActions([{ do: 'partition', groups: isolateGroups(view?.nodes.map((n) => n.id) ?? [], id) }]);
      });
      return;
    case 'heal':
      void runActions([{ do: 'heal' }]);
      return;
    case 'put': {
      writeCount += 1;
      void runActions([{ do: 'put', key: `k${writeCount}`, value: String(writeCount), node: 'leader' }]);
      return;
    }
    case 'export':
      downloadScenario();
      return;
    case 'help':
      setOverlayOpen(!useOverlay.getState().open);
      return;
  }
}

/** Install the page's keyboard shortcuts (once, in the app). */
export function useShortcuts(): void {
  useEffect(() => {
    const onKeyDown = (event: KeyboardEvent) => {
      if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
      if (event.key === 'Escape') {
        if (useOverlay.getState().open) {
          event.preventDefault();
          setOverlayOpen(false);
        }
        return;
      }
      if (isTypingTarget(event.target)) return;
      const command = commandForKey(event.key);
      if (!command) return;
      if (command.kind === 'toggle-pause' && isPressable(event.target)) return;
      if (usePlayground.getState().status !== 'running' && command.kind !== 'help') return;
      event.preventDefault();
      perform(command);
    };
    window.addEventListener('keydown', onKeyDown);
    return () => window.removeEventListener('keydown', onKeyDown);
  }, []);
}

/** The list of shortcuts, shown when `?` is pressed; Escape, `?` or Close hides it. */
export function ShortcutsOverlay() {
  const open = useOverlay((s) => s.open);
  const closeButton = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (!open) return;
    // Focus goes to the dialog and comes back to where it was.
    const before = document.activeElement;
    closeButton.current?.focus();
    return () => {
      if (before instanceof HTMLElement || before instanceof SVGElement) before.focus();
    };
  }, [open]);

  if (!open) return null;
  return (
    <div className="shortcuts-backdrop" onClick={() => setOverlayOpen(false)}>
      <div
        className="shortcuts-overlay"
        role="dialog"
        aria-modal="true"
        aria-label="Keyboard shortcuts"
        onClick={(event) => event.stopPropagation()}
        onKeyDown={(event) => {
          if (event.key === 'Escape') setOverlayOpen(false);
          // Close is the dialog's one control: Tab stays on it rather than wandering the page behind.
          if (event.key === 'Tab') {
            event.preventDefault();
            closeButton.current?.focus();
          }
        }}
      >
        <h2>Keyboard shortcuts</h2>
        <table>
          <tbody>
            {SHORTCUTS.map(({ keys, does }) => (
              <tr key={does}>
                <th scope="row">
                  {keys.map((key, i) =>
                    key === '…' ? (
                      <span key={i}> … </span>
                    ) : (
                      <kbd key={i}>{key}</kbd>
                    ),
                  )}
                </th>
                <td>{does}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <p className="hint">Keys act on the selected node (click it, or press its number); with none selected, on the leader.</p>
        <button type="button" ref={closeButton} onClick={() => setOverlayOpen(false)}>
          Close
        </button>
      </div>
    </div>
  );
}
