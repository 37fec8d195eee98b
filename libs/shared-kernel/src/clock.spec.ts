// Proves the simulated clock moves only when told and never backwards.
import { SimulatedClock } from './clock';
import { DomainError } from './errors';

describe('SimulatedClock', () => {
  it('stands still until advanced or set', () => {
    const clock = new SimulatedClock(new Date('2026-03-10T00:00:00Z'));
    expect(clock.now().toISOString()).toBe('2026-03-10T00:00:00.000Z');
    expect(clock.advance(90_000).toISOString()).toBe('2026-03-10T00:01:30.000Z');
    expect(clock.set(new Date('2026-03-11T00:00:00Z')).toISOString()).toBe('2026-03-11T00:00:00.000Z');
  });

  it.each([
    ['backwards', (c: SimulatedClock) => c.set(new Date('2026-03-09T00:00:00Z')), 'SIM.CLOCK_BACKWARDS'],
    ['negative advance', (c: SimulatedClock) => c.advance(-1), 'SIM.INVALID_ADVANCE'],
    ['fractional advance', (c: SimulatedClock) => c.advance(1.5), 'SIM.INVALID_ADVANCE'],
    ['invalid date', (c: SimulatedClock) => c.set(new Date('nope')), 'SIM.INVALID_TIME'],
  ])('refuses %s and stays put', (_name, act, code) => {
    const clock = new SimulatedClock(new Date('2026-03-10T00:00:00Z'));
    expect(() => act(clock)).toThrow(expect.objectContaining({ code }) as DomainError);
    expect(clock.now().toISOString()).toBe('2026-03-10T00:00:00.000Z');
  });
});
