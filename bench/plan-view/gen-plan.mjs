// Deterministic generator of large PostgreSQL EXPLAIN (ANALYZE, BUFFERS, VERBOSE, FORMAT JSON)
// output, for the plan-viewer benchmark.
//
//   node gen-plan.mjs NODES [SEED] [--layout flat|psql|compact] > plan.json   one plan on stdout
//   import { generatePlan, planStats } from './gen-plan.mjs'
//
// Shape: Limit -> Sort -> Aggregate on top of a "spine" of joins (Hash Join / Nested Loop,
// with the odd Sort or Aggregate) that goes about NODES/40 levels deep (at most 250); the inner
// side of each spine join takes a share of the remaining nodes, and big shares become Append
// nodes over partitions (many members each). Every subtree keeps its depth under MAX_DEPTH.
// Numbers are made bottom-up so they hang together the way PostgreSQL's do: a parent's cost
// and time cover its children's, buffers are inclusive, Nested Loop inner sides run once per
// outer row, Hash nodes report buckets and memory, sorts and hash aggregates sometimes spill.
// The same NODES and SEED give byte-identical output.

import { fileURLToPath } from 'node:url';

export const MAX_DEPTH = 300;

/** A small seeded PRNG (xorshift32 on top of an integer hash of the seed); values in [0, 1). */
function makeRng(seed) {
  let x = (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ 0xc2b2ae35) >>> 0 || 1;
  const next = () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 4294967296;
  };
  for (let i = 0; i < 8; i++) next();
  const r = {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: (arr) => arr[Math.floor(next() * arr.length)],
    chance: (p) => next() < p,
    /** Log-uniform between lo and hi. */
    logUniform: (lo, hi) => Math.exp(Math.log(lo) + next() * (Math.log(hi) - Math.log(lo))),
    /** A multiplicative estimation error: mostly near 1, sometimes off by 10-1000x. */
    misestimate: () => {
      const u = next();
      if (u < 0.7) return Math.exp((next() - 0.5) * 0.6);
      if (u < 0.92) return Math.exp((next() - 0.5) * 4);
      return next() < 0.5 ? r.logUniform(10, 1000) : 1 / r.logUniform(10, 1000);
    },
  };
  return r;
}

const TABLES = [
  ['orders', ['id', 'customer_id', 'created_at', 'status', 'total']],
  ['order_items', ['id', 'order_id', 'product_id', 'qty', 'price']],
  ['customers', ['id', 'name', 'email', 'country', 'created_at']],
  ['products', ['id', 'sku', 'name', 'category_id', 'price']],
  ['categories', ['id', 'parent_id', 'name']],
  ['shipments', ['id', 'order_id', 'carrier', 'shipped_at', 'delivered_at']],
  ['payments', ['id', 'order_id', 'method', 'amount', 'paid_at']],
  ['inventory', ['product_id', 'warehouse_id', 'on_hand', 'updated_at']],
  ['warehouses', ['id', 'city', 'region']],
  ['events', ['id', 'session_id', 'kind', 'at', 'payload']],
  ['sessions', ['id', 'customer_id', 'started_at', 'agent']],
  ['reviews', ['id', 'product_id', 'customer_id', 'stars', 'body']],
];
/** Partitioned tables: Append members scan their partitions. */
const PARTITIONED = [
  ['measurements', ['id', 'sensor_id', 'at', 'value'], 'at'],
  ['events', ['id', 'session_id', 'kind', 'at', 'payload'], 'at'],
  ['audit_log', ['id', 'actor', 'action', 'at', 'detail'], 'at'],
];
const FILTER_TEMPLATES = [
  (a, c) => `(${a}.${c[3] ?? c[1]} > (now() - '7 days'::interval))`,
  (a, c) => `((${a}.${c[1]} % 10) = 3)`,
  (a, c) => `(${a}.${c[2]} IS NOT NULL)`,
  (a, c) => `((${a}.${c[c.length - 1]})::text ~~ '%x%'::text)`,
  (a, c) => `((${a}.${c[0]} >= 1000) AND (${a}.${c[0]} < 250000))`,
];

const BUFFER_KEYS = [
  'Shared Hit Blocks',
  'Shared Read Blocks',
  'Shared Dirtied Blocks',
  'Shared Written Blocks',
  'Local Hit Blocks',
  'Local Read Blocks',
  'Local Dirtied Blocks',
  'Local Written Blocks',
  'Temp Read Blocks',
  'Temp Written Blocks',
];

const round2 = (v) => Math.round(v * 100) / 100;
const round3 = (v) => Math.round(v * 1000) / 1000;

class Builder {
  constructor(seed) {
    this.rng = makeRng(seed);
    this.aliasN = 0;
    this.maxDepth = 0;
    this.count = 0;
  }

  alias(table) {
    this.aliasN += 1;
    return `${table[0]}${this.aliasN}`;
  }

  /** The skeleton: node type, extra fields that do not depend on numbers, and children. */
  skel(type, depth, children = [], extra = {}) {
    this.count += 1;
    if (depth > this.maxDepth) this.maxDepth = depth;
    return { type, depth, children, extra };
  }

  leaf(depth, partition = null) {
    const r = this.rng;
    if (partition) {
      const [name, cols, key] = partition.table;
      const rel = `${name}_p${String(partition.index).padStart(4, '0')}`;
      const a = rel;
      const useIndex = r.chance(0.35);
      const extra = { rel, alias: a, cols, schema: 'public', partition: true };
      if (useIndex) {
        extra.index = `${rel}_${key}_idx`;
        extra.indexCond = `(${a}.${key} >= '2024-01-01 00:00:00+00'::timestamp with time zone)`;
      } else {
        extra.filter = `(${a}.${key} >= '2024-01-01 00:00:00+00'::timestamp with time zone)`;
      }
      return this.skel(useIndex ? 'Index Scan' : 'Seq Scan', depth, [], extra);
    }
    const t = r.pick(TABLES);
    const a = this.alias(t);
    const extra = { rel: t[0], alias: a, cols: t[1], schema: 'public' };
    const kind = r.next();
    if (kind < 0.45) {
      if (r.chance(0.6)) extra.filter = r.pick(FILTER_TEMPLATES)(a, t[1]);
      return this.skel('Seq Scan', depth, [], extra);
    }
    extra.index = kind < 0.85 ? `${t[0]}_pkey` : `${t[0]}_${t[1][1]}_idx`;
    extra.indexCond = kind < 0.85 ? `(${a}.${t[1][0]} = $${r.int(1, 9)})` : `(${a}.${t[1][1]} = ANY ('{1,2,3}'::integer[]))`;
    if (r.chance(0.25)) extra.filter = r.pick(FILTER_TEMPLATES)(a, t[1]);
    return this.skel(kind < 0.93 ? 'Index Scan' : 'Index Only Scan', depth, [], extra);
  }

  /** Split `total` into `k` positive integers with random weights. */
  split(total, k) {
    const w = Array.from({ length: k }, () => -Math.log(1 - this.rng.next() * 0.999));
    const sum = w.reduce((s, v) => s + v, 0);
    const out = w.map((v) => 1 + Math.floor(((total - k) * v) / sum));
    let rest = total - out.reduce((s, v) => s + v, 0);
    for (let i = 0; rest > 0; i = (i + 1) % k, rest--) out[i] += 1;
    return out;
  }

  append(budget, depth) {
    const r = this.rng;
    // Near the depth limit every member is a partition scan; otherwise mostly partitions
    // (leaves) with a few bigger members, or whole subqueries per member.
    const allLeaves = MAX_DEPTH - depth <= 3;
    const k = allLeaves ? budget - 1 : Math.max(2, Math.min(budget - 1, r.int(8, 160)));
    const members = [];
    if (allLeaves || r.chance(0.55)) {
      const table = r.pick(PARTITIONED);
      this.split(budget - 1, k).forEach((b, i) => {
        members.push(b === 1 ? this.leaf(depth + 1, { table, index: i + 1 }) : this.build(b, depth + 1));
      });
    } else {
      for (const b of this.split(budget - 1, k)) members.push(this.build(b, depth + 1));
    }
    return this.skel('Append', depth, members, {});
  }

  join(budget, depth, outerFn, innerBudget) {
    const r = this.rng;
    const useHash = innerBudget >= 2 && r.chance(0.6);
    const outerBudget = budget - 1 - innerBudget;
    const outer = outerFn(outerBudget, depth + 1);
    if (useHash) {
      const inner = this.build(innerBudget - 1, depth + 2);
      const hash = this.skel('Hash', depth + 1, [inner], {});
      return this.skel('Hash Join', depth, [outer, hash], { joinType: r.pick(['Inner', 'Inner', 'Inner', 'Left', 'Semi', 'Right']) });
    }
    const inner = this.build(innerBudget, depth + 1);
    return this.skel('Nested Loop', depth, [outer, inner], { joinType: r.pick(['Inner', 'Inner', 'Left', 'Anti', 'Semi']) });
  }

  /** A subtree of exactly `budget` nodes rooted at `depth`. */
  build(budget, depth) {
    const r = this.rng;
    const room = MAX_DEPTH - depth;
    if (budget <= 1 || room <= 0) return this.leaf(depth);
    if (room <= 3) return budget === 2 ? this.skel('Sort', depth, [this.leaf(depth + 1)], {}) : this.append(budget, depth);
    if (budget >= 12 && (budget > room * 2 || r.chance(0.3))) return this.append(budget, depth);
    const u = r.next();
    if (budget >= 3 && u < 0.6) {
      const inner = Math.max(1, Math.floor((budget - 1) * (0.05 + r.next() * 0.4)));
      return this.join(budget, depth, (b, d) => this.build(b, d), Math.min(inner, budget - 2));
    }
    const type = u < 0.8 ? 'Sort' : 'Aggregate';
    return this.skel(type, depth, [this.build(budget - 1, depth + 1)], {});
  }

  /** The deep part: joins down `levels` levels, the inner sides taking the rest of the nodes. */
  spine(budget, depth, levels) {
    const r = this.rng;
    if (levels <= 0 || budget < 6) return this.build(budget, depth);
    if (r.chance(0.08)) return this.skel(r.chance(0.5) ? 'Sort' : 'Aggregate', depth, [this.spine(budget - 1, depth + 1, levels - 1)], {});
    const perLevel = (budget - levels * 2) / levels;
    const inner = Math.max(1, Math.min(budget - 3, Math.round(perLevel * (0.3 + r.next() * 1.4))));
    return this.join(budget, depth, (b, d) => this.spine(b, d, levels - 1), inner);
  }
}

/** Fill in rows, costs, times and buffers bottom-up, and produce PostgreSQL's JSON node. */
function realise(s, rng, loops, rel) {
  const node = {
    'Node Type': s.type,
  };
  if (rel) node['Parent Relationship'] = rel;
  node['Parallel Aware'] = false;
  node['Async Capable'] = false;

  const x = s.extra;
  let kids = [];
  const childRel = (i) => {
    if (s.type === 'Append') return 'Member';
    if (s.children.length === 2) return i === 0 ? 'Outer' : 'Inner';
    return 'Outer';
  };
  // The outer side runs as often as this node; a Nested Loop runs its inner side once per
  // outer row (bounded here so numbers stay printable).
  if (s.type === 'Nested Loop') {
    const outer = realise(s.children[0], rng, loops, 'Outer');
    // An index probe may run thousands of times; a bigger inner side (a rescanned subquery)
    // only a few.
    const cap = s.children[1].children.length ? 8 : 2000;
    const perOuter = Math.max(1, Math.min(outer.rowsPerLoop * loops, cap));
    const inner = realise(s.children[1], rng, Math.round(perOuter), 'Inner');
    kids = [outer, inner];
  } else {
    kids = s.children.map((c, i) => realise(c, rng, s.type === 'Hash' ? 1 : loops, childRel(i)));
  }

  let planRows;
  let actualRows;
  let startupCost = 0;
  let totalCost;
  let ownMs;
  let startupMs = 0;
  let width = 8 + Math.floor(rng.next() * 60);
  let ownHit = 0;
  let ownRead = 0;
  let temp = 0;
  const sumKids = (f) => kids.reduce((a, k) => a + f(k), 0);
  const childTimeMs = sumKids((k) => (k.node['Actual Total Time'] * k.node['Actual Loops']) / loops);
  const childCost = sumKids((k) => k.node['Total Cost']);

  switch (s.type) {
    case 'Seq Scan':
    case 'Index Scan':
    case 'Index Only Scan': {
      const seq = s.type === 'Seq Scan';
      // Rescanned inner sides are small lookup tables; partitions are mid-sized.
      const tableRows = Math.round(loops > 1 ? rng.logUniform(10, 3000) : x.partition ? rng.logUniform(1000, 3e5) : rng.logUniform(100, 2e6));
      planRows = seq ? Math.max(1, Math.round(tableRows * (x.filter ? rng.logUniform(0.001, 0.6) : 1))) : Math.max(1, Math.round(rng.logUniform(1, 500)));
      actualRows = Math.max(0, Math.round(planRows * rng.misestimate()));
      const pages = Math.ceil(tableRows / 60);
      startupCost = seq ? 0 : 0.29 + rng.next() * 0.2;
      totalCost = seq ? pages + tableRows * 0.01 + (x.filter ? tableRows * 0.0025 : 0) : startupCost + 4 + planRows * 0.6;
      ownMs = seq ? tableRows * 0.00005 + rng.next() * 0.3 : 0.004 + actualRows * 0.0015 + rng.next() * 0.02;
      startupMs = seq ? rng.next() * 0.05 : ownMs * 0.4;
      ownHit = seq ? Math.round(pages * 0.8) : 3 + Math.ceil(actualRows / 40);
      ownRead = seq ? pages - ownHit : rng.chance(0.2) ? rng.int(1, 30) : 0;
      node['Scan Direction'] = seq ? undefined : 'Forward';
      if (!seq) node['Index Name'] = x.index;
      node['Relation Name'] = x.rel;
      node.Schema = x.schema;
      node.Alias = x.alias;
      break;
    }
    case 'Hash': {
      planRows = kids[0].node['Plan Rows'];
      actualRows = kids[0].rowsPerLoop;
      startupCost = childCost;
      totalCost = childCost;
      ownMs = actualRows * 0.0004;
      break;
    }
    case 'Hash Join':
    case 'Nested Loop': {
      const [o, i] = kids;
      const sel = rng.logUniform(0.0005, 1.5);
      planRows = Math.max(1, Math.round(o.node['Plan Rows'] * Math.max(1, i.node['Plan Rows']) * sel * (s.type === 'Nested Loop' ? 1 : 0.01)));
      planRows = Math.min(planRows, 2e6);
      actualRows = Math.max(0, Math.round(Math.min(planRows * rng.misestimate(), 2e6)));
      startupCost = s.type === 'Hash Join' ? i.node['Total Cost'] : o.node['Startup Cost'] + i.node['Startup Cost'];
      totalCost = s.type === 'Hash Join' ? childCost + planRows * 0.01 : o.node['Total Cost'] + o.node['Plan Rows'] * i.node['Total Cost'] * 0.05 + planRows * 0.01;
      ownMs = actualRows * 0.0001 + rng.next() * 0.05;
      startupMs = s.type === 'Hash Join' ? (i.node['Actual Total Time'] * i.node['Actual Loops']) / loops : 0.01;
      break;
    }
    case 'Sort': {
      planRows = kids[0].node['Plan Rows'];
      actualRows = kids[0].rowsPerLoop;
      startupCost = childCost + planRows * Math.log2(planRows + 2) * 0.005;
      totalCost = startupCost + planRows * 0.01;
      ownMs = actualRows * Math.log2(actualRows + 2) * 0.00002;
      startupMs = childTimeMs + ownMs * 0.9;
      break;
    }
    case 'Aggregate': {
      const groups = rng.chance(0.15) ? 1 : Math.max(1, Math.round(kids[0].node['Plan Rows'] * rng.logUniform(0.001, 0.5)));
      planRows = groups;
      actualRows = groups === 1 ? 1 : Math.max(1, Math.round(Math.min(groups * rng.misestimate(), Math.max(1, kids[0].rowsPerLoop))));
      startupCost = childCost + kids[0].node['Plan Rows'] * 0.0025;
      totalCost = startupCost + planRows * 0.01;
      ownMs = kids[0].rowsPerLoop * 0.00025;
      startupMs = childTimeMs + ownMs * 0.8;
      break;
    }
    case 'Append': {
      planRows = sumKids((k) => k.node['Plan Rows']);
      actualRows = sumKids((k) => k.rowsPerLoop);
      totalCost = childCost + planRows * 0.0005;
      ownMs = kids.length * 0.002;
      startupMs = kids.length ? kids[0].node['Actual Startup Time'] : 0;
      break;
    }
    case 'Limit': {
      planRows = Math.min(kids[0].node['Plan Rows'], 50);
      actualRows = Math.min(kids[0].rowsPerLoop, 50);
      startupCost = kids[0].node['Startup Cost'];
      totalCost = startupCost + (kids[0].node['Total Cost'] - startupCost) * 0.1;
      ownMs = 0.002;
      startupMs = kids[0].node['Actual Startup Time'];
      break;
    }
    default:
      throw new Error(`no numbers for ${s.type}`);
  }
  if (node['Scan Direction'] === undefined) delete node['Scan Direction'];

  const totalMs = childTimeMs + ownMs;
  // Actual rows and times are per loop; loops > 1 under Nested Loop inner sides.
  const perLoopRows = actualRows;
  node['Startup Cost'] = round2(startupCost);
  node['Total Cost'] = round2(Math.max(totalCost, startupCost));
  node['Plan Rows'] = planRows;
  node['Plan Width'] = width;
  node['Actual Startup Time'] = round3(Math.min(startupMs, totalMs));
  node['Actual Total Time'] = round3(totalMs);
  node['Actual Rows'] = perLoopRows;
  node['Actual Loops'] = loops;

  // VERBOSE output columns and the type-specific fields, in PostgreSQL's order.
  const outCols = x.cols ? x.cols.slice(0, 1 + Math.floor(rng.next() * x.cols.length)).map((c) => `${x.alias}.${c}`) : null;
  const below = kids.length ? kids[0].node.Output ?? [] : [];
  switch (s.type) {
    case 'Seq Scan':
      node.Output = outCols;
      if (x.filter) {
        node.Filter = x.filter;
        node['Rows Removed by Filter'] = Math.round(perLoopRows * rng.logUniform(0.5, 400));
      }
      break;
    case 'Index Scan':
    case 'Index Only Scan':
      node.Output = outCols;
      node['Index Cond'] = x.indexCond;
      node['Rows Removed by Index Recheck'] = 0;
      if (x.filter) {
        node.Filter = x.filter;
        node['Rows Removed by Filter'] = Math.round(perLoopRows * rng.logUniform(0.1, 20));
      }
      if (s.type === 'Index Only Scan') node['Heap Fetches'] = Math.round(perLoopRows * rng.next());
      break;
    case 'Hash': {
      node.Output = below;
      const buckets = 2 ** Math.max(10, Math.ceil(Math.log2(planRows + 1)));
      const batches = actualRows > 400000 ? 2 ** rng.int(1, 4) : 1;
      node['Hash Buckets'] = buckets;
      node['Original Hash Buckets'] = buckets;
      node['Hash Batches'] = batches;
      node['Original Hash Batches'] = batches > 1 && rng.chance(0.5) ? batches / 2 : batches;
      node['Peak Memory Usage'] = Math.max(9, Math.round((actualRows * 48) / 1024 / batches));
      if (batches > 1) temp += Math.round(actualRows / 80);
      break;
    }
    case 'Hash Join':
    case 'Nested Loop': {
      node['Join Type'] = x.joinType;
      node['Inner Unique'] = rng.chance(0.4);
      node.Output = [...below.slice(0, 3), ...(kids[1].node.Output ?? []).slice(0, 2)];
      const oa = kids[0].node.Alias ?? firstAlias(kids[0].node);
      const ia = kids[1].node.Alias ?? firstAlias(kids[1].node);
      if (s.type === 'Hash Join') node['Hash Cond'] = `(${oa}.id = ${ia}.id)`;
      else if (rng.chance(0.3)) {
        node['Join Filter'] = `(${oa}.id = ${ia}.id)`;
        node['Rows Removed by Join Filter'] = Math.round(perLoopRows * rng.logUniform(1, 50));
      }
      break;
    }
    case 'Sort': {
      node.Output = below;
      node['Sort Key'] = below.length ? [below[0], ...(rng.chance(0.4) && below[1] ? [`${below[1]} DESC`] : [])] : ['(1)'];
      const disk = actualRows > 300000;
      node['Sort Method'] = disk ? 'external merge' : actualRows <= 50 && rng.chance(0.5) ? 'top-N heapsort' : 'quicksort';
      node['Sort Space Used'] = disk ? Math.round((actualRows * width) / 1024) : Math.max(25, Math.round((actualRows * (width + 24)) / 1024));
      node['Sort Space Type'] = disk ? 'Disk' : 'Memory';
      if (disk) temp += Math.round((actualRows * width) / 8192);
      break;
    }
    case 'Aggregate': {
      const plain = planRows === 1;
      node.Strategy = plain ? 'Plain' : rng.chance(0.7) ? 'Hashed' : 'Sorted';
      node['Partial Mode'] = 'Simple';
      node.Output = [...below.slice(0, 1), 'count(*)'];
      if (!plain) node['Group Key'] = below.slice(0, 1).length ? below.slice(0, 1) : ['(1)'];
      if (node.Strategy === 'Hashed') {
        const batches = actualRows > 200000 ? rng.int(2, 9) : 1;
        node['Planned Partitions'] = batches > 1 ? 4 : 0;
        node['HashAgg Batches'] = batches;
        node['Peak Memory Usage'] = Math.max(24, Math.round((actualRows * 40) / 1024 / batches));
        node['Disk Usage'] = batches > 1 ? Math.round((actualRows * 16) / 1024) : 0;
        if (batches > 1) temp += Math.round(actualRows / 100);
      }
      break;
    }
    case 'Append':
      node.Output = [];
      node['Subplans Removed'] = 0;
      break;
    case 'Limit':
      node.Output = below;
      break;
  }

  // BUFFERS: inclusive of the children, like PostgreSQL's.
  const buf = Object.fromEntries(BUFFER_KEYS.map((k) => [k, sumKids((c) => c.node[k])]));
  buf['Shared Hit Blocks'] += ownHit;
  buf['Shared Read Blocks'] += Math.max(0, ownRead);
  buf['Temp Read Blocks'] += temp;
  buf['Temp Written Blocks'] += temp;
  Object.assign(node, buf);
  if (s.type !== 'Hash' && s.type !== 'Append' && !node.Output) delete node.Output;
  if (kids.length) node.Plans = kids.map((k) => k.node);
  return { node, rowsPerLoop: perLoopRows };
}

function firstAlias(n) {
  if (n.Alias) return n.Alias;
  for (const c of n.Plans ?? []) {
    const a = firstAlias(c);
    if (a) return a;
  }
  return 'x';
}

/**
 * A plan of exactly `nodes` nodes (at least 4) as PostgreSQL's FORMAT JSON text, in one of three
 * layouts (the same document in each):
 *  - 'flat' (default): psql's layout (one member per line) with a constant two-space indent
 *    instead of one that grows with depth (pev2 strips quotes from lines that start with one,
 *    for psql's quoted output, so the lines must not start at column 0);
 *  - 'psql': as psql shows it, two more spaces per JSON level, so four per plan level: a deep
 *    plan grows large (the 10,000-node plan, 264 levels deep, is ~180 MB against ~8 MB flat);
 *  - 'compact': JSON on one line. pev2 cleans pasted text of psql's table borders with a regular
 *    expression that is quadratic in the length of a line, so it takes minutes on this.
 */
export function generatePlan(nodes, seed = 1, { layout = 'flat' } = {}) {
  if (!Number.isInteger(nodes) || nodes < 4) throw new Error('nodes must be an integer >= 4');
  const b = new Builder(seed * 7919 + nodes);
  const levels = Math.min(250, Math.max(8, Math.round(nodes / 40)));
  const spine = b.spine(nodes - 3, 3, levels);
  const agg = b.skel('Aggregate', 2, [spine], {});
  const sort = b.skel('Sort', 1, [agg], {});
  const root = b.skel('Limit', 0, [sort], {});
  if (b.count !== nodes) throw new Error(`generator made ${b.count} nodes, wanted ${nodes}`);
  if (b.maxDepth > MAX_DEPTH) throw new Error(`generator went ${b.maxDepth} deep`);
  const { node } = realise(root, b.rng, 1, null);
  const planning = Object.fromEntries(BUFFER_KEYS.map((k) => [k, 0]));
  planning['Shared Hit Blocks'] = 40 + nodes * 3;
  const doc = [
    {
      Plan: node,
      Planning: planning,
      'Planning Time': round3(2 + nodes * 0.05),
      Triggers: [],
      'Execution Time': round3(node['Actual Total Time'] + 0.5 + nodes * 0.001),
    },
  ];
  if (layout === 'compact') return JSON.stringify(doc);
  if (layout === 'psql') return toPgJson(doc, '', '  ');
  if (layout === 'flat') return toPgJson(doc, '  ', '');
  throw new Error(`unknown layout ${layout}`);
}

/** JSON laid out like psql shows EXPLAIN's (scalar arrays on one line), indenting by `unit`. */
function toPgJson(v, indent, unit) {
  if (Array.isArray(v)) {
    if (v.every((e) => e === null || typeof e !== 'object')) return `[${v.map((e) => JSON.stringify(e)).join(', ')}]`;
    const inner = indent + unit;
    return `[\n${v.map((e) => inner + toPgJson(e, inner, unit)).join(',\n')}\n${indent}]`;
  }
  if (v && typeof v === 'object') {
    const inner = indent + unit;
    const keys = Object.keys(v);
    if (!keys.length) return '{}';
    return `{\n${keys.map((k) => `${inner}${JSON.stringify(k)}: ${toPgJson(v[k], inner, unit)}`).join(',\n')}\n${indent}}`;
  }
  if (typeof v === 'number' && !Number.isInteger(v)) return String(v);
  return JSON.stringify(v);
}

/** Node count, max depth (root = 0), widest fan-out and node-type histogram of a JSON plan text. */
export function planStats(text) {
  const doc = JSON.parse(text);
  const root = (Array.isArray(doc) ? doc[0] : doc).Plan;
  let count = 0;
  let maxDepth = 0;
  let widest = 0;
  const types = {};
  const stack = [[root, 0]];
  while (stack.length) {
    const [n, d] = stack.pop();
    count += 1;
    maxDepth = Math.max(maxDepth, d);
    types[n['Node Type']] = (types[n['Node Type']] ?? 0) + 1;
    const kids = n.Plans ?? [];
    widest = Math.max(widest, kids.length);
    for (const k of kids) stack.push([k, d + 1]);
  }
  return { count, maxDepth, widest, types, bytes: Buffer.byteLength(text) };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const li = args.indexOf('--layout');
  const layout = li >= 0 ? args.splice(li, 2)[1] : 'flat';
  const n = Number(args[0]);
  const seed = Number(args[1] ?? 1);
  if (!Number.isInteger(n)) {
    process.stderr.write('usage: node gen-plan.mjs NODES [SEED] [--layout flat|psql|compact] > plan.json\n');
    process.exit(2);
  }
  const text = generatePlan(n, seed, { layout });
  process.stdout.write(text + '\n');
  if (process.env.PLAN_STATS) process.stderr.write(JSON.stringify(planStats(text)) + '\n');
}
