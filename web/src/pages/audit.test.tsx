// Proves the audit page's links from a verify report to the events behind it: a violation opens the explorer on
// its stream read from its position on, with its event singled out; and the explorer pages with the API's `after`
// cursor. The verification and the NDJSON lines are shaped as /v1/audit answers them (libs/audit/src/interface);
// fetch stands in for those requests and records what the page asked for.
import { cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Me } from '../api';
import { I18nProvider } from '../i18n';
import type { AuditEvent, Verification } from '../types';
import { AuditPage, PAGE_EVENTS, positionBefore } from './audit';

afterEach(() => {
  cleanup();
  sessionStorage.clear();
  vi.unstubAllGlobals();
});

const auditor: Me = { keyId: 'key-aud', role: 'auditor', accounts: [], expiresAt: null };
const ID = '7b0c4a55-8f7e-4f57-9a57-2d1c7f0f4e1a';

const running: Verification = {
  verificationId: ID,
  status: 'running',
  requestedBy: 'key-aud',
  startedAt: '2026-03-17T10:00:00.000Z',
  finishedAt: null,
  progress: { eventsChecked: 0, totalEvents: null, fraction: null },
  report: null,
  error: null,
};

const finished: Verification = {
  ...running,
  status: 'violations',
  finishedAt: '2026-03-17T10:00:01.000Z',
  progress: { eventsChecked: 120, totalEvents: 120, fraction: 1 },
  report: {
    clean: false,
    sources: ['store'],
    eventsChecked: 120,
    checkpointsChecked: 2,
    checkpointsSignedByTrustedKey: 2,
    trustedKeyIds: [],
    keyIdsSeen: ['cp-1'],
    keysPinned: false,
    rules: ['chain', 'floors', 'ledger'],
    violationCount: 1,
    violations: [
      {
        check: 'floor.trade_below_floor',
        stream: 'book-H100-CN-EAST-2026-03-15',
        revision: '4',
        position: '57/57',
        message: 'TradeExecuted at 17.50 below the floor 18.00 of nvidia-h100-sxm-80g.v1',
      },
    ],
    warnings: [],
    elapsedMs: 812,
  },
};

const event = (position: string, revision: number, type = 'TradeExecuted'): AuditEvent => ({
  position,
  stream: 'book-H100-CN-EAST-2026-03-15',
  revision: String(revision),
  id: `00000000-0000-4000-8000-${position.replace('/', '').padStart(12, '0')}`,
  type,
  data: { price: '17.50' },
  metadata: { correlationId: `corr-${position}`, actor: { keyId: 'k', role: 'trader' } },
  created: '2026-03-15T09:00:00.000Z',
});

const ndjson = (events: AuditEvent[]) =>
  new Response(events.map((e) => `${JSON.stringify(e)}\n`).join(''), {
    headers: { 'content-type': 'application/x-ndjson' },
  });

/** Answers the listed requests (method and path with query) and records every request the page made. */
const serve = (routes: Record<string, () => Response>): string[] => {
  const asked: string[] = [];
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string, init: RequestInit) => {
      const key = `${init.method ?? 'GET'} ${url}`;
      asked.push(key);
      const route = routes[key];
      return route === undefined ? new Response('{"code":"HTTP.404","message":"no route"}', { status: 404 }) : route();
    }),
  );
  return asked;
};

const page = () =>
  render(
    <I18nProvider>
      <AuditPage me={auditor} />
    </I18nProvider>,
  );

describe('positionBefore', () => {
  it.each([
    ['57/57', '57/56'],
    ['57', '57/56'],
    ['18446744073709551615/18446744073709551615', '18446744073709551615/18446744073709551614'],
    ['12/0', '11'],
    ['0/0', null],
    ['not-a-position', null],
  ])('%s → %s', (position, before) => {
    expect(positionBefore(position)).toBe(before);
  });
});

describe('a violation', () => {
  it('opens the explorer on its stream from its position, with its event singled out', async () => {
    const first = event('57/57', 4);
    const next = event('58/58', 5, 'OrderRested');
    const asked = serve({
      'POST /v1/audit/verifications': () => new Response(JSON.stringify(running), { status: 202 }),
      [`GET /v1/audit/verifications/${ID}`]: () => new Response(JSON.stringify(finished)),
      'GET /v1/audit/events?stream=book-H100-CN-EAST-2026-03-15&after=57%2F56': () => ndjson([first, next]),
    });
    page();
    fireEvent.click(screen.getByRole('button', { name: 'Run verify' }));
    const verdict = await screen.findByTestId('verdict', {}, { timeout: 5_000 });
    expect(verdict.textContent).toBe('Verdict: violations · Violations: 1');
    const link = screen.getByTestId('violation-0');
    expect(link.textContent).toBe('book-H100-CN-EAST-2026-03-15@4 (57/57)');

    fireEvent.click(link);
    const table = await screen.findByTestId('events');
    expect(asked).toContain('GET /v1/audit/events?stream=book-H100-CN-EAST-2026-03-15&after=57%2F56');
    const rows = within(table).getAllByRole('row').slice(1);
    expect(rows.map((r) => [r.id, r.getAttribute('aria-current'), r.className])).toEqual([
      ['event-57/57', 'true', 'selected'],
      ['event-58/58', null, ''],
    ]);
    // The form shows the search it made, so it can be changed and run again.
    expect((screen.getByLabelText('Stream') as HTMLInputElement).value).toBe('book-H100-CN-EAST-2026-03-15');
    expect((screen.getByLabelText('After position') as HTMLInputElement).value).toBe('57/56');
    expect(screen.queryByTestId('events-more')).toBeNull();
  });
});

describe('the explorer', () => {
  it('reads the next page strictly after the last position shown', async () => {
    const full = Array.from({ length: PAGE_EVENTS }, (_, i) => event(`${i + 1}/${i + 1}`, i));
    const rest = [event(`${PAGE_EVENTS + 1}/${PAGE_EVENTS + 1}`, PAGE_EVENTS)];
    const asked = serve({
      'GET /v1/audit/events?type=TradeExecuted': () => ndjson(full),
      [`GET /v1/audit/events?type=TradeExecuted&after=${PAGE_EVENTS}%2F${PAGE_EVENTS}`]: () => ndjson(rest),
    });
    page();
    fireEvent.change(screen.getByLabelText('Type'), { target: { value: 'TradeExecuted' } });
    fireEvent.click(screen.getByRole('button', { name: 'Search' }));
    const table = await screen.findByTestId('events');
    expect(within(table).getAllByRole('row')).toHaveLength(PAGE_EVENTS + 1);

    fireEvent.click(await screen.findByRole('button', { name: 'More events' }));
    await screen.findByText(`${PAGE_EVENTS + 1}/${PAGE_EVENTS + 1}`);
    expect(within(screen.getByTestId('events')).getAllByRole('row')).toHaveLength(PAGE_EVENTS + 2);
    // A short page is the last one.
    expect(screen.queryByTestId('events-more')).toBeNull();
    expect(asked.filter((a) => a.includes('/events'))).toEqual([
      'GET /v1/audit/events?type=TradeExecuted',
      `GET /v1/audit/events?type=TradeExecuted&after=${PAGE_EVENTS}%2F${PAGE_EVENTS}`,
    ]);
  });
});
