//! Logs go to `<data dir>/logs/dbdeck.log`, one file per data directory, never to the
//! terminal of a CLI command (its output is for the person or for `--format json`).
//! Nothing logged may contain a secret: secrets are [`crate::secrets::Sensitive`] and URLs are
//! redacted before they reach a log line.

use std::path::Path;
use std::sync::Mutex;

use tracing_subscriber::EnvFilter;

/// Install the global subscriber. Safe to call once per process; later calls are ignored.
pub fn init(data_dir: &Path) {
    let dir = data_dir.join("logs");
    if std::fs::create_dir_all(&dir).is_err() {
        return;
    }
    let Ok(file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("dbdeck.log"))
    else {
        return;
    };
    let filter = EnvFilter::try_from_env("DBDECK_LOG").unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(Mutex::new(file))
        .try_init();
}
