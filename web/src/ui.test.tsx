// Proves the shared building blocks every page uses: a Field ties its error to its control (aria-invalid and
// aria-describedby, keeping the control's own description) whatever the form, and a view loaded through useAsync
// and Show shows the loading state, then the error box when the loader rejects, and the value after a retry.
import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiError } from './api';
import { I18nProvider } from './i18n';
import { Field, Show, useAsync } from './ui';

afterEach(() => {
  cleanup();
  sessionStorage.clear();
});

describe('Field', () => {
  it.each([
    ['an input', <input id="f" key="i" />],
    ['a select', <select id="f" key="s" />],
    ['a textarea', <textarea id="f" key="t" />],
  ])('ties its error to %s', (_, control) => {
    const { rerender } = render(
      <Field id="f" label="Floor" error="PRICING.FLOOR_INVALID">
        {control}
      </Field>,
    );
    const el = screen.getByLabelText('Floor');
    expect(el.getAttribute('aria-invalid')).toBe('true');
    expect(el.getAttribute('aria-describedby')).toBe('f-error');
    expect(document.getElementById('f-error')?.textContent).toBe('PRICING.FLOOR_INVALID');
    expect(screen.getByRole('alert').id).toBe('f-error');

    rerender(
      <Field id="f" label="Floor" error={null}>
        {control}
      </Field>,
    );
    expect(el.getAttribute('aria-invalid')).toBe('false');
    expect(el.hasAttribute('aria-describedby')).toBe(false);
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('keeps the control’s own description before the error', () => {
    const { rerender } = render(
      <Field id="api-key" label="API key" error="AUTH.UNAUTHENTICATED">
        <input id="api-key" aria-describedby="api-key-hint" />
      </Field>,
    );
    expect(screen.getByLabelText('API key').getAttribute('aria-describedby')).toBe('api-key-hint api-key-error');
    rerender(
      <Field id="api-key" label="API key">
        <input id="api-key" aria-describedby="api-key-hint" />
      </Field>,
    );
    expect(screen.getByLabelText('API key').getAttribute('aria-describedby')).toBe('api-key-hint');
  });
});

/** A view as the pages write them: a loader through useAsync, rendered by Show with a retry. */
const Loaded = ({ load }: { load: () => Promise<string[]> }) => {
  const [data, reload] = useAsync(load, []);
  return (
    <Show data={data} retry={reload} isEmpty={(x) => x.length === 0}>
      {(items) => <p data-testid="value">{items.join(', ')}</p>}
    </Show>
  );
};

/** A loader whose answers the test settles one call at a time. */
const controlled = () => {
  const calls: Array<{ resolve: (v: string[]) => void; reject: (e: unknown) => void }> = [];
  const load = () => new Promise<string[]>((resolve, reject) => calls.push({ resolve, reject }));
  return { calls, load };
};

describe('Show with useAsync', () => {
  it('shows loading, the error box with the API’s code when the loader rejects, and the value after retry', async () => {
    const { calls, load } = controlled();
    render(
      <I18nProvider>
        <Loaded load={load} />
      </I18nProvider>,
    );
    expect(screen.getByRole('status').textContent).toBe('Loading…');
    expect(calls).toHaveLength(1);

    await act(async () => calls[0]?.reject(new ApiError(503, 'GATEWAY.UPSTREAM_UNAVAILABLE', 'billing is down')));
    const box = screen.getByRole('alert');
    expect(box.textContent).toContain('GATEWAY.UPSTREAM_UNAVAILABLE');
    expect(box.textContent).toContain('billing is down');
    expect(screen.queryByTestId('value')).toBeNull();

    fireEvent.click(screen.getByRole('button', { name: 'Retry' }));
    expect(calls).toHaveLength(2);
    await act(async () => calls[1]?.resolve(['9793.16', 'CNY']));
    expect(screen.getByTestId('value').textContent).toBe('9793.16, CNY');
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('shows a network failure as CONSOLE.ERROR and an empty answer as the empty state', async () => {
    const { calls, load } = controlled();
    render(
      <I18nProvider>
        <Loaded load={load} />
      </I18nProvider>,
    );
    await act(async () => calls[0]?.reject(new TypeError('Failed to fetch')));
    expect(screen.getByRole('alert').textContent).toContain('CONSOLE.ERROR');
    fireEvent.click(screen.getByRole('button', { name: 'Retry' }));
    await act(async () => calls[1]?.resolve([]));
    expect(screen.getByText('Nothing here yet.')).toBeTruthy();
  });
});
