// What the Plans page is working on — the statement, the pasted text, the options, the plan
// shown — kept while the person visits other pages, so coming back finds it as it was. The
// plan is held raw (`$state.raw`): it is replaced whole, never edited, and a 10,000-node plan
// must not become 10,000 proxies.

import type { IndexAdvice, PlanReport } from '../../bindings/api';
import type { ApiCallError } from '../../lib/backend';
import type { CompareState } from './compare.svelte';

export type PlanMode = 'explain' | 'paste' | 'indexes';

class PlanSession {
  mode = $state<PlanMode>('explain');
  /** The environment picked to explain on; it holds while the current environment is still
   *  `envPickedWith`, and the picker follows the current environment again once that changes. */
  env = $state<string | null>(null);
  envPickedWith = $state<string | null>(null);
  sql = $state('');
  params = $state<string[]>([]);
  analyze = $state(true);
  buffers = $state(true);
  verbose = $state(false);
  settings = $state(false);
  wal = $state(false);
  timing = $state(true);
  costs = $state(true);
  timeoutS = $state(30);
  paste = $state('');
  /** The input form is folded into one line while a plan is shown, until "Edit". */
  inputOpen = $state(true);
  report = $state.raw<PlanReport | null>(null);
  /** The Compare tab of the plan shown (plan B, the comparison): replaced with the report. */
  compare = $state.raw<CompareState | null>(null);
  advice = $state.raw<IndexAdvice | null>(null);
  error = $state.raw<{ what: string; error: ApiCallError; source: 'explain' | 'paste' | 'advice' } | null>(null);
}

export const planSession = new PlanSession();
