// The one interface the UI codes against. Two implementations, chosen once at start-up:
// HTTP + Server-Sent Events for `dbdeck serve`, Tauri commands + a Channel for the desktop.
// Views never see the transport; they call `api` (./api.ts).

import type { ApiError, ErrorCode, Event, Request, Response } from '../../bindings/api';

export type { ApiError, ErrorCode, Event, Request, Response };

/** Whether live events are flowing. `reconnected` means lists may be stale: reload them. */
export type LinkState = 'connecting' | 'open' | 'reconnected' | 'closed';

export interface Backend {
  readonly kind: 'http' | 'tauri';
  call(req: Request): Promise<Response>;
  subscribe(onEvent: (e: Event) => void, onState?: (s: LinkState) => void): () => void;
  /** Show `title` where the OS shows the window's name (the browser does this itself). */
  setTitle(title: string): void;
}

/** An error the backend returned (or one we made in its shape), thrown by `call`. */
export class ApiCallError extends Error {
  readonly code: ErrorCode | 'network' | 'protocol';
  readonly hint?: string;
  /** The `op` of the request that failed, for "copy details". */
  readonly op?: string;
  readonly at: Date;

  constructor(e: { code: ApiCallError['code']; message: string; hint?: string }, op?: string) {
    super(e.message);
    this.name = 'ApiCallError';
    this.code = e.code;
    this.hint = e.hint;
    this.op = op;
    this.at = new Date();
  }
}

function isApiError(x: unknown): x is ApiError {
  return (
    typeof x === 'object' &&
    x !== null &&
    typeof (x as ApiError).code === 'string' &&
    typeof (x as ApiError).message === 'string'
  );
}

/** Turn whatever a transport threw into an ApiCallError a person can read. */
export function toApiCallError(x: unknown, op?: string): ApiCallError {
  if (x instanceof ApiCallError) return x;
  if (isApiError(x)) return new ApiCallError(x, op);
  if (typeof x === 'string') {
    // Tauri rejects with a string when the command itself is missing or mis-called.
    return new ApiCallError({ code: 'protocol', message: x }, op);
  }
  if (x instanceof Error) return new ApiCallError({ code: 'network', message: x.message }, op);
  return new ApiCallError({ code: 'internal', message: 'unknown error' }, op);
}
