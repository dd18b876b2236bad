//! A plan as one self-contained HTML file: inline styles, no scripts, no network. Nodes are
//! nested `<details>` elements, so the tree folds and unfolds in any browser, offline.

use super::{Finding, Node, Plan, Severity};
use crate::cli_views::duration_ms;

fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

fn sev(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "critical",
        Severity::Warning => "warning",
        Severity::Info => "info",
    }
}

const STYLE: &str = "
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px;color:#1f2937;background:#fff}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:20px 0 8px}
.sub{color:#6b7280}.stats{display:flex;gap:24px;flex-wrap:wrap;margin:12px 0}
.stat b{display:block;font-size:18px}.stat span{color:#6b7280;font-size:12px}
pre{background:#f3f4f6;padding:12px;border-radius:6px;overflow:auto;white-space:pre-wrap}
.finding{border-left:4px solid;padding:6px 10px;margin:6px 0;background:#f9fafb}
.finding.critical{border-color:#dc2626}.finding.warning{border-color:#d97706}.finding.info{border-color:#2563eb}
.finding p{margin:2px 0}.fix{color:#065f46}
details{margin-left:18px;border-left:1px solid #e5e7eb;padding-left:8px}
details.root{margin-left:0;border:0;padding:0}
summary{cursor:pointer;padding:3px 0;list-style-position:outside}
.node{display:inline-flex;gap:12px;align-items:center;flex-wrap:wrap}
.label{font-weight:600}.sp{color:#7c3aed;font-size:12px}
.bar{display:inline-block;width:120px;height:8px;background:#e5e7eb;border-radius:4px;overflow:hidden;vertical-align:middle}
.bar i{display:block;height:100%;background:#2563eb}
.num{font-variant-numeric:tabular-nums;color:#374151;font-size:12px}
.badge{font-size:11px;padding:1px 6px;border-radius:8px;color:#fff}
.badge.critical{background:#dc2626}.badge.warning{background:#d97706}.badge.info{background:#2563eb}
.fields{font-size:12px;color:#374151;margin:4px 0 6px 4px}.fields td{padding:0 10px 0 0;vertical-align:top}
.fields td:first-child{color:#6b7280;white-space:nowrap}
";

/// Render `plan` as a complete HTML document.
pub fn render(plan: &Plan, title: &str) -> String {
    let mut h = String::with_capacity(4096 + plan.nodes.len() * 900);
    h.push_str("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">");
    h.push_str("<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">");
    h.push_str(&format!(
        "<title>{}</title><style>{STYLE}</style></head><body>",
        esc(title)
    ));
    h.push_str(&format!(
        "<h1>{}</h1><div class=\"sub\">Exported by dbdeck {}</div>",
        esc(title),
        env!("CARGO_PKG_VERSION")
    ));
    let s = &plan.summary;
    h.push_str("<div class=\"stats\">");
    let mut stat =
        |v: String, k: &str| h.push_str(&format!("<div class=\"stat\"><b>{}</b><span>{k}</span></div>", esc(&v)));
    if let Some(t) = s.total_ms {
        stat(duration_ms(t), "execution");
    }
    if let Some(p) = plan.planning_ms {
        stat(duration_ms(p), "planning");
    }
    stat(format!("{:.0}", s.total_cost), "total cost");
    stat(s.node_count.to_string(), "nodes");
    stat(
        format!("{:.0}", s.buffers.shared_hit + s.buffers.shared_read),
        "shared blocks",
    );
    if let Some(m) = s.worst_misestimate {
        stat(format!("{m:.0}×"), "worst estimate");
    }
    h.push_str("</div>");
    if !plan.findings.is_empty() {
        h.push_str("<h2>Findings</h2>");
        for f in &plan.findings {
            finding(&mut h, f, plan);
        }
    }
    if let Some(q) = &plan.query {
        h.push_str(&format!("<h2>Query</h2><pre>{}</pre>", esc(q)));
    }
    h.push_str("<h2>Plan</h2>");
    tree(&mut h, plan);
    if !plan.triggers.is_empty() {
        h.push_str("<h2>Triggers</h2><table class=\"fields\">");
        for t in &plan.triggers {
            h.push_str(&format!(
                "<tr><td>{}</td><td>{} · {} calls</td></tr>",
                esc(&t.name),
                duration_ms(t.time_ms),
                t.calls
            ));
        }
        h.push_str("</table>");
    }
    if !plan.settings.is_empty() {
        h.push_str("<h2>Settings</h2><table class=\"fields\">");
        for (k, v) in &plan.settings {
            h.push_str(&format!("<tr><td>{}</td><td>{}</td></tr>", esc(k), esc(v)));
        }
        h.push_str("</table>");
    }
    h.push_str("</body></html>\n");
    h
}

fn finding(h: &mut String, f: &Finding, plan: &Plan) {
    let node = f
        .node
        .map(|n| {
            format!(
                " <span class=\"sub\">— node #{n} {}</span>",
                esc(&plan.nodes[n as usize].label)
            )
        })
        .unwrap_or_default();
    h.push_str(&format!(
        "<div class=\"finding {}\"><p><b>{}</b>{node}</p><p>{}</p><p class=\"fix\">{}</p></div>",
        sev(f.severity),
        esc(&f.title),
        esc(&f.detail),
        esc(&f.fix)
    ));
}

/// Nested <details>, written iteratively (plans can be thousands of levels deep).
fn tree(h: &mut String, plan: &Plan) {
    if plan.nodes.is_empty() {
        return;
    }
    // (node, closing?) — push a close marker after each node's children.
    let mut stack: Vec<(u32, bool)> = vec![(0, false)];
    while let Some((id, close)) = stack.pop() {
        if close {
            h.push_str("</details>");
            continue;
        }
        let n = &plan.nodes[id as usize];
        node(h, plan, n);
        stack.push((id, true));
        for &c in n.children.iter().rev() {
            stack.push((c, false));
        }
    }
}

fn node(h: &mut String, plan: &Plan, n: &Node) {
    let class = if n.parent.is_none() { " class=\"root\"" } else { "" };
    // Deep trees start folded below level 12 so the page opens quickly.
    let open = if n.depth < 12 { " open" } else { "" };
    h.push_str(&format!(
        "<details{class}{open} id=\"node-{}\"><summary><span class=\"node\">",
        n.id
    ));
    if let Some(sp) = &n.subplan_name {
        h.push_str(&format!("<span class=\"sp\">{}</span>", esc(sp)));
    }
    h.push_str(&format!("<span class=\"label\">{}</span>", esc(&n.label)));
    if let Some(pct) = n.exclusive_pct {
        h.push_str(&format!(
            "<span class=\"bar\" title=\"{pct:.1} % of the time\"><i style=\"width:{:.1}%\"></i></span>",
            pct.clamp(0.0, 100.0)
        ));
    }
    let mut nums = vec![];
    if let Some(ms) = n.exclusive_ms {
        nums.push(format!("{} self", duration_ms(ms)));
    }
    match n.total_rows {
        Some(r) => nums.push(format!(
            "{r:.0} rows (est {:.0})",
            n.plan_rows * n.loops.unwrap_or(1.0).max(1.0)
        )),
        None => nums.push(format!("est {:.0} rows", n.plan_rows)),
    }
    if let Some(m) = n.misestimate
        && m >= 10.0
    {
        nums.push(format!("off {m:.0}×"));
    }
    if let Some(l) = n.loops
        && l > 1.0
    {
        nums.push(format!("{l:.0} loops"));
    }
    nums.push(format!("cost {:.0}", n.total_cost));
    let blocks = n.exclusive_buffers.total();
    if blocks > 0.0 {
        nums.push(format!("{blocks:.0} blocks"));
    }
    h.push_str(&format!("<span class=\"num\">{}</span>", esc(&nums.join(" · "))));
    for &f in &n.findings {
        let f = &plan.findings[f as usize];
        h.push_str(&format!(
            "<span class=\"badge {}\" title=\"{}\">{}</span>",
            sev(f.severity),
            esc(&f.detail),
            esc(&f.title)
        ));
    }
    h.push_str("</span></summary><table class=\"fields\">");
    for (k, v) in &n.fields {
        let v = match v {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Array(a) => a
                .iter()
                .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_string))
                .collect::<Vec<_>>()
                .join(", "),
            other => other.to_string(),
        };
        h.push_str(&format!("<tr><td>{}</td><td>{}</td></tr>", esc(k), esc(&v)));
    }
    h.push_str("</table>");
}

#[cfg(test)]
mod tests {
    #[test]
    fn export_is_one_file_with_no_scripts_or_links() {
        let text =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/plans/cte_subplan.json")).unwrap();
        let p = crate::plan::parse(&text).unwrap();
        let html = super::render(&p, "cte <plan>");
        assert!(html.starts_with("<!doctype html>"));
        assert!(html.contains("<title>cte &lt;plan&gt;</title>"));
        assert!(!html.contains("<script") && !html.contains("<link") && !html.contains("src="));
        assert_eq!(html.matches("<details").count(), p.nodes.len());
        assert_eq!(html.matches("</details>").count(), p.nodes.len());
        assert!(html.contains("CTE recent") && html.contains("SubPlan 2"));
        assert!(html.contains("class=\"finding critical\""));
    }
}
