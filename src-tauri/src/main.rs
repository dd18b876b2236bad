//! dbdeck-desktop: the Tauri window over dbdeck's API.
//!
//! This crate is a thin door. Its commands forward to [`dbdeck::Api`]: `api_call` takes a
//! request and returns the response or the typed error, `plan_analyze` takes a pasted plan as
//! raw bytes (the one request too big to go well as JSON), and `subscribe` streams events over a
//! `tauri::ipc::Channel`. It must never hold domain logic; everything it can do, the CLI and
//! `dbdeck serve` can do too.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use std::path::PathBuf;

use dbdeck::{Api, ApiError, ApiOptions, Event, Request, Response};
use tauri::ipc::Channel;
use tokio::sync::broadcast::error::RecvError;

#[tauri::command]
async fn api_call(api: tauri::State<'_, Api>, request: Request) -> Result<Response, ApiError> {
    api.call(request).await
}

/// `plan_analyze` with the plan's text as the raw invoke body (as `dbdeck serve` takes it as
/// the request body): a 10,000-node plan is 8.6 MB that would otherwise be escaped into a JSON
/// string by the page and read back out of it here. The header `dbdeck-compact: true` asks for
/// the nodes as a table.
#[tauri::command]
async fn plan_analyze(api: tauri::State<'_, Api>, request: tauri::ipc::Request<'_>) -> Result<Response, ApiError> {
    let tauri::ipc::InvokeBody::Raw(bytes) = request.body() else {
        return Err(ApiError::invalid(
            "plan_analyze takes the plan's text as the raw invoke body",
        ));
    };
    let text = dbdeck::api::plan_text(bytes.clone())?;
    let compact = request.headers().get("dbdeck-compact").map(|v| v.as_bytes() == b"true");
    api.call(Request::PlanAnalyze { text, compact }).await
}

#[tauri::command]
async fn subscribe(api: tauri::State<'_, Api>, channel: Channel<Event>) -> Result<(), ApiError> {
    let mut rx = api.subscribe();
    tauri::async_runtime::spawn(async move {
        loop {
            match rx.recv().await {
                Ok(event) => {
                    if channel.send(event).is_err() {
                        break; // the page went away
                    }
                }
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => break,
            }
        }
    });
    Ok(())
}

struct Args {
    demo: bool,
    data_dir: Option<PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        demo: false,
        data_dir: std::env::var_os("DBDECK_DATA_DIR").map(PathBuf::from),
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--demo" => args.demo = true,
            "--data-dir" => args.data_dir = Some(it.next().ok_or("--data-dir needs a folder")?.into()),
            "--help" | "-h" => {
                println!(
                    "dbdeck-desktop [--demo] [--data-dir DIR]\n\nOpens the dbdeck window. --demo adds the demo environment."
                );
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument '{other}' (try --help)")),
        }
    }
    Ok(args)
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    let data_dir = args.data_dir.unwrap_or_else(dbdeck::cli::default_data_dir);
    dbdeck::logging::init(&data_dir);
    let mut opts = ApiOptions::new(&data_dir, "desktop");
    opts.demo = args.demo;
    let api = tauri::async_runtime::block_on(async move {
        let api = Api::open(opts).await?;
        api.spawn_health_checks();
        Ok::<_, ApiError>(api)
    });
    let api = match api {
        Ok(api) => api,
        Err(e) => {
            eprintln!("{}", e.render());
            std::process::exit(1);
        }
    };
    let result = tauri::Builder::default()
        .manage(api)
        .invoke_handler(tauri::generate_handler![api_call, plan_analyze, subscribe])
        .run(tauri::generate_context!());
    if let Err(e) = result {
        eprintln!("error: the window could not start: {e}");
        std::process::exit(1);
    }
}
