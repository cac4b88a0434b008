import { createHash, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';

/** What the fake issuer saw, for assertions. */
export interface FakeIssuerLog {
  readonly authorize: URLSearchParams[];
  readonly token: URLSearchParams[];
}

/**
 * A stand-in for the region's OpenID Connect provider (the outside world): discovery, JWKS, an
 * authorization endpoint that signs the user in at once and redirects back with a code, and a
 * token endpoint that checks the PKCE verifier (RFC 7636 §4.6) before issuing an ES256 access token
 * with dxhub's claims. CORS-enabled, as a browser app's token exchange needs.
 */
export async function startFakeIssuer(opts: {
  audience: string;
  claims: Record<string, unknown>;
}): Promise<{ url: string; log: FakeIssuerLog; close(): Promise<void> }> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'fake-1', alg: 'ES256', use: 'sig' };
  const codes = new Map<string, { challenge: string; redirectUri: string; clientId: string }>();
  const log: FakeIssuerLog = { authorize: [], token: [] };
  let url = '';
  const server: Server = createServer(async (req, res) => {
    const u = new URL(req.url ?? '/', url);
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json', 'access-control-allow-origin': '*' });
      res.end(JSON.stringify(body));
    };
    if (u.pathname === '/.well-known/openid-configuration') {
      return json(200, {
        issuer: url,
        jwks_uri: `${url}/jwks`,
        authorization_endpoint: `${url}/authorize`,
        token_endpoint: `${url}/token`,
        response_types_supported: ['code'],
        code_challenge_methods_supported: ['S256'],
      });
    }
    if (u.pathname === '/jwks') return json(200, { keys: [jwk] });
    if (u.pathname === '/authorize') {
      log.authorize.push(u.searchParams);
      const p = u.searchParams;
      if (p.get('response_type') !== 'code' || p.get('code_challenge_method') !== 'S256' || !p.get('code_challenge')) {
        return json(400, { error: 'invalid_request' });
      }
      const code = randomUUID();
      codes.set(code, {
        challenge: p.get('code_challenge')!,
        redirectUri: p.get('redirect_uri')!,
        clientId: p.get('client_id')!,
      });
      const back = new URL(p.get('redirect_uri')!);
      back.searchParams.set('code', code);
      back.searchParams.set('state', p.get('state') ?? '');
      res.writeHead(302, { location: back.toString() });
      return res.end();
    }
    if (u.pathname === '/token' && req.method === 'POST') {
      let body = '';
      for await (const chunk of req) body += chunk;
      const p = new URLSearchParams(body);
      log.token.push(p);
      const grant = codes.get(p.get('code') ?? '');
      codes.delete(p.get('code') ?? '');
      const challenge = createHash('sha256')
        .update(p.get('code_verifier') ?? '')
        .digest('base64url');
      if (!grant || grant.challenge !== challenge || grant.redirectUri !== p.get('redirect_uri')) {
        return json(400, { error: 'invalid_grant', error_description: 'code or PKCE verifier does not match' });
      }
      const now = Math.floor(Date.now() / 1000);
      const token = await new SignJWT({ ...opts.claims, jti: randomUUID(), client_id: grant.clientId })
        .setProtectedHeader({ alg: 'ES256', kid: 'fake-1', typ: 'at+jwt' })
        .setIssuer(url)
        .setAudience(opts.audience)
        .setIssuedAt(now)
        .setExpirationTime(now + 600)
        .sign(privateKey);
      return json(200, { access_token: token, token_type: 'Bearer', expires_in: 600 });
    }
    json(404, { error: 'not_found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, log, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
