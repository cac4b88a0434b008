import { useState } from 'react';
import { call } from '../api.ts';
import { ErrorNote } from '../components/section.tsx';
import { useText } from '../i18n.ts';
import { authorizeUrl, codeChallenge, codeVerifier, type SmartConfiguration } from '../lib/pkce.ts';
import type { RoleKind } from '../lib/session.ts';
import { useQuery } from '../use-query.ts';

/** A demo user (`GET /auth/demo-users`, demo mode only). */
interface DemoUser {
  readonly id: string;
  readonly name: string;
  readonly role: RoleKind;
  readonly org?: string;
}

export const CLIENT_ID = 'dxhub-web';
export const PKCE_KEY = 'dxhub.pkce';

/** The redirect URI registered for the web app: the app's own root. */
export const redirectUri = () => `${location.origin}/`;

/** Starts the authorization code + PKCE flow at the issuer the server's SMART configuration names. */
async function startOidc(config: SmartConfiguration): Promise<void> {
  const verifier = codeVerifier();
  const state = codeVerifier();
  sessionStorage.setItem(PKCE_KEY, JSON.stringify({ verifier, state, tokenEndpoint: config.token_endpoint }));
  const url = authorizeUrl(config, {
    clientId: CLIENT_ID,
    redirectUri: redirectUri(),
    scope: 'openid fhirUser launch/patient user/*.rs patient/*.rs',
    state,
    challenge: await codeChallenge(verifier),
    audience: `${location.origin}/fhir`,
  });
  location.assign(url.toString());
}

/**
 * Sign-in: the region's OpenID Connect issuer when the server's SMART configuration names an
 * authorization endpoint; in embedded demo mode one demo user per role.
 */
export function SignIn(props: { onToken: (token: string, name?: string) => void; problem?: Error }) {
  const t = useText();
  const [problem, setProblem] = useState<Error | undefined>(props.problem);
  const smart = useQuery((signal) => call<SmartConfiguration>('/fhir/.well-known/smart-configuration', { signal }), []);
  const demo = useQuery((signal) => call<DemoUser[]>('/auth/demo-users', { signal }).catch(() => [] as DemoUser[]), []);
  const demoSignIn = async (u: DemoUser) => {
    try {
      const res = await fetch('/auth/token', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'password', username: u.id }),
      });
      const body = (await res.json()) as { access_token?: string; error_description?: string };
      if (!res.ok || !body.access_token) throw new Error(body.error_description ?? `${res.status}`);
      props.onToken(body.access_token, u.name);
    } catch (e) {
      setProblem(e as Error);
    }
  };
  const oidc = smart.data?.authorization_endpoint ? smart.data : undefined;
  return (
    <section id="signin" aria-labelledby="signin-h">
      <h2 id="signin-h">{t('signInTitle')}</h2>
      {problem && <ErrorNote error={problem} />}
      {oidc && (
        <p>
          <button type="button" className="primary" id="oidc-signin" onClick={() => startOidc(oidc).catch(setProblem)}>
            {t('signInOidc')}
          </button>
        </p>
      )}
      {demo.loading && <p role="status">{t('loading')}</p>}
      {demo.data && demo.data.length > 0 && (
        <>
          <p>{t('signInHelp')}</p>
          <ul id="users" className="users">
            {demo.data.map((u) => (
              <li key={u.id}>
                <button type="button" data-user={u.id} onClick={() => demoSignIn(u)}>
                  {u.name}
                  <small>
                    {u.role}
                    {u.org ? ` · ${u.org}` : ''}
                  </small>
                </button>
              </li>
            ))}
          </ul>
        </>
      )}
      {!oidc && demo.data?.length === 0 && !smart.loading && <p>{t('noSignIn')}</p>}
    </section>
  );
}
