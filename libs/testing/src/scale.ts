// Heavy tests take their sizes from CX_TEST_SCALE: 1 is full size (`npm run soak`); CI runs a small fraction
// through the same code paths.
export const testScale = (): number => {
  const raw = process.env.CX_TEST_SCALE;
  if (raw === undefined || raw === '') return process.env.CI ? 0.02 : 0.1;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0 || n > 1) throw new Error(`CX_TEST_SCALE must be in (0, 1], got "${raw}"`);
  return n;
};

/** A size for a heavy test: the full size scaled, never below `min`. */
export const scaled = (full: number, min = 1): number => Math.max(min, Math.round(full * testScale()));
