// Picks the backend once, at start-up: Tauri when the page runs inside the desktop shell,
// HTTP otherwise. Everything else imports `api` and never asks which one it got.

import { HttpBackend, takeToken } from './http';
import type { Backend } from './types';

export * from './types';
export { Api } from './api';

export type Startup =
  | { ok: true; backend: Backend }
  | { ok: false; reason: 'no_token' };

export function isTauri(): boolean {
  return typeof window !== 'undefined' && '__TAURI_INTERNALS__' in window;
}

export async function pickBackend(onUnauthorized: () => void): Promise<Startup> {
  if (isTauri()) {
    const { TauriBackend } = await import('./tauri');
    return { ok: true, backend: new TauriBackend() };
  }
  const token = takeToken();
  if (!token) return { ok: false, reason: 'no_token' };
  return { ok: true, backend: new HttpBackend(token, onUnauthorized) };
}
