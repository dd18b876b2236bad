//! `dbdeck serve`: the web door. The embedded UI and the API over HTTP, live events over
//! Server-Sent Events.
//!
//! It binds loopback unless told otherwise and makes a random token at start; every `/api`
//! request must carry it (`Authorization: Bearer …`, or `?token=` for EventSource, which
//! cannot set headers) or gets 401. Static files are public: they hold no data. Like the
//! other doors it turns requests into [`Api::call`] and holds no domain logic.

use std::convert::Infallible;
use std::net::SocketAddr;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response as HttpResponse};
use axum::routing::{get, post};
use futures_util::Stream;
use rust_embed::RustEmbed;
use serde::Deserialize;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::BroadcastStream;

use crate::api::{Api, Request, Response};
use crate::error::{ApiError, ErrorCode};

#[derive(RustEmbed)]
#[folder = "ui/dist"]
struct UiAssets;

/// Content-Security-Policy of every page: our own scripts only, no remote anything.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
    img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; \
    form-action 'none'; frame-ancestors 'none'";

#[derive(Clone)]
struct AppState {
    api: Api,
    token: String,
}

/// A running server: where it listens and the token to use.
#[derive(Debug)]
pub struct Server {
    pub addr: SocketAddr,
    pub token: String,
    pub handle: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Server {
    pub fn url(&self) -> String {
        format!("http://{}/?token={}", self.addr, self.token)
    }
}

pub fn new_token() -> String {
    hex::encode(rand::random::<[u8; 24]>())
}

/// Bind and start serving in the background.
pub async fn start(api: Api, bind: SocketAddr) -> std::io::Result<Server> {
    let token = new_token();
    let listener = tokio::net::TcpListener::bind(bind).await?;
    let addr = listener.local_addr()?;
    let app = router(api, token.clone());
    let handle = tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(Server { addr, token, handle })
}

/// The largest API request accepted.
pub const MAX_BODY: usize = 128 * 1024 * 1024;

pub fn router(api: Api, token: String) -> Router {
    let state = AppState { api, token };
    Router::new()
        // Pasted plans are big (a 10,000-node EXPLAIN ANALYZE in JSON is tens of MiB); axum's
        // default 2 MiB body limit would refuse them. The server only listens on loopback.
        .route(
            "/api/call",
            post(call).layer(axum::extract::DefaultBodyLimit::max(MAX_BODY)),
        )
        // A pasted plan as the request body itself: no JSON string to encode in the page and
        // decode here (for a 10,000-node plan that is 8.6 MB of escaped quotes each way).
        .route(
            "/api/call/plan_analyze",
            post(plan_analyze).layer(axum::extract::DefaultBodyLimit::max(MAX_BODY)),
        )
        .route("/api/events", get(events))
        .fallback(get(asset))
        .with_state(state)
        .layer(axum::middleware::map_response(security_headers))
}

async fn security_headers(mut res: HttpResponse) -> HttpResponse {
    let h = res.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    // The token is in the first URL; never send it on as a referrer.
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    res
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn authorised(state: &AppState, headers: &HeaderMap, query_token: Option<&str>) -> bool {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    bearer
        .or(query_token)
        .is_some_and(|t| constant_time_eq(t.as_bytes(), state.token.as_bytes()))
}

fn status_of(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::InvalidInput => StatusCode::BAD_REQUEST,
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::AlreadyExists | ErrorCode::Conflict => StatusCode::CONFLICT,
        ErrorCode::ConfirmationRequired => StatusCode::PRECONDITION_REQUIRED,
        ErrorCode::Unauthorized => StatusCode::UNAUTHORIZED,
        ErrorCode::AuthFailed
        | ErrorCode::UnknownHost
        | ErrorCode::ConnectionRefused
        | ErrorCode::Timeout
        | ErrorCode::TlsFailed
        | ErrorCode::Unreachable
        | ErrorCode::ServerError => StatusCode::BAD_GATEWAY,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn error_response(e: ApiError) -> HttpResponse {
    (status_of(e.code), axum::Json(e)).into_response()
}

fn unauthorised() -> HttpResponse {
    error_response(
        ApiError::new(ErrorCode::Unauthorized, "this request carries no valid token")
            .with_hint("open the URL that `dbdeck serve` printed; it contains the token for this run"),
    )
}

#[derive(Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

async fn call(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<TokenQuery>,
    body: Bytes,
) -> HttpResponse {
    if !authorised(&state, &headers, q.token.as_deref()) {
        return unauthorised();
    }
    let req: Request = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return error_response(ApiError::invalid(format!("malformed request: {e}"))),
    };
    answer(state.api.call(req).await)
}

fn answer(r: Result<Response, ApiError>) -> HttpResponse {
    answer_sized(r, 1024)
}

/// The answer as JSON, written into a buffer of `hint` bytes to start with.
fn answer_sized(r: Result<Response, ApiError>, hint: usize) -> HttpResponse {
    let resp = match r {
        Ok(resp) => resp,
        Err(e) => return error_response(e),
    };
    let mut body = Vec::with_capacity(hint);
    if let Err(e) = serde_json::to_writer(&mut body, &resp) {
        return error_response(ApiError::new(
            ErrorCode::Internal,
            format!("the answer could not be written as JSON: {e}"),
        ));
    }
    // Freeing a big plan's nodes takes tens of milliseconds; the answer need not wait for it.
    if matches!(resp, Response::Plan(_) | Response::PlanComparison(_)) {
        tokio::task::spawn_blocking(move || drop(resp));
    }
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        body,
    )
        .into_response()
}

#[derive(Deserialize)]
struct PlanQuery {
    token: Option<String>,
    compact: Option<bool>,
}

/// `plan_analyze` with the plan's text as the body (any content type; it must be UTF-8).
async fn plan_analyze(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<PlanQuery>,
    body: Bytes,
) -> HttpResponse {
    if !authorised(&state, &headers, q.token.as_deref()) {
        return unauthorised();
    }
    let text = match crate::api::plan_text(Vec::from(body)) {
        Ok(t) => t,
        Err(e) => return error_response(e),
    };
    // The answer is about two thirds of the plan's text.
    let hint = text.len() * 3 / 4;
    answer_sized(
        state
            .api
            .call(Request::PlanAnalyze {
                text,
                compact: q.compact,
            })
            .await,
        hint,
    )
}

async fn events(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<TokenQuery>,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, HttpResponse> {
    if !authorised(&state, &headers, q.token.as_deref()) {
        return Err(unauthorised());
    }
    let stream = BroadcastStream::new(state.api.subscribe()).filter_map(|item| {
        // A lagging client skips what it missed; the UI reloads lists on reconnect anyway.
        let event = item.ok()?;
        let data = serde_json::to_string(&event).ok()?;
        Some(Ok(SseEvent::default().data(data)))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

async fn asset(uri: Uri) -> HttpResponse {
    let path = uri.path().trim_start_matches('/');
    let path = if path.is_empty() { "index.html" } else { path };
    match UiAssets::get(path) {
        Some(file) => {
            let mime = file.metadata.mimetype().to_owned();
            let cache = if path.starts_with("assets/") {
                "public, max-age=31536000, immutable"
            } else {
                "no-cache"
            };
            (
                [(header::CONTENT_TYPE, mime), (header::CACHE_CONTROL, cache.to_owned())],
                file.data,
            )
                .into_response()
        }
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}
