// One figure set a dashboard panel reads per environment (Redis INFO, PgBouncer SHOW …):
// reloaded on the dashboard's poll, emptied when the environment changes, a late answer for
// an older request dropped, and the last good data kept (with the error) when a read fails.

import { toApiCallError, type ApiCallError } from './backend';

export class Polled<T> {
  data = $state<T | null>(null);
  error = $state<ApiCallError | null>(null);
  /** The latest read is still out. */
  loading = $state(false);
  private seq = 0;
  private loadedFor = '';

  constructor(
    private readonly op: string,
    private readonly read: (name: string) => Promise<T>,
  ) {}

  async load(name: string) {
    const mine = ++this.seq;
    this.loading = true;
    try {
      const d = await this.read(name);
      if (mine !== this.seq) return;
      this.data = d;
      this.error = null;
    } catch (e) {
      if (mine === this.seq) this.error = toApiCallError(e, this.op);
    } finally {
      if (mine === this.seq) this.loading = false;
    }
  }

  /** Read `name` again; when it is another environment than last time, start from nothing
   *  and return true. Call it untracked from the panel's effect. */
  refresh(name: string): boolean {
    const fresh = name !== this.loadedFor;
    if (fresh) {
      this.loadedFor = name;
      this.seq++;
      this.data = null;
      this.error = null;
    }
    void this.load(name);
    return fresh;
  }
}
