import { type FormEvent, type MouseEvent, useCallback, useEffect, useState } from 'react';
import { ApiError, getJson, type Me, type Role, session, asApiError } from './api';
import { type Locale, type MessageKey, useI18n } from './i18n';
import { AuditPage } from './pages/audit';
import { GuidancePage } from './pages/guidance';
import { MarketPage } from './pages/market';
import { StatementsPage } from './pages/statements';
import { SurveillancePage } from './pages/surveillance';
import { ErrorBox, Field, Loading } from './ui';

// The shell: sign-in with an API key, then the pages the key's role may see (DESIGN.md, "Roles and tenancy").

const ALL: Role[] = ['admin', 'regulator', 'trader', 'integrator', 'finance', 'auditor'];

export const NAV: Array<{ path: string; label: MessageKey; roles: Role[] }> = [
  { path: '/market', label: 'nav.market', roles: ALL },
  { path: '/guidance', label: 'nav.guidance', roles: ALL },
  { path: '/surveillance', label: 'nav.surveillance', roles: ['regulator', 'auditor', 'admin'] },
  { path: '/statements', label: 'nav.statements', roles: ['trader', 'finance', 'auditor', 'admin'] },
  { path: '/audit', label: 'nav.audit', roles: ['auditor', 'regulator', 'admin'] },
];

export const navFor = (role: Role) => NAV.filter((n) => n.roles.includes(role));

const TIME_ZONES = ['UTC', 'Asia/Shanghai', Intl.DateTimeFormat().resolvedOptions().timeZone].filter(
  (z, i, all) => all.indexOf(z) === i,
);

export const usePath = (): [string, (to: string) => void] => {
  const [path, setPath] = useState(() => window.location.pathname + window.location.search);
  useEffect(() => {
    const onPop = () => setPath(window.location.pathname + window.location.search);
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);
  const go = useCallback((to: string) => {
    window.history.pushState(null, '', to);
    setPath(to);
    window.scrollTo(0, 0);
  }, []);
  return [path, go];
};

export const Link = ({
  to,
  go,
  children,
  current,
}: {
  to: string;
  go: (to: string) => void;
  children: string;
  current?: boolean;
}) => (
  <a
    href={to}
    aria-current={current === true ? 'page' : undefined}
    onClick={(e: MouseEvent) => {
      if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
      e.preventDefault();
      go(to);
    }}
  >
    {children}
  </a>
);

const SignIn = ({ onSignedIn }: { onSignedIn: (me: Me) => void }) => {
  const { t } = useI18n();
  const [key, setKey] = useState('');
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const me = await getJson<Me>('/v1/me', key.trim());
      session.set(key.trim());
      onSignedIn(me);
    } catch (err) {
      setError(asApiError(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main className="sign-in">
      <form className="card" onSubmit={(e) => void submit(e)} aria-labelledby="sign-in-title">
        <h1 id="sign-in-title">{t('signIn.title')}</h1>
        <Field id="api-key" label={t('signIn.key')} error={error === null ? null : error.code}>
          <input
            id="api-key"
            name="api-key"
            type="password"
            autoComplete="off"
            required
            value={key}
            onChange={(e) => setKey(e.target.value)}
            aria-describedby="api-key-hint"
          />
        </Field>
        <p id="api-key-hint" className="hint">
          {t('signIn.hint')}
        </p>
        <button type="submit" disabled={busy || key.trim() === ''}>
          {t('signIn.submit')}
        </button>
      </form>
    </main>
  );
};

const Preferences = () => {
  const { t, locale, setLocale, timeZone, setTimeZone } = useI18n();
  return (
    <div className="prefs">
      <label>
        {t('language')}{' '}
        <select value={locale} onChange={(e) => setLocale(e.target.value as Locale)} data-testid="language">
          <option value="en">English</option>
          <option value="zh-CN">中文（简体）</option>
        </select>
      </label>
      <label>
        {t('timeZone')}{' '}
        <select value={timeZone} onChange={(e) => setTimeZone(e.target.value)}>
          {TIME_ZONES.map((z) => (
            <option key={z} value={z}>
              {z}
            </option>
          ))}
        </select>
      </label>
    </div>
  );
};

export const App = () => {
  const { t } = useI18n();
  const [me, setMe] = useState<Me | null>(null);
  const [checking, setChecking] = useState(() => session.get() !== null);
  const [error, setError] = useState<ApiError | null>(null);
  const [path, go] = usePath();

  useEffect(() => {
    if (session.get() === null) return;
    getJson<Me>('/v1/me')
      .then(setMe, (e: unknown) => {
        session.clear();
        if (e instanceof ApiError && e.status !== 401) setError(e);
      })
      .finally(() => setChecking(false));
  }, []);

  const signOut = () => {
    session.clear();
    setMe(null);
    go('/');
  };

  if (checking) return <Loading />;
  if (me === null) {
    return (
      <>
        <header className="top">
          <span className="brand">{t('app.title')}</span>
          <Preferences />
        </header>
        {error !== null && <ErrorBox error={error} />}
        <SignIn
          onSignedIn={(m) => {
            setMe(m);
            if (path === '/' || path === '') go(navFor(m.role)[0]?.path ?? '/market');
          }}
        />
      </>
    );
  }

  const nav = navFor(me.role);
  const pathname = path.split('?')[0] ?? '/';
  const section = nav.find((n) => pathname === n.path || pathname.startsWith(`${n.path}/`));
  const page = (() => {
    if (pathname === '/' || pathname === '') return <MarketPage me={me} path="/market" go={go} />;
    if (section === undefined) return <p className="state empty">{t('notFound')}</p>;
    switch (section.path) {
      case '/market':
        return <MarketPage me={me} path={path} go={go} />;
      case '/guidance':
        return <GuidancePage me={me} />;
      case '/surveillance':
        return <SurveillancePage />;
      case '/statements':
        return <StatementsPage me={me} path={path} go={go} />;
      default:
        return <AuditPage me={me} />;
    }
  })();

  return (
    <>
      <a className="skip" href="#content">
        {t('skip')}
      </a>
      <header className="top">
        <span className="brand">{t('app.title')}</span>
        <nav aria-label="main">
          <ul>
            {nav.map((n) => (
              <li key={n.path}>
                <Link to={n.path} go={go} current={n === section || (n.path === '/market' && pathname === '/')}>
                  {t(n.label)}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <Preferences />
        <span className="whoami" data-testid="role">
          {t('role')}: <strong>{me.role}</strong>
          {me.accounts.length > 0 ? ` (${me.accounts.join(', ')})` : ''}
        </span>
        <button type="button" onClick={signOut}>
          {t('signOut')}
        </button>
      </header>
      <main id="content" tabIndex={-1}>
        {page}
      </main>
    </>
  );
};
