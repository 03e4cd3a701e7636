import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { liveCluster, usePlayground } from '../playground/store.ts';
import type { Action } from '../playground/live-cluster.ts';
import type { SimResult } from '../sim/simulation.ts';
import { App } from './app.tsx';
import type { SpaceTimeScene } from './space-time-model.ts';
import { drawnSpaceTime } from './space-time.tsx';

const container = document.getElementById('root');
if (!container) throw new Error('index.html has no #root element');

/** Automation hooks (SPEC §7, documented in the README): for scripts that need more than the DOM shows. */
declare global {
  interface Window {
    raftPlayground: {
      /** SPEC §4's result for the run so far (trace hash, nodes, violations); paused, up to the clock shown. */
      result(): Promise<SimResult | null>;
      /** The run so far as a scenario file. */
      exportScenario(): string;
      /** The virtual time the cluster has reached. */
      nowMs(): number;
      /** Do a scenario action now, as the controls do (recorded in the run). */
      act(action: Action): Promise<void>;
      /** Run `ms` of virtual time at once from the clock shown, as +1 s does for 1000. */
      advance(ms: number): Promise<void>;
      /** What the space-time diagram drew last (null when it is not open), in the canvas's CSS pixels. */
      spaceTime(): SpaceTimeScene | null;
    };
  }
}

window.raftPlayground = {
  result: async () => {
    for (;;) {
      await usePlayground.getState().settle();
      const cluster = liveCluster();
      if (!cluster) return null; // starting: there is no run yet
      try {
        return await cluster.result();
      } catch (error) {
        // Replaced meanwhile (an import, a Reset): its workers stopped under the call. Ask the run now showing.
        if (liveCluster() === cluster) throw error;
      }
    }
  },
  exportScenario: () => usePlayground.getState().exportScenario(),
  nowMs: () => liveCluster()?.nowMs ?? 0,
  act: (action) => usePlayground.getState().act(action),
  advance: (ms) => usePlayground.getState().fastForward(ms),
  spaceTime: drawnSpaceTime,
};

createRoot(container).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
