//! Any text given to the plan reader must give a plan or a ParseError — never a panic, a hang or
//! a stack overflow — and an analysed plan must hold together (indices in range, no NaN shares).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(plan) = dbdeck::plan::parse(text) {
        let n = plan.nodes.len() as u32;
        for node in &plan.nodes {
            assert!(node.children.iter().all(|&c| c < n));
            assert!(node.parent.is_none_or(|p| p < node.id));
            assert!(node.findings.iter().all(|&f| (f as usize) < plan.findings.len()));
            if let Some(p) = node.exclusive_pct {
                assert!(!p.is_nan());
            }
        }
        let _ = dbdeck::plan::compare::compare(&plan, &plan);
        let _ = dbdeck::plan::html::render(&plan, "fuzz");
    }
});
