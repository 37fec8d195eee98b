import { SingleBar } from 'cli-progress';

// Progress of a long read (verify, replay) on stderr, drawn by cli-progress: events, events/s and, where the
// source knows its size, a bar with ETA. Only on a terminal: piped or redirected output stays quiet, so scripts
// and CI logs see no control characters.

export interface Progress {
  /** `count`: events read so far; `done`: how far through the source (events or bytes, like the total). */
  tick(count: number, done: number): void;
  end(): void;
}

export const noProgress: Progress = { tick: () => undefined, end: () => undefined };

export const terminalProgress = (
  label: string,
  total: number | null,
  stream: NodeJS.WriteStream = process.stderr,
): Progress => {
  if (!stream.isTTY) return noProgress;
  const known = total !== null && total > 0;
  const bar = new SingleBar({
    stream,
    format: known
      ? `${label} [{bar}] {percentage}% | {events} events | {rate} events/s | ETA {eta_formatted}`
      : `${label} | {events} events | {rate} events/s`,
    barsize: 24,
    hideCursor: true,
    clearOnComplete: true,
    // Redrawing costs; a few times a second is enough for a human.
    fps: 4,
    etaBuffer: 50,
  });
  const started = Date.now();
  bar.start(known ? total : 1, 0, { events: '0', rate: '0' });
  return {
    tick(count, done) {
      const seconds = (Date.now() - started) / 1000;
      const rate = seconds > 0 ? Math.round(count / seconds) : 0;
      bar.update(known ? Math.min(done, total) : 0, {
        events: count.toLocaleString('en'),
        rate: rate.toLocaleString('en'),
      });
    },
    end() {
      bar.stop();
    },
  };
};
