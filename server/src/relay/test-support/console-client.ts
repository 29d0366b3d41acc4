// A browser stand-in for the admin console and portal tests: real HTTP over fetch, a cookie jar
// that honours paths, and the CSRF header taken from the `csrf_token` cookie like the pages do.

export interface ConsoleResponse {
  status: number;
  headers: Headers;
  // Bodies are checked by value (toMatchObject); a loose type keeps the reads short.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  text: string;
}

interface StoredCookie {
  value: string;
  path: string;
  httpOnly: boolean;
}

export class ConsoleClient {
  /** name → path → cookie */
  private readonly jar = new Map<string, Map<string, StoredCookie>>();

  /**
   * @param baseUrl the server's URL
   * @param ip sent as X-Forwarded-For (the test server trusts proxies), so rate limits are per test
   */
  constructor(
    private readonly baseUrl: string,
    readonly ip: string = randomIp(),
  ) {}

  cookie(name: string, path: string): StoredCookie | undefined {
    return this.jar.get(name)?.get(path);
  }

  setCookie(name: string, value: string, path: string): void {
    const byPath = this.jar.get(name) ?? new Map<string, StoredCookie>();
    byPath.set(path, { value, path, httpOnly: false });
    this.jar.set(name, byPath);
  }

  clearCookies(): void {
    this.jar.clear();
  }

  async request(
    method: string,
    path: string,
    body?: unknown,
    options: { csrf?: boolean; headers?: Record<string, string> } = {},
  ): Promise<ConsoleResponse> {
    const headers: Record<string, string> = {
      'x-forwarded-for': this.ip,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    };
    const cookies = this.cookiesFor(path);
    if (cookies.length > 0) headers.cookie = cookies.map(([n, c]) => `${n}=${c.value}`).join('; ');
    const csrf = cookies.find(([name]) => name === 'csrf_token')?.[1];
    if (options.csrf !== false && csrf) headers['x-csrf-token'] = csrf.value;
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: { ...headers, ...options.headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    for (const line of response.headers.getSetCookie()) this.store(line);
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: response.status, headers: response.headers, body: parsed, text };
  }

  get(path: string) {
    return this.request('GET', path);
  }
  post(path: string, body: unknown = {}, options?: { csrf?: boolean }) {
    return this.request('POST', path, body, options);
  }
  patch(path: string, body: unknown = {}, options?: { csrf?: boolean }) {
    return this.request('PATCH', path, body, options);
  }
  delete(path: string, options?: { csrf?: boolean }) {
    return this.request('DELETE', path, undefined, options);
  }

  private cookiesFor(path: string): Array<[string, StoredCookie]> {
    const found: Array<[string, StoredCookie]> = [];
    for (const [name, byPath] of this.jar) {
      for (const cookie of byPath.values()) {
        if (path === cookie.path || path.startsWith(`${cookie.path.replace(/\/$/, '')}/`)) {
          found.push([name, cookie]);
        }
      }
    }
    return found;
  }

  private store(line: string): void {
    const [pair, ...attributes] = line.split(';').map((part) => part.trim());
    const eq = pair!.indexOf('=');
    const name = pair!.slice(0, eq);
    const value = decodeURIComponent(pair!.slice(eq + 1));
    let path = '/';
    let expired = false;
    let httpOnly = false;
    for (const attribute of attributes) {
      const [key, val] = attribute.split('=');
      const k = key!.toLowerCase();
      if (k === 'path' && val) path = val;
      if (k === 'max-age' && Number(val) <= 0) expired = true;
      if (k === 'expires' && val && Date.parse(val) <= Date.now()) expired = true;
      if (k === 'httponly') httpOnly = true;
    }
    const byPath = this.jar.get(name) ?? new Map<string, StoredCookie>();
    if (expired || value === '') byPath.delete(path);
    else byPath.set(path, { value, path, httpOnly });
    this.jar.set(name, byPath);
  }
}

/** A documentation-range address unique enough that no two tests (or runs) share limits. */
export function randomIp(): string {
  const octet = () => Math.floor(Math.random() * 254) + 1;
  return `198.${18 + Math.floor(Math.random() * 2)}.${octet()}.${octet()}`;
}
