//! The migration-file reader and the lint entry point on arbitrary bytes: never a panic, a hang
//! or a stack overflow, whatever the file names and contents.
#![no_main]

use std::path::{Path, PathBuf};

use dbdeck::migrate::{lint, run, source};
use libfuzzer_sys::fuzz_target;

const NAMES: &[&str] = &[
    "1_init.sql",
    "20260101000000_x.up.sql",
    "20260101000000_x.down.sql",
    "V1__init.sql",
    "V1.1__more.sql",
    "U1.1__more.sql",
    "R__views.sql",
    "001-users.up.sql",
    "up/001_users.sql",
    "V__bad.sql",
    "0_zero.sql",
];

fuzz_target!(|data: &[u8]| {
    // The first byte picks a file name; the rest is split in two files at the first NUL.
    let Some((&pick, rest)) = data.split_first() else { return };
    let (a, b) = match rest.iter().position(|&c| c == 0) {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, &[][..]),
    };
    let files = vec![
        (PathBuf::from(NAMES[pick as usize % NAMES.len()]), a.to_vec()),
        (PathBuf::from(NAMES[(pick as usize / 16) % NAMES.len()]), b.to_vec()),
    ];
    let src = source::read_files(Path::new("fuzz"), files, None);
    for m in &src.migrations {
        for s in std::iter::once(&m.up).chain(m.down.as_ref()) {
            let report = lint::lint(&s.sql, Some("fuzz.sql"), &lint::LintOptions { in_transaction: pick % 2 == 0, timeouts_set: pick % 3 == 0 });
            let _ = lint::render(&report);
            let _ = run::pieces(s);
        }
    }
    // Any text, not only what reads as a migration.
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = lint::lint(text, None, &lint::LintOptions::default());
    }
});
