import { DomainError } from './errors';

// The clock port. Domain code never reads time: handlers read the clock and put `now` on the command.
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/**
 * A clock that moves only when told (CX_CLOCK=simulated). It never goes backwards, because every rule that
 * compares instants (notice periods, cut-offs, expiries) assumes time is monotonic.
 */
export class SimulatedClock implements Clock {
  private current: number;

  constructor(start: Date) {
    this.current = start.getTime();
  }

  now(): Date {
    return new Date(this.current);
  }

  set(to: Date): Date {
    if (Number.isNaN(to.getTime())) throw DomainError.invalid('SIM.INVALID_TIME', 'time is not a valid instant', 'to');
    if (to.getTime() < this.current) {
      throw DomainError.invalid('SIM.CLOCK_BACKWARDS', 'the simulated clock never goes backwards', 'to');
    }
    this.current = to.getTime();
    return this.now();
  }

  advance(ms: number): Date {
    if (!Number.isSafeInteger(ms) || ms < 0) {
      throw DomainError.invalid('SIM.INVALID_ADVANCE', 'advanceMs must be a non-negative integer', 'advanceMs');
    }
    return this.set(new Date(this.current + ms));
  }
}

export const isSimulatedClock = (clock: Clock): clock is SimulatedClock => clock instanceof SimulatedClock;

// Injection token for the Clock port, a plain string so that nothing here depends on a framework.
export const CLOCK = 'cx.Clock';
