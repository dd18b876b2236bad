// The desktop door: Tauri commands `api_call` (one Request → one Response, rejecting with an
// ApiError), `plan_analyze` (a pasted plan as the raw body) and `subscribe` (events pushed over
// a Channel). Loaded only in Tauri.

import { Channel, invoke } from '@tauri-apps/api/core';
import { getCurrentWindow } from '@tauri-apps/api/window';
import { toApiCallError, type Backend, type Event, type LinkState, type Request, type Response } from './types';

export class TauriBackend implements Backend {
  readonly kind = 'tauri' as const;

  async call(request: Request): Promise<Response> {
    try {
      // A pasted plan goes as the raw body (megabytes that would otherwise be escaped into JSON
      // here and read back out of it in Rust), as `dbdeck serve` takes it.
      if (request.op === 'plan_analyze') {
        const headers: Record<string, string> = request.compact === undefined ? {} : { 'dbdeck-compact': String(request.compact) };
        return await invoke<Response>('plan_analyze', new TextEncoder().encode(request.text), { headers });
      }
      return await invoke<Response>('api_call', { request });
    } catch (e) {
      throw toApiCallError(e, request.op);
    }
  }

  subscribe(onEvent: (e: Event) => void, onState?: (s: LinkState) => void): () => void {
    let active = true;
    const channel = new Channel<Event>();
    channel.onmessage = (e) => {
      if (active) onEvent(e);
    };
    onState?.('connecting');
    invoke('subscribe', { channel }).then(
      () => onState?.('open'),
      () => onState?.('closed'),
    );
    return () => {
      // The Rust side drops the channel when a send fails; stop delivering meanwhile.
      active = false;
    };
  }

  setTitle(title: string): void {
    // The window's title bar names the environment, like the page's band does.
    document.title = title;
    getCurrentWindow()
      .setTitle(title)
      .catch(() => {});
  }
}
