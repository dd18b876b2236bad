// Which nodes of the tree are collapsed, and the rows that leaves visible. The flags live in a
// typed array (one byte a node); `version` is the only reactive thing, bumped on each change,
// so a 10,000-node plan costs one O(shown) walk per click and no proxies.

import { autoCollapseDepth, visibleRows, type PlanModel } from './model';

export class TreeState {
  readonly model: PlanModel;
  private collapsed: Uint8Array;
  private version = $state(0);
  /** Depth the tree was collapsed at on opening (a large plan), or null. */
  readonly autoDepth: number | null;
  /** Still as it opened (collapsed at `autoDepth`): no collapse-all or expand-all since. */
  autoOpened = $state(true);
  /** Where the tree was scrolled to, kept while another tab shows. */
  scrollTop = 0;

  readonly visible: Int32Array = $derived.by(() => {
    void this.version;
    return visibleRows(this.model.nodes, this.collapsed);
  });
  /** Position of each shown node in `visible`, -1 when hidden. */
  readonly position: Int32Array = $derived.by(() => {
    const pos = new Int32Array(this.model.n).fill(-1);
    const v = this.visible;
    for (let k = 0; k < v.length; k++) pos[v[k]] = k;
    return pos;
  });

  constructor(model: PlanModel) {
    this.model = model;
    this.collapsed = new Uint8Array(model.n);
    this.autoDepth = autoCollapseDepth(model.nodes);
    if (this.autoDepth !== null) {
      for (const x of model.nodes) if (x.depth === this.autoDepth && x.children.length) this.collapsed[x.id] = 1;
      // The hottest nodes stay in sight: their ancestors open.
      for (const h of model.plan.summary.hottest.slice(0, 3)) this.openAncestors(h);
    }
  }

  isCollapsed(id: number): boolean {
    void this.version;
    return this.collapsed[id] === 1;
  }

  toggle(id: number) {
    if (!this.model.nodes[id]?.children.length) return;
    this.collapsed[id] = this.collapsed[id] ? 0 : 1;
    this.version++;
  }

  setCollapsed(id: number, on: boolean) {
    if (!this.model.nodes[id]?.children.length || !!this.collapsed[id] === on) return;
    this.collapsed[id] = on ? 1 : 0;
    this.version++;
  }

  /** Only the root and its children show. */
  collapseAll() {
    this.autoOpened = false;
    for (const x of this.model.nodes) this.collapsed[x.id] = x.children.length && x.id !== 0 ? 1 : 0;
    this.version++;
  }

  expandAll() {
    this.autoOpened = false;
    this.collapsed.fill(0);
    this.version++;
  }

  /** Open every ancestor of `id` so its row shows. */
  reveal(id: number) {
    if (this.openAncestors(id)) this.version++;
  }

  private openAncestors(id: number): boolean {
    let changed = false;
    for (const a of this.model.ancestors(id)) {
      if (this.collapsed[a]) {
        this.collapsed[a] = 0;
        changed = true;
      }
    }
    return changed;
  }
}
