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
    let res: globalThis.Response;
    try {
      res = await fetch('./api/call', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${this.token}` },
        body: JSON.stringify(req),
      });
    } catch (e) {
      throw new ApiCallError(
        {
          code: 'network',
          message: `could not reach dbdeck: ${e instanceof Error ? e.message : String(e)}`,
          hint: 'check that `dbdeck serve` is still running, then reload this page',
        },
        req.op,
      );
    }
    if (res.status === 401) this.onUnauthorized();
    if (res.status === 413) {
      // The web server refuses bodies above its limit before dbdeck sees them (plain text, not JSON).
      throw new ApiCallError(
        {
          code: 'invalid_input',
          message: 'the request is larger than `dbdeck serve` accepts (about 2 MiB), so it was not sent to dbdeck',
          hint: 'for a very large plan, paste it compact (EXPLAIN (FORMAT JSON) without indentation), or read it with the CLI: dbdeck plan analyze FILE',
        },
        req.op,
      );
    }
    let body: unknown;
    try {
      body = await res.json();
    } catch {
      throw new ApiCallError(
        { code: 'protocol', message: `dbdeck answered HTTP ${res.status} with a body that is not JSON` },
        req.op,
      );
    }
    if (!res.ok) throw toApiCallError(body, req.op);
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
