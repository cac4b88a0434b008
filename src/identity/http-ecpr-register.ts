import { type EcprRegister, type IssueRequest, RegisterError, type ReplacementCprRecord } from './ecpr-register.ts';

/**
 * A replacement-CPR register reached over HTTP with dxhub's small JSON contract (docs/identity.md):
 * `POST {base}/replacement-cprs` (body: IssueRequest) → 201 record;
 * `GET {base}/replacement-cprs/{value}` → 200 record | 404;
 * `POST {base}/replacement-cprs/{value}/link` (body: `{ "cpr": "…" }`) → 200 record | 404 | 409.
 * Errors come back as `{ "code", "message" }` and become {@link RegisterError}s.
 */
export class HttpEcprRegister implements EcprRegister {
  private readonly base: string;
  private readonly timeoutMs: number;
  private readonly headers: Record<string, string>;
  constructor(baseUrl: string, opts: { timeoutMs?: number; headers?: Record<string, string> } = {}) {
    this.base = baseUrl.replace(/\/$/, '');
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.headers = opts.headers ?? {};
  }

  private async call(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}`, {
        method,
        headers: {
          accept: 'application/json',
          ...(body ? { 'content-type': 'application/json' } : {}),
          ...this.headers,
        },
        body: body ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (e) {
      throw new RegisterError(
        'unavailable',
        `replacement-CPR register at ${this.base} did not answer: ${(e as Error).message}`,
      );
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      throw new RegisterError('unavailable', `replacement-CPR register answered ${res.status} with non-JSON`);
    }
    if (res.status >= 400 && res.status !== 404) {
      const err = json as { code?: RegisterError['code']; message?: string } | undefined;
      throw new RegisterError(
        err?.code ?? (res.status >= 500 ? 'unavailable' : 'invalid'),
        err?.message ?? `HTTP ${res.status}`,
      );
    }
    return { status: res.status, json };
  }

  async issue(request: IssueRequest): Promise<ReplacementCprRecord> {
    return (await this.call('POST', '/replacement-cprs', request)).json as ReplacementCprRecord;
  }

  async lookup(value: string): Promise<ReplacementCprRecord | undefined> {
    const r = await this.call('GET', `/replacement-cprs/${encodeURIComponent(value)}`);
    return r.status === 404 ? undefined : (r.json as ReplacementCprRecord);
  }

  async link(value: string, cpr: string): Promise<ReplacementCprRecord> {
    const r = await this.call('POST', `/replacement-cprs/${encodeURIComponent(value)}/link`, { cpr });
    if (r.status === 404) throw new RegisterError('not-found', `replacement CPR ${value} is not in the register`);
    return r.json as ReplacementCprRecord;
  }
}
