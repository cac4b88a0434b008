import type { IncomingMessage, ServerResponse } from 'node:http';
import { type EcprRegister, RegisterError } from './ecpr-register.ts';

const STATUS: Record<RegisterError['code'], number> = {
  invalid: 400,
  'not-found': 404,
  conflict: 409,
  exhausted: 503,
  unavailable: 503,
};

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > 64 * 1024) throw new RegisterError('invalid', 'request body over 64 KiB');
    chunks.push(c as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return text ? JSON.parse(text) : {};
  } catch {
    throw new RegisterError('invalid', 'body is not JSON');
  }
}

/**
 * Serves any {@link EcprRegister} with the JSON contract of {@link HttpEcprRegister}, for
 * `node:http`. Lets one dxhub act as the register of others, and is the counterpart the contract
 * tests start on loopback.
 */
export function ecprRegisterHandler(register: EcprRegister) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    try {
      const url = new URL(req.url ?? '/', 'http://register');
      const m = /^\/replacement-cprs(?:\/([^/]+))?(\/link)?$/.exec(url.pathname);
      if (!m) return send(404, { code: 'not-found', message: `no route ${url.pathname}` });
      const value = m[1] ? decodeURIComponent(m[1]) : undefined;
      if (req.method === 'POST' && !value) return send(201, await register.issue((await readJson(req)) as object));
      if (req.method === 'GET' && value && !m[2]) {
        const r = await register.lookup(value);
        return r ? send(200, r) : send(404, { code: 'not-found', message: `${value} is not in the register` });
      }
      if (req.method === 'POST' && value && m[2]) {
        const body = (await readJson(req)) as { cpr?: unknown };
        if (typeof body.cpr !== 'string') throw new RegisterError('invalid', 'body needs "cpr"');
        return send(200, await register.link(value, body.cpr));
      }
      return send(405, { code: 'invalid', message: `${req.method} not allowed here` });
    } catch (e) {
      if (e instanceof RegisterError) return send(STATUS[e.code], { code: e.code, message: e.message });
      send(500, { code: 'unavailable', message: 'internal error' });
    }
  };
}
