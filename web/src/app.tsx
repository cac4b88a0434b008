import { lazy, Suspense, useCallback, useEffect, useState } from 'react';
import { onUnauthorized, setToken } from './api.ts';
import { initialLang, type Lang, LangContext, rememberLang, TEXTS, type TextKey, useText } from './i18n.ts';
import { tokenRequestBody } from './lib/pkce.ts';
import { type ScreenName, type Session, screensFor, sessionFromToken } from './lib/session.ts';
import { CLIENT_ID, PKCE_KEY, redirectUri, SignIn } from './screens/sign-in.tsx';

// Code splitting: the first screen (sign-in) is in the entry chunk; every other screen — and the
// chart libraries (uPlot in the overview, ECharts and uPlot in the dashboards) — is a chunk of its
// own, loaded when a role opens it. After sign-in the role's screens are fetched in the background
// (`preloadScreens`), so opening one does not wait for the network.
const SCREEN_MODULES = {
  admin: () => import('./screens/admin.tsx'),
  counts: () => import('./screens/counts.tsx'),
  mine: () => import('./screens/mine.tsx'),
  overview: () => import('./screens/patient-overview.tsx'),
  search: () => import('./screens/patient-search.tsx'),
  order: () => import('./screens/requisition.tsx'),
  review: () => import('./screens/review.tsx'),
  rules: () => import('./screens/rules.tsx'),
  dashboard: () => import('./screens/dashboard.tsx'),
};
const Admin = lazy(() => SCREEN_MODULES.admin().then((m) => ({ default: m.Admin })));
const Counts = lazy(() => SCREEN_MODULES.counts().then((m) => ({ default: m.Counts })));
const Mine = lazy(() => SCREEN_MODULES.mine().then((m) => ({ default: m.Mine })));
const PatientOverview = lazy(() => SCREEN_MODULES.overview().then((m) => ({ default: m.PatientOverview })));
const PatientSearch = lazy(() => SCREEN_MODULES.search().then((m) => ({ default: m.PatientSearch })));
const Requisition = lazy(() => SCREEN_MODULES.order().then((m) => ({ default: m.Requisition })));
const Review = lazy(() => SCREEN_MODULES.review().then((m) => ({ default: m.Review })));
const Rules = lazy(() => SCREEN_MODULES.rules().then((m) => ({ default: m.Rules })));
const Dashboard = lazy(() => SCREEN_MODULES.dashboard().then((m) => ({ default: m.Dashboard })));

/** The chunks of a role's screens, fetched while the browser is idle after sign-in. */
function preloadScreens(screens: readonly ScreenName[]): void {
  const wanted: (keyof typeof SCREEN_MODULES)[] = screens.flatMap((s): (keyof typeof SCREEN_MODULES)[] =>
    s === 'patients' ? ['search', 'overview'] : s in SCREEN_MODULES ? [s as keyof typeof SCREEN_MODULES] : [],
  );
  const run = () => {
    for (const w of wanted) void SCREEN_MODULES[w]().catch(() => {});
  };
  if ('requestIdleCallback' in window) requestIdleCallback(run, { timeout: 2000 });
  else setTimeout(run, 200);
}

const SESSION_KEY = 'dxhub.session';
const NAV: Record<ScreenName, TextKey> = {
  patients: 'navPatients',
  mine: 'navMine',
  counts: 'navCounts',
  admin: 'navAdmin',
  order: 'navOrder',
  review: 'navReview',
  dashboard: 'navDashboard',
  rules: 'navRules',
};

/** `#/<screen>[/<patient id>]`: the screen and, on the patient screen, the open patient. */
function readRoute(): { screen?: ScreenName; patient?: string } {
  const [screen, patient] = location.hash.replace(/^#\/?/, '').split('/');
  return {
    ...(screen ? { screen: screen as ScreenName } : {}),
    ...(patient ? { patient: decodeURIComponent(patient) } : {}),
  };
}

function restore(): Session | undefined {
  const saved = sessionStorage.getItem(SESSION_KEY);
  if (!saved) return undefined;
  const s = JSON.parse(saved) as Session;
  return s.exp * 1000 > Date.now() ? s : undefined;
}

/** Completes the OIDC redirect (`?code=…&state=…`): exchanges the code with the PKCE verifier. */
async function finishOidc(): Promise<string | undefined> {
  const params = new URLSearchParams(location.search);
  const code = params.get('code');
  const error = params.get('error');
  if (!code && !error) return undefined;
  history.replaceState(null, '', location.pathname + location.hash);
  if (error) throw new Error(`${error}: ${params.get('error_description') ?? ''}`);
  const saved = JSON.parse(sessionStorage.getItem(PKCE_KEY) ?? 'null') as {
    verifier: string;
    state: string;
    tokenEndpoint: string;
  } | null;
  sessionStorage.removeItem(PKCE_KEY);
  if (!saved || saved.state !== params.get('state'))
    throw new Error('the sign-in answer does not match the request (state)');
  const res = await fetch(saved.tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: tokenRequestBody(code!, saved.verifier, CLIENT_ID, redirectUri()),
  });
  const body = (await res.json()) as { access_token?: string; error_description?: string; error?: string };
  if (!res.ok || !body.access_token) throw new Error(body.error_description ?? body.error ?? `${res.status}`);
  return body.access_token;
}

export function App() {
  const [lang, setLang] = useState<Lang>(initialLang);
  const [session, setSession] = useState<Session | undefined>(restore);
  const [route, setRoute] = useState(readRoute);
  const [problem, setProblem] = useState<Error>();
  setToken(session?.token);

  const signIn = useCallback((token: string, name?: string) => {
    try {
      const s = sessionFromToken(token, name);
      sessionStorage.setItem(SESSION_KEY, JSON.stringify(s));
      setProblem(undefined);
      setSession(s);
      location.hash = `#/${screensFor(s.role)[0] ?? ''}`;
    } catch (e) {
      setProblem(e as Error);
    }
  }, []);
  useEffect(() => {
    finishOidc().then((token) => token && signIn(token), setProblem);
    const onHash = () => setRoute(readRoute());
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, [signIn]);
  useEffect(() => {
    document.documentElement.lang = lang;
    document.title = `dxhub · ${TEXTS[lang].tagline}`;
  }, [lang]);
  const signOut = useCallback((why?: Error) => {
    sessionStorage.removeItem(SESSION_KEY);
    setSession(undefined);
    setProblem(why);
    location.hash = '';
  }, []);
  // The session ends when its token expires, or when the server refuses it (401): back to sign-in,
  // saying why, instead of screens full of errors.
  const exp = session?.exp;
  useEffect(() => {
    if (exp === undefined) return;
    const expired = () => signOut(new Error(TEXTS[lang].sessionExpired));
    onUnauthorized(expired);
    const timer = setTimeout(expired, Math.max(0, Math.min(exp * 1000 - Date.now(), 2 ** 31 - 1)));
    return () => {
      onUnauthorized(undefined);
      clearTimeout(timer);
    };
  }, [exp, signOut, lang]);
  const toggle = () => {
    const next = lang === 'da' ? 'en' : 'da';
    rememberLang(next);
    setLang(next);
  };
  const screens = session ? screensFor(session.role) : [];
  const role = session?.role;
  useEffect(() => {
    if (role) preloadScreens(screensFor(role));
  }, [role]);
  const screen = route.screen && screens.includes(route.screen) ? route.screen : screens[0];
  return (
    <LangContext.Provider value={lang}>
      <Header session={session} screens={screens} screen={screen} onToggle={toggle} onSignOut={() => signOut()} />
      <main id="main">
        {!session && <SignIn onToken={signIn} {...(problem ? { problem } : {})} />}
        <Suspense fallback={<p role="status">{TEXTS[lang].loading}</p>}>
          {session &&
            screen === 'patients' &&
            (route.patient ? (
              <>
                <a href="#/patients" className="back">
                  ← {TEXTS[lang].back}
                </a>
                {screens.includes('order') && (
                  <a id="order-for-patient" href={`#/order/${encodeURIComponent(route.patient)}`}>
                    {TEXTS[lang].orderForPatient}
                  </a>
                )}
                <PatientOverview key={route.patient} patientId={route.patient} {...vdFor(route.patient)} />
              </>
            ) : (
              <PatientSearch
                onOpen={(id, vd) => {
                  if (vd) sessionStorage.setItem(`dxhub.vd.${id}`, vd);
                  location.hash = `#/patients/${encodeURIComponent(id)}`;
                }}
              />
            ))}
          {session && screen === 'mine' && <Mine {...(session.patient ? { patient: session.patient } : {})} />}
          {session && screen === 'counts' && <Counts />}
          {session && screen === 'admin' && <Admin role={session.role} />}
          {session && screen === 'order' && (
            <Requisition
              key={route.patient}
              role={session.role}
              user={session.user}
              {...(route.patient ? { patient: route.patient } : {})}
            />
          )}
          {session && screen === 'review' && <Review role={session.role} />}
          {session && screen === 'dashboard' && <Dashboard role={session.role} token={session.token} />}
          {session && screen === 'rules' && <Rules />}
        </Suspense>
      </main>
    </LangContext.Provider>
  );
}

/** A værdispring given in the search carries over to the patient it found (this tab only). */
function vdFor(patient: string): { vaerdispring?: string } {
  const vd = sessionStorage.getItem(`dxhub.vd.${patient}`);
  return vd ? { vaerdispring: vd } : {};
}

function Header(props: {
  session?: Session;
  screens: ScreenName[];
  screen?: ScreenName;
  onToggle: () => void;
  onSignOut: () => void;
}) {
  const t = useText();
  const { session } = props;
  return (
    <header className="top">
      <a href="#main" className="skip">
        Skip to content
      </a>
      <h1>
        dxhub <span className="tagline">{t('tagline')}</span>
      </h1>
      {session && (
        <nav aria-label="Menu">
          {props.screens.map((s) => (
            <a key={s} href={`#/${s}`} aria-current={s === props.screen ? 'page' : undefined}>
              {t(NAV[s])}
            </a>
          ))}
        </nav>
      )}
      <div className="who">
        {session && (
          <span id="whoami" data-role={session.role}>
            {session.name ?? session.user} · {session.role}
            {session.org ? ` · ${session.org}` : ''}
          </span>
        )}
        <button type="button" id="lang" onClick={props.onToggle} aria-label={t('languageLabel')}>
          {t('language')}
        </button>
        {session && (
          <button type="button" id="signout" onClick={props.onSignOut}>
            {t('signOut')}
          </button>
        )}
      </div>
    </header>
  );
}
