import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { PricingGuidanceService } from '@cx/pricing-guidance';
import { SimulatedClock } from '@cx/shared-kernel';
import { startEmbedded } from '../../apps/exchange/src/testing/embedded-app';

// The embedded exchange as `npm start` runs it (every module, hash-chained store, the console served at /), in
// the test's own process on a real SQLite file and real HTTP, on a simulated clock the test moves.

export interface ConsoleExchange {
  app: NestFastifyApplication;
  url: string;
  clock: SimulatedClock;
  adminKey: string;
  /** Moves the simulated clock and records a guidance heartbeat at the new instant. */
  moveTo(iso: string): Promise<void>;
}

export const startConsoleExchange = async (
  file: string,
  consoleRoot: string,
  t0: Date,
  opts: { port?: number } = {},
): Promise<ConsoleExchange> => {
  const clock = new SimulatedClock(t0);
  const x = await startEmbedded(file, clock, { console: { root: consoleRoot }, ...opts });
  if (x.adminKey === null) throw new Error('a fresh store must create the first admin key');
  const guidance = x.app.get(PricingGuidanceService);
  return {
    app: x.app,
    url: x.url,
    clock,
    adminKey: x.adminKey,
    moveTo: async (iso) => {
      clock.set(new Date(iso));
      await guidance.heartbeat();
    },
  };
};
