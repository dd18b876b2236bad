// Application state shared by every view: the backend, the environments with their latest
// health (kept current by `health` and `envs_changed` events), the selected environment,
// the theme and the route. Views read it; only the functions here change it.

import type { AppInfo, EnvSummary, HealthSample } from '../bindings/api';
import { Api, ApiCallError, pickBackend, toApiCallError, type Event, type LinkState } from './backend';

export type Route = 'overview' | 'dashboard' | 'plans' | 'migrations' | 'replication' | 'environments' | 'audit';
export const ROUTES: { id: Route; label: string; key: string }[] = [
  { id: 'overview', label: 'Overview', key: '1' },
  { id: 'dashboard', label: 'Dashboard', key: '2' },
  { id: 'plans', label: 'Plans', key: '3' },
  { id: 'migrations', label: 'Migrations', key: '4' },
  { id: 'replication', label: 'Replication', key: '5' },
  { id: 'environments', label: 'Environments', key: '6' },
  { id: 'audit', label: 'Audit', key: '7' },
];

export type ThemeChoice = 'system' | 'light' | 'dark';

const SELECTED_KEY = 'dbdeck.env';
const THEME_KEY = 'dbdeck.theme';

function readLocal(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}
function writeLocal(key: string, value: string | null) {
  try {
    if (value === null) localStorage.removeItem(key);
    else localStorage.setItem(key, value);
  } catch {
    // Private windows may refuse storage; the choice then lasts for this page only.
  }
}

function routeFromHash(): Route {
  const h = window.location.hash.replace(/^#\/?/, '').split(/[/?]/)[0];
  return ROUTES.some((r) => r.id === h) ? (h as Route) : 'overview';
}

class AppState {
  /** null until start-up picked a backend. */
  api = $state<Api | null>(null);
  startup = $state<'loading' | 'ready' | 'no_token' | 'unauthorized' | 'failed'>('loading');
  startupError = $state<ApiCallError | null>(null);
  info = $state<AppInfo | null>(null);
  envs = $state<EnvSummary[]>([]);
  envsLoaded = $state(false);
  envsError = $state<ApiCallError | null>(null);
  selected = $state<string | null>(readLocal(SELECTED_KEY));
  link = $state<LinkState>('connecting');
  route = $state<Route>(routeFromHash());
  theme = $state<ThemeChoice>((readLocal(THEME_KEY) as ThemeChoice) || 'system');
  systemDark = $state(false);
  /** Ticks every second so relative times ("4 s ago") stay true. */
  now = $state(Date.now());
  paletteOpen = $state(false);
  /** An action a view should start when it opens (from the palette or an empty state). */
  pending = $state<'add' | 'import' | 'export' | 'verify' | 'plan-explain' | 'plan-paste' | 'plan-indexes' | 'mig-status' | 'mig-drift' | 'mig-apply' | 'env-edit' | 'repl-failover' | null>(null);
  /** A statement another page asked the Plans page to explain (the Dashboard's "Explain"). */
  planDraft = $state<{ sql: string; env: string | null } | null>(null);

  private healthListeners = new Set<(s: HealthSample) => void>();
  private eventListeners = new Set<(e: Event) => void>();

  get current(): EnvSummary | null {
    return this.envs.find((e) => e.env.name === this.selected) ?? null;
  }
  get effectiveTheme(): 'light' | 'dark' {
    return this.theme === 'system' ? (this.systemDark ? 'dark' : 'light') : this.theme;
  }

  async start() {
    const media = window.matchMedia('(prefers-color-scheme: dark)');
    this.systemDark = media.matches;
    media.addEventListener('change', (e) => (this.systemDark = e.matches));
    window.addEventListener('hashchange', () => (this.route = routeFromHash()));
    setInterval(() => (this.now = Date.now()), 1000);

    const picked = await pickBackend(() => (this.startup = 'unauthorized'));
    if (!picked.ok) {
      this.startup = 'no_token';
      return;
    }
    const api = new Api(picked.backend);
    this.api = api;
    try {
      this.info = await api.appInfo();
    } catch (e) {
      const err = toApiCallError(e, 'app_info');
      if (err.code === 'unauthorized') {
        this.startup = 'unauthorized';
      } else {
        this.startupError = err;
        this.startup = 'failed';
      }
      return;
    }
    this.startup = 'ready';
    picked.backend.subscribe(
      (e) => this.onEvent(e),
      (s) => {
        this.link = s;
        if (s === 'reconnected') void this.loadEnvs();
      },
    );
    await this.loadEnvs();
  }

  async loadEnvs() {
    if (!this.api) return;
    try {
      this.envs = await this.api.envList();
      this.envsError = null;
    } catch (e) {
      this.envsError = toApiCallError(e, 'env_list');
    } finally {
      this.envsLoaded = true;
    }
    if (this.envs.length && !this.current) this.select(this.envs[0].env.name);
    if (!this.envs.length) this.select(null);
  }

  private onEvent(e: Event) {
    if (e.type === 'health') {
      const i = this.envs.findIndex((x) => x.env.name === e.sample.env);
      // An older sample (a slow probe finishing late) must not replace a newer one.
      if (i >= 0 && (!this.envs[i].health || this.envs[i].health!.ts_ms <= e.sample.ts_ms)) {
        this.envs[i].health = e.sample;
      }
      for (const l of this.healthListeners) l(e.sample);
    } else if (e.type === 'envs_changed') {
      void this.loadEnvs();
    }
    for (const l of this.eventListeners) l(e);
  }

  onHealth(l: (s: HealthSample) => void): () => void {
    this.healthListeners.add(l);
    return () => this.healthListeners.delete(l);
  }
  onEventOf(l: (e: Event) => void): () => void {
    this.eventListeners.add(l);
    return () => this.eventListeners.delete(l);
  }

  select(name: string | null) {
    this.selected = name;
    writeLocal(SELECTED_KEY, name);
  }

  setTheme(t: ThemeChoice) {
    this.theme = t;
    writeLocal(THEME_KEY, t === 'system' ? null : t);
  }
  cycleTheme() {
    const order: ThemeChoice[] = ['system', 'light', 'dark'];
    this.setTheme(order[(order.indexOf(this.theme) + 1) % order.length]);
  }

  /** Go to `route` and ask its view to start `action`. */
  goAndDo(route: Route, action: NonNullable<AppState['pending']>) {
    this.pending = action;
    this.go(route);
  }
  takePending(...accept: NonNullable<AppState['pending']>[]): AppState['pending'] {
    const p = this.pending;
    if (p && accept.includes(p)) {
      this.pending = null;
      return p;
    }
    return null;
  }

  /** Open the Plans page in Explain mode with `sql` filled in (its $n parameters ask for values). */
  explainStatement(sql: string, env: string | null = this.selected) {
    this.planDraft = { sql, env };
    this.go('plans');
  }
  takePlanDraft(): AppState['planDraft'] {
    const d = this.planDraft;
    this.planDraft = null;
    return d;
  }

  /** Make `name` current and show its dashboard. */
  openDashboard(name: string) {
    this.select(name);
    this.go('dashboard');
  }

  go(route: Route) {
    if (window.location.hash !== `#/${route}`) window.location.hash = `#/${route}`;
    this.route = route;
  }
}

export const app = new AppState();

/** The Api, for code that only runs once start-up succeeded. */
export function api(): Api {
  if (!app.api) throw new ApiCallError({ code: 'internal', message: 'dbdeck is still starting' });
  return app.api;
}
