//! Keeps the embedded store migrations and the embedded UI fresh.
//!
//! `rust-embed` needs `ui/dist` to exist at compile time. When the UI has not been built (a
//! plain `cargo test` on a fresh clone) we create it with a page that says how to build it,
//! so the library still compiles; every script that ships or tests the UI builds it first.

use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=ui/dist");
    let dist = Path::new("ui/dist");
    if !dist.join("index.html").exists() {
        std::fs::create_dir_all(dist).expect("create ui/dist");
        std::fs::write(
            dist.join("index.html"),
            "<!doctype html><title>dbdeck</title><p>The dbdeck UI has not been built. \
             Run <code>npm --prefix ui ci &amp;&amp; npm --prefix ui run build</code> and rebuild dbdeck.</p>\n",
        )
        .expect("write ui/dist/index.html");
    }
}
