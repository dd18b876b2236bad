// The web door: `dbdeck serve` prints http://127.0.0.1:PORT/?token=…; the token authorises
// every /api request. It is taken out of the address bar at once (so it is not bookmarked,
// shared in a screenshot or kept in history) and kept in sessionStorage for reloads.

import { ApiCallError, toApiCallError, type Backend, type Event, type LinkState, type Request, type Response } from './types';

const TOKEN_KEY = 'dbdeck.token';

/** Read the token from the URL (then hide it) or from this tab's session. */
export function takeToken(): string | null {
  const url = new URL(window.location.href);
  const fromUrl = url.searchParams.get('token');
  if (fromUrl) {
    try {
      sessionStorage.setItem(TOKEN_KEY, fromUrl);
    } catch {
      // Storage can be disabled; the token then lives only in memory for this page.
    }
    url.searchParams.delete('token');
    history.replaceState(history.state, '', url.pathname + url.search + url.hash);
    return fromUrl;
  }
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export class HttpBackend implements Backend {
  readonly kind = 'http' as const;

  setTitle(title: string): void {
    document.title = title;
  }
  constructor(
    private readonly token: string,
    private readonly onUnauthorized: () => void,
  ) {}

  async call(req: Request): Promise<Response> {
    // A pasted plan goes as the body itself (tens of MiB would otherwise be escaped into a
    // JSON string here and unescaped by the server); the answer is the same. As a Blob: fetch
    // turns a string body into bytes on the page's thread (80–100 ms for 8.6 MB here), a Blob
    // is made in a third of that and handed over as it is.
    if (req.op === 'plan_analyze') {
      const query = req.compact === undefined ? '' : `?compact=${req.compact}`;
      return this.post(`./api/call/plan_analyze${query}`, 'text/plain; charset=utf-8', new Blob([req.text]), req.op);
    }
    return this.post('./api/call', 'application/json', JSON.stringify(req), req.op);
  }

  private async post(url: string, contentType: string, payload: BodyInit, op: Request['op']): Promise<Response> {
    let res: globalThis.Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': contentType, Authorization: `Bearer ${this.token}` },
        body: payload,
      });
    } catch (e) {
      throw new ApiCallError(
        {
          code: 'network',
          message: `could not reach dbdeck: ${e instanceof Error ? e.message : String(e)}`,
          hint: 'check that `dbdeck serve` is still running, then reload this page',
        },
        op,
      );
    }
    if (res.status === 401) this.onUnauthorized();
    if (res.status === 413) {
      // The web server refuses bodies above its limit before dbdeck sees them (plain text, not JSON).
      throw new ApiCallError(
        {
          code: 'invalid_input',
          message: 'the request is larger than `dbdeck serve` accepts (128 MiB), so it was not sent to dbdeck',
          hint: 'for a very large plan, paste it compact (EXPLAIN (FORMAT JSON) without indentation), or read it with the CLI: dbdeck plan analyze FILE',
        },
        op,
      );
    }
    let body: unknown;
    try {
      body = await res.json();
    } catch {
      throw new ApiCallError(
        { code: 'protocol', message: `dbdeck answered HTTP ${res.status} with a body that is not JSON` },
        op,
      );
    }
    if (!res.ok) throw toApiCallError(body, op);
    return body as Response;
  }

  subscribe(onEvent: (e: Event) => void, onState?: (s: LinkState) => void): () => void {
    let source: EventSource | null = null;
    let retry: ReturnType<typeof setTimeout> | null = null;
    let stopped = false;
    let everOpen = false;
    let delay = 1000;

    const connect = () => {
      if (stopped) return;
      onState?.('connecting');
      source = new EventSource(`./api/events?token=${encodeURIComponent(this.token)}`);
      source.onopen = () => {
        delay = 1000;
        onState?.(everOpen ? 'reconnected' : 'open');
        everOpen = true;
      };
      source.onmessage = (m) => {
        try {
          onEvent(JSON.parse(m.data) as Event);
        } catch {
          // A malformed event is dropped; the next list reload corrects any gap.
        }
      };
      source.onerror = () => {
        // EventSource retries by itself after a dropped stream; it gives up (CLOSED) when the
        // server answers with an error status, e.g. 401 or a restarted server. Then we retry.
        if (source && source.readyState === EventSource.CLOSED) {
          source = null;
          onState?.('closed');
          this.call({ op: 'app_info' }).catch(() => {});
          retry = setTimeout(connect, delay);
          delay = Math.min(delay * 2, 30_000);
        } else {
          onState?.('connecting');
        }
      };
    };
    connect();
    return () => {
      stopped = true;
      if (retry) clearTimeout(retry);
      source?.close();
    };
  }
}
