//! dbdeck: an administration console for PostgreSQL and SQLite environments.
//!
//! This crate is the whole product except its window: the domain modules, the one API every
//! door calls ([`api::Api`]), the web server (`serve`) and the CLI (`cli`). It must never
//! depend on Tauri, so it builds and tests without WebKit; the desktop shell in `src-tauri/`
//! depends on it, not the other way round.

pub mod advice;
pub mod api;
pub mod audit;
pub mod bench;
pub mod chart;
pub mod cli;
pub mod cli_migrate;
pub mod cli_plans;
pub mod cli_replication;
pub mod cli_views;
pub mod demo;
pub mod env;
pub mod error;
pub mod logging;
pub mod metrics;
pub mod migrate;
pub mod observe;
pub mod plan;
pub mod pool;
pub mod probe;
pub mod replicate;
pub mod secrets;
pub mod serve;
pub mod store;

pub use api::{Api, ApiOptions, Event, Request, Response};
pub use error::{ApiError, ErrorCode};
