//! Two plans side by side: the nodes matched, and what changed in time, rows and buffers.
//!
//! Matching works in three passes, each only over nodes still unmatched:
//! 1. the same path from the root (each step: node type and what it reads);
//! 2. the same relation, alias or CTE (a Seq Scan that became an Index Scan on the same table);
//! 3. the same node type, in plan order.
//!
//! Whatever is left is reported as only in A or only in B.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::{Node, Plan};

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct SideSummary {
    pub total_ms: Option<f64>,
    pub planning_ms: Option<f64>,
    pub total_cost: f64,
    pub node_count: u32,
    pub shared_blocks: f64,
    pub temp_blocks: f64,
    pub findings: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct NodePair {
    pub a: Option<u32>,
    pub b: Option<u32>,
    /// The label of A's node, or B's when only B has it.
    pub label: String,
    /// B's label when it differs from A's (the operation changed).
    pub b_label: Option<String>,
    pub a_ms: Option<f64>,
    pub b_ms: Option<f64>,
    pub a_rows: Option<f64>,
    pub b_rows: Option<f64>,
    pub a_blocks: f64,
    pub b_blocks: f64,
    pub a_cost: Option<f64>,
    pub b_cost: Option<f64>,
    /// b_ms − a_ms (exclusive time).
    pub delta_ms: Option<f64>,
    pub depth: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct Comparison {
    pub a: SideSummary,
    pub b: SideSummary,
    /// In A's order, with B-only nodes after A's.
    pub pairs: Vec<NodePair>,
    /// A's time ÷ B's time: above 1, B is faster.
    pub speedup: Option<f64>,
    /// One sentence: "B is 14.2× faster (812 ms → 57 ms); Seq Scan on visits became Index Scan…".
    pub verdict: String,
}

fn side(p: &Plan) -> SideSummary {
    let b = &p.summary.buffers;
    SideSummary {
        total_ms: p.summary.total_ms,
        planning_ms: p.planning_ms,
        total_cost: p.summary.total_cost,
        node_count: p.summary.node_count,
        shared_blocks: b.shared_hit + b.shared_read,
        temp_blocks: b.temp_read + b.temp_written,
        findings: p.findings.len() as u32,
    }
}

fn target(n: &Node) -> String {
    n.relation
        .clone()
        .or_else(|| n.cte_name.clone())
        .or_else(|| n.subplan_name.clone())
        .or_else(|| n.alias.clone())
        .unwrap_or_default()
}

fn step(n: &Node) -> String {
    format!("{}|{}", n.node_type, target(n))
}

/// A hash of each node's path from the root (its steps and its parent's path), so matching by
/// path costs one number per node rather than a string as long as the tree is deep.
fn paths(p: &Plan) -> Vec<u64> {
    use std::hash::{Hash, Hasher};
    let mut out: Vec<u64> = Vec::with_capacity(p.nodes.len());
    for n in &p.nodes {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        n.parent.map(|par| out[par as usize]).hash(&mut h);
        step(n).hash(&mut h);
        out.push(h.finish());
    }
    out
}

pub fn compare(a: &Plan, b: &Plan) -> Comparison {
    let mut a_to_b: Vec<Option<u32>> = vec![None; a.nodes.len()];
    let mut b_taken = vec![false; b.nodes.len()];

    // Pass 1: same path. Several nodes can share one (Append members); take them in order.
    let (pa, pb) = (paths(a), paths(b));
    let mut by_path: HashMap<u64, Vec<u32>> = HashMap::new();
    for (i, p) in pb.iter().enumerate().rev() {
        by_path.entry(*p).or_default().push(i as u32);
    }
    for (i, p) in pa.iter().enumerate() {
        if let Some(list) = by_path.get_mut(p)
            && let Some(j) = list.pop()
        {
            a_to_b[i] = Some(j);
            b_taken[j as usize] = true;
        }
    }
    // Pass 2: same non-empty target. Pass 3: same node type.
    let keys: [fn(&Node) -> String; 2] = [target, |n| n.node_type.clone()];
    for key in keys {
        // B's unmatched nodes by key, in plan order.
        let mut free: HashMap<String, std::collections::VecDeque<u32>> = HashMap::new();
        for bn in b.nodes.iter().filter(|bn| !b_taken[bn.id as usize]) {
            free.entry(key(bn)).or_default().push_back(bn.id);
        }
        for (i, an) in a.nodes.iter().enumerate() {
            if a_to_b[i].is_some() {
                continue;
            }
            let k = key(an);
            if k.is_empty() {
                continue;
            }
            if let Some(j) = free.get_mut(&k).and_then(|q| q.pop_front()) {
                a_to_b[i] = Some(j);
                b_taken[j as usize] = true;
            }
        }
    }

    let pair = |an: Option<&Node>, bn: Option<&Node>| {
        let label = an.or(bn).map(|n| n.label.clone()).unwrap_or_default();
        let b_label = match (an, bn) {
            (Some(x), Some(y)) if x.label != y.label => Some(y.label.clone()),
            _ => None,
        };
        let a_ms = an.and_then(|n| n.exclusive_ms);
        let b_ms = bn.and_then(|n| n.exclusive_ms);
        NodePair {
            a: an.map(|n| n.id),
            b: bn.map(|n| n.id),
            label,
            b_label,
            a_ms,
            b_ms,
            a_rows: an.and_then(|n| n.total_rows.or(Some(n.plan_rows))),
            b_rows: bn.and_then(|n| n.total_rows.or(Some(n.plan_rows))),
            a_blocks: an.map_or(0.0, |n| n.exclusive_buffers.total()),
            b_blocks: bn.map_or(0.0, |n| n.exclusive_buffers.total()),
            a_cost: an.map(|n| n.total_cost),
            b_cost: bn.map(|n| n.total_cost),
            delta_ms: match (a_ms, b_ms) {
                (Some(x), Some(y)) => Some(y - x),
                (Some(x), None) if bn.is_none() => Some(-x),
                (None, Some(y)) if an.is_none() => Some(y),
                _ => None,
            },
            depth: an.or(bn).map_or(0, |n| n.depth),
        }
    };
    let mut pairs: Vec<NodePair> = a
        .nodes
        .iter()
        .map(|an| pair(Some(an), a_to_b[an.id as usize].map(|j| &b.nodes[j as usize])))
        .collect();
    pairs.extend(
        b.nodes
            .iter()
            .filter(|bn| !b_taken[bn.id as usize])
            .map(|bn| pair(None, Some(bn))),
    );

    let (sa, sb) = (side(a), side(b));
    let speedup = match (sa.total_ms, sb.total_ms) {
        (Some(x), Some(y)) if y > 0.0 => Some(x / y),
        _ => None,
    };
    let mut verdict = match (speedup, sa.total_ms, sb.total_ms) {
        (Some(s), Some(x), Some(y)) if s >= 1.05 => format!("B is {s:.1}× faster ({} → {})", ms(x), ms(y)),
        (Some(s), Some(x), Some(y)) if s <= 0.95 => format!("B is {:.1}× slower ({} → {})", 1.0 / s, ms(x), ms(y)),
        (Some(_), Some(x), Some(y)) => format!("About the same time ({} → {})", ms(x), ms(y)),
        _ => format!("Estimated cost {:.0} → {:.0}", sa.total_cost, sb.total_cost),
    };
    let changed: Vec<String> = pairs
        .iter()
        .filter_map(|p| p.b_label.as_ref().map(|bl| format!("{} became {bl}", p.label)))
        .take(3)
        .collect();
    if !changed.is_empty() {
        verdict.push_str("; ");
        verdict.push_str(&changed.join("; "));
    }
    Comparison {
        a: sa,
        b: sb,
        pairs,
        speedup,
        verdict,
    }
}

fn ms(v: f64) -> String {
    if v >= 1000.0 {
        format!("{:.2} s", v / 1000.0)
    } else {
        format!("{v:.1} ms")
    }
}
