// A one-line progress display on stderr (events, events/s, ETA), redrawn with \r at most every 250 ms, and only
// on a terminal: piped or redirected output stays quiet. No progress-bar library is installed; this is the
// smallest thing that does the job (cli-progress would be the one to add).

export interface Progress {
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
  const started = Date.now();
  let last = 0;
  let drawn = false;
  return {
    tick(count, done) {
      const now = Date.now();
      if (now - last < 250) return;
      last = now;
      const seconds = (now - started) / 1000;
      const rate = seconds > 0 ? Math.round(count / seconds) : 0;
      let tail = '';
      if (total !== null && total > 0 && done > 0) {
        const fraction = Math.min(1, done / total);
        const eta = fraction > 0 ? Math.max(0, Math.round(seconds / fraction - seconds)) : 0;
        const width = 24;
        const filled = Math.round(fraction * width);
        tail = ` [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(fraction * 100).toFixed(1)}% ETA ${eta}s`;
      }
      stream.write(
        `\r${label}: ${count.toLocaleString('en')} events, ${rate.toLocaleString('en')} events/s${tail}\x1b[K`,
      );
      drawn = true;
    },
    end() {
      if (drawn) stream.write('\r\x1b[K');
    },
  };
};
