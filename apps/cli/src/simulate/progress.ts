import { SingleBar } from 'cli-progress';

// The simulation's progress on stderr, drawn by cli-progress: steps done of the steps planned, the simulated time
// and the phase. Only on a terminal: piped or redirected output (CI, --json into a file) stays free of control
// characters.

export interface StoryProgress {
  /** The phase and the simulated clock shown beside the bar. */
  phase(label: string, simTime?: string): void;
  tick(steps?: number): void;
  /** More steps than planned (usage rounds are known only once the trades are). */
  grow(steps: number): void;
  stop(): void;
}

export const quietProgress: StoryProgress = {
  phase: () => undefined,
  tick: () => undefined,
  grow: () => undefined,
  stop: () => undefined,
};

export const storyProgress = (total: number, stream: NodeJS.WriteStream = process.stderr): StoryProgress => {
  if (!stream.isTTY) return quietProgress;
  const bar = new SingleBar({
    stream,
    format: 'simulate [{bar}] {percentage}% | {sim} | {phase}',
    barsize: 28,
    hideCursor: true,
    clearOnComplete: true,
    fps: 8,
  });
  let size = Math.max(1, total);
  let done = 0;
  let labels = { phase: 'starting', sim: '' };
  bar.start(size, 0, labels);
  return {
    phase(label, simTime) {
      labels = { phase: label, sim: simTime ?? labels.sim };
      bar.update(done, labels);
    },
    tick(steps = 1) {
      done = Math.min(size, done + steps);
      bar.update(done, labels);
    },
    grow(steps) {
      size += steps;
      bar.setTotal(size);
    },
    stop() {
      bar.stop();
    },
  };
};
