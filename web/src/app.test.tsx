// Proves the shell: sign-in keeps the key in session storage only and shows the navigation of the key's role, and
// a refused field shows the API's code on that field. fetch is a stand-in for /v1/me here; the real API is driven
// by the Chromium end-to-end test (web/e2e).
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from './api';
import { App, navFor } from './app';
import { I18nProvider } from './i18n';
import { Field } from './ui';

afterEach(() => {
  cleanup();
  sessionStorage.clear();
  vi.unstubAllGlobals();
});

describe('navFor', () => {
  it.each([
    ['trader', ['/market', '/guidance', '/statements']],
    ['finance', ['/market', '/guidance', '/statements']],
    ['regulator', ['/market', '/guidance', '/surveillance', '/audit']],
    ['auditor', ['/market', '/guidance', '/surveillance', '/statements', '/audit']],
    ['integrator', ['/market', '/guidance']],
  ] as const)('%s sees %j', (role, paths) => {
    expect(navFor(role).map((n) => n.path)).toEqual(paths);
  });
});

describe('sign-in', () => {
  it('checks the key against /v1/me, keeps it in session storage, and shows the role’s navigation', async () => {
    const fetch = vi.fn(async (url: string, init: RequestInit) => {
      if (url === '/v1/me' && (init.headers as Record<string, string>).authorization === 'Bearer cx_good') {
        return new Response(JSON.stringify({ keyId: 'k', role: 'regulator', accounts: [], expiresAt: null }));
      }
      if (url === '/v1/me') return new Response('{"code":"AUTH.UNAUTHENTICATED","message":"no"}', { status: 401 });
      // The landing page's own reads: an empty catalog is enough here.
      return new Response('{"items":[],"nextCursor":null}');
    });
    vi.stubGlobal('fetch', fetch);
    vi.stubGlobal('scrollTo', vi.fn());
    render(
      <I18nProvider>
        <App />
      </I18nProvider>,
    );
    fireEvent.change(screen.getByLabelText('API key'), { target: { value: 'cx_bad' } });
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByText('AUTH.UNAUTHENTICATED')).toBeTruthy();
    expect(sessionStorage.getItem('cx.apiKey')).toBeNull();

    fireEvent.change(screen.getByLabelText('API key'), { target: { value: 'cx_good' } });
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    const nav = await screen.findByRole('navigation', { name: 'main' });
    expect([...nav.querySelectorAll('a')].map((a) => a.textContent)).toEqual([
      'Market',
      'Guidance',
      'Surveillance',
      'Audit',
    ]);
    expect(sessionStorage.getItem('cx.apiKey')).toBe('cx_good');
    expect(localStorage.length).toBe(0);

    fireEvent.change(screen.getByTestId('language'), { target: { value: 'zh-CN' } });
    await waitFor(() => expect(nav.textContent).toContain('价格指导'));
  });
});

describe('field errors', () => {
  it('puts the API’s code for a field on that field, labelled and announced', () => {
    const e = new ApiError(422, 'MATCHING.BELOW_FLOOR', 'below', [{ field: 'price', code: 'MATCHING.BELOW_FLOOR' }]);
    render(
      <Field id="order-price" label="Price" error={e.fieldCode('price')}>
        <input id="order-price" />
      </Field>,
    );
    expect(screen.getByLabelText('Price')).toBeTruthy();
    expect(screen.getByRole('alert').textContent).toBe('MATCHING.BELOW_FLOOR');
    expect(e.fieldCode('quantityLots')).toBeNull();
  });
});
