import {
  cloneElement,
  type DependencyList,
  type Key,
  type ReactElement,
  type ReactNode,
  useCallback,
  useEffect,
  useRef,
  useState,
} from 'react';
import { ApiError, asApiError } from './api';
import { useI18n } from './i18n';

// Shared building blocks: every data view goes through useAsync and renders its loading, empty and error states.

export type Async<T> = { state: 'loading' } | { state: 'error'; error: ApiError } | { state: 'ready'; value: T };

/**
 * Loads when `deps` change (showing the loading state), and again on `reload()`, which keeps the value shown
 * until the new one arrives, so forms and charts below it stay mounted (and keep their state) across a refresh.
 */
export const useAsync = <T,>(load: () => Promise<T>, deps: DependencyList): [Async<T>, () => void] => {
  const [result, setResult] = useState<Async<T>>({ state: 'loading' });
  const [round, setRound] = useState(0);
  const lastDeps = useRef<DependencyList | null>(null);
  useEffect(() => {
    let live = true;
    const same =
      lastDeps.current !== null &&
      lastDeps.current.length === deps.length &&
      lastDeps.current.every((d, i) => Object.is(d, deps[i]));
    lastDeps.current = deps;
    if (!same) setResult({ state: 'loading' });
    load().then(
      (value) => live && setResult({ state: 'ready', value }),
      (e: unknown) => live && setResult({ state: 'error', error: asApiError(e) }),
    );
    return () => {
      live = false;
    };
    // The caller's deps decide when to reload; `load` is a fresh closure each render.
  }, [...deps, round]);
  const reload = useCallback(() => setRound((r) => r + 1), []);
  return [result, reload];
};

export const Loading = () => {
  const { t } = useI18n();
  return (
    <p className="state loading" role="status" aria-live="polite">
      {t('loading')}
    </p>
  );
};

export const Empty = ({ children }: { children?: ReactNode }) => {
  const { t } = useI18n();
  return <p className="state empty">{children ?? t('empty')}</p>;
};

export const ErrorBox = ({ error, retry }: { error: ApiError; retry?: () => void }) => {
  const { t } = useI18n();
  return (
    <div className="state error" role="alert">
      <strong>{t('error')}</strong>: <code>{error.code}</code> {error.message}
      {retry !== undefined && (
        <button type="button" onClick={retry}>
          {t('retry')}
        </button>
      )}
    </div>
  );
};

/** A refused request that names no field on screen: its code and message, announced. */
export const InlineError = ({ error, testId }: { error: ApiError; testId?: string }) => (
  <p className="field-error" role="alert" data-testid={testId}>
    <code>{error.code}</code> {error.message}
  </p>
);

/** Renders the ready value, or the loading/error state; `isEmpty` picks the empty state. */
export const Show = <T,>({
  data,
  retry,
  isEmpty,
  empty,
  children,
}: {
  data: Async<T>;
  retry?: () => void;
  isEmpty?: (v: T) => boolean;
  empty?: ReactNode;
  children: (v: T) => ReactNode;
}) => {
  if (data.state === 'loading') return <Loading />;
  if (data.state === 'error') return <ErrorBox error={data.error} retry={retry} />;
  if (isEmpty?.(data.value) === true) return <Empty>{empty}</Empty>;
  return <>{children(data.value)}</>;
};

export const Section = ({ title, children, id }: { title: string; children: ReactNode; id?: string }) => (
  <section className="card" aria-labelledby={id ?? undefined} data-testid={id}>
    <h2 id={id}>{title}</h2>
    {children}
  </section>
);

/** One column of a DataTable: its header, what a row shows in it, and whether it holds figures. */
export interface Column<T> {
  header: ReactNode;
  cell: (row: T) => ReactNode;
  /** Right-aligned with tabular digits (className "num"), on the header and every cell, so figures line up. */
  num?: boolean;
  /** Added to the header and every cell of the column. */
  className?: string;
}

/** What a row may carry besides its cells: the selected mark, an anchor target, a test id. */
export interface RowProps {
  className?: string;
  id?: string;
  'data-testid'?: string;
  /** The row singled out among the others (e.g. the event a violation points at). */
  'aria-current'?: boolean;
}

const columnClass = (c: { num?: boolean; className?: string }): string | undefined =>
  [c.num === true ? 'num' : '', c.className ?? ''].filter((x) => x !== '').join(' ') || undefined;

/**
 * The console's one table: a scrolling box, a header cell per column (scope="col") and a row per item in `rows`,
 * in the order given. No rows shows the empty state instead, as every list in the console does.
 */
export const DataTable = <T,>({
  columns,
  rows,
  rowKey,
  rowProps,
  caption,
  label,
  testId,
}: {
  columns: Column<T>[];
  rows: readonly T[];
  rowKey: (row: T, index: number) => Key;
  rowProps?: (row: T) => RowProps;
  caption?: ReactNode;
  label?: string;
  testId?: string;
}) => {
  if (rows.length === 0) return <Empty />;
  return (
    <div className="scroll">
      <table aria-label={label} data-testid={testId}>
        {caption !== undefined && <caption>{caption}</caption>}
        <thead>
          <tr>
            {columns.map((c, i) => (
              <th key={i} scope="col" className={columnClass(c)}>
                {c.header}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row, i) => (
            <tr key={rowKey(row, i)} {...rowProps?.(row)}>
              {columns.map((c, j) => (
                <td key={j} className={columnClass(c)}>
                  {c.cell(row)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
};

type ControlProps = { id?: string; 'aria-describedby'?: string; 'aria-invalid'?: boolean | 'true' | 'false' };

/**
 * A labelled form control: the label names it, and a field error is announced and tied to it. The control (the one
 * child, carrying the field's id) gets aria-invalid and the error's id added to its aria-describedby (after any
 * description it has), so a screen reader reads the error with the control, on every form.
 */
export const Field = ({
  id,
  label,
  error,
  children,
}: {
  id: string;
  label: string;
  error?: string | null;
  children: ReactElement<ControlProps>;
}) => {
  const invalid = error !== undefined && error !== null && error !== '';
  const errorId = `${id}-error`;
  const own = children.props['aria-describedby'];
  const describedBy = [
    ...(own ?? '').split(' ').filter((x) => x !== '' && x !== errorId),
    ...(invalid ? [errorId] : []),
  ];
  const control = cloneElement(children, {
    'aria-invalid': invalid,
    'aria-describedby': describedBy.length === 0 ? undefined : describedBy.join(' '),
  });
  return (
    <div className={`field${invalid ? ' invalid' : ''}`}>
      <label htmlFor={id}>{label}</label>
      {control}
      {invalid ? (
        <span className="field-error" id={errorId} role="alert" data-testid={errorId}>
          {error}
        </span>
      ) : null}
    </div>
  );
};
