//! Schema migrations: reading a team's migration folder ([`source`]), the history tables their
//! tools keep ([`history`]), status and drift ([`status`]), the lock-safety lint ([`lint`]) and
//! applying, dry-running and rolling back ([`run`]).

pub mod history;
pub mod lint;
pub mod source;
pub mod status;
