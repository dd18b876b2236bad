//! What replication reads from outside: libpq connection strings (primary_conninfo),
//! pgbouncer.ini, postmaster.opts and Patroni's /cluster JSON. Never a panic; a connection
//! string that parses reads back the same after it is written out again.
#![no_main]

use dbdeck::replicate::{bouncer, conninfo::Conninfo, local, patroni};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(c) = Conninfo::parse(text) {
        let again = Conninfo::parse(&c.to_string()).expect("what dbdeck writes, it reads");
        assert_eq!(again, c);
    }
    let _ = bouncer::repoint_ini(text, ("127.0.0.1", 5432), ("db2", 6432));
    let _ = local::postmaster_args(text);
    let _ = serde_json::from_str::<patroni::PatroniCluster>(text);
});
