import { readFileSync } from 'node:fs';
import { systemClock } from '@cx/shared-kernel';

// Test harness only, loaded with `node -r` before a distributed-mode process's main when CX_TEST_CLOCK_FILE is
// set: the process's clock port (the system clock the host hands to every module) reads the instant written in
// that file, so the five processes of a test cluster share one simulated clock that the test moves by rewriting
// the file. Distributed mode refuses CX_CLOCK=simulated (one clock per process); this gives a test the same
// control over time the embedded exchange's `POST /v1/sim/clock` gives, without touching production code.
// Only the cx clock moves: timers, Kafka clients and the store's `created` column keep the real time, exactly as
// in the embedded exchange on a simulated clock.

const file = process.env.CX_TEST_CLOCK_FILE;
if (file !== undefined && file !== '') {
  const read = (): Date => {
    const raw = readFileSync(file, 'utf8').trim();
    const ms = Date.parse(raw);
    if (!Number.isFinite(ms)) throw new Error(`CX_TEST_CLOCK_FILE ${file} holds no instant: "${raw}"`);
    return new Date(ms);
  };
  read(); // fail at boot, not at the first request
  // Read on every call: the test writes the file atomically (rename) and expects the next request to see it.
  (systemClock as { now: () => Date }).now = read;
}
