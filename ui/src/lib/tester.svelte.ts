// "Test connection" from anywhere (a tile, a table row, the command palette) opens the same
// report dialog. One test at a time per environment; a second click while running waits.

import type { TestReport } from '../bindings/api';
import { toApiCallError, type ApiCallError } from './backend';
import { api } from './state.svelte';

class Tester {
  target = $state<string | null>(null);
  report = $state<TestReport | null>(null);
  error = $state<ApiCallError | null>(null);
  running = $state<Set<string>>(new Set());
  open = $state(false);

  async run(name: string, show = true) {
    if (show) {
      this.target = name;
      this.report = null;
      this.error = null;
      this.open = true;
    }
    if (this.running.has(name)) return;
    this.running = new Set([...this.running, name]);
    try {
      const r = await api().envTest(name);
      if (this.target === name) this.report = r;
    } catch (e) {
      if (this.target === name) this.error = toApiCallError(e, 'env_test');
    } finally {
      const next = new Set(this.running);
      next.delete(name);
      this.running = next;
    }
  }

  isRunning(name: string): boolean {
    return this.running.has(name);
  }
}

export const tester = new Tester();
