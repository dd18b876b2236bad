//! Environments: the named sets of endpoints dbdeck administers, and the guard on `prod`.
//!
//! An [`Environment`] is what the store keeps and the API returns; it never contains a
//! password, only the keychain account of each endpoint that has one. [`EnvInput`] is what a
//! person types: its URLs may carry a password, which [`EnvInput::into_environment`] takes out
//! and hands back separately so the caller can put it in the keychain.

pub mod config;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use ts_rs::TS;

use crate::error::{ApiError, ErrorCode};
use crate::secrets::Sensitive;

/// The database engine behind an environment's primary endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Engine {
    Postgres,
    Sqlite,
}

/// Which endpoint of an environment: `primary`, `replica:NAME`, `pgbouncer` or `redis`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Role {
    Primary,
    Replica(String),
    PgBouncer,
    Redis,
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Role::Primary => f.write_str("primary"),
            Role::Replica(n) => write!(f, "replica:{n}"),
            Role::PgBouncer => f.write_str("pgbouncer"),
            Role::Redis => f.write_str("redis"),
        }
    }
}

impl FromStr for Role {
    type Err = ApiError;
    fn from_str(s: &str) -> Result<Self, ApiError> {
        match s {
            "primary" => Ok(Role::Primary),
            "pgbouncer" => Ok(Role::PgBouncer),
            "redis" => Ok(Role::Redis),
            _ => match s.strip_prefix("replica:") {
                Some(n) if valid_name(n) => Ok(Role::Replica(n.to_owned())),
                _ => Err(ApiError::invalid(format!(
                    "'{s}' is not an endpoint role; use primary, replica:NAME, pgbouncer or redis"
                ))),
            },
        }
    }
}

impl Serialize for Role {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Role {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(|e: ApiError| serde::de::Error::custom(e.message))
    }
}

impl TS for Role {
    type WithoutGenerics = Self;
    type OptionInnerType = Self;
    fn name(_: &ts_rs::Config) -> String {
        "string".to_owned()
    }
    fn inline(_: &ts_rs::Config) -> String {
        "string".to_owned()
    }
}

/// One place dbdeck connects to. `url` never holds a password; `secret` names the keychain
/// account that does, when the endpoint needs one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Endpoint {
    pub url: String,
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Replica {
    pub name: String,
    pub endpoint: Endpoint,
}

/// How dbdeck sizes and times its own connections to an environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct PoolProfile {
    /// The steady pool size.
    pub max_connections: u32,
    /// Minimum idle connections kept open.
    pub min_connections: u32,
    pub acquire_timeout_ms: u32,
    pub connect_timeout_ms: u32,
    /// Close a connection idle this long (only those above the minimum).
    pub idle_timeout_s: u32,
    /// Recycle a connection after this long, whatever it is doing.
    pub max_lifetime_s: u32,
    /// Burst capacity above `max_connections`.
    #[serde(default)]
    pub max_overflow: u32,
    /// Check a connection with a ping before handing it out (pre-ping).
    #[serde(default = "yes")]
    pub test_before_acquire: bool,
}

fn yes() -> bool {
    true
}

impl PoolProfile {
    /// dev small, staging medium, prod large; a custom kind gets the staging profile.
    pub fn for_kind(kind: &str) -> Self {
        let (max, min, overflow) = match kind {
            "dev" => (4, 0, 2),
            "prod" => (16, 2, 8),
            _ => (8, 1, 4),
        };
        PoolProfile {
            max_connections: max,
            min_connections: min,
            max_overflow: overflow,
            test_before_acquire: true,
            acquire_timeout_ms: 5_000,
            connect_timeout_ms: 5_000,
            idle_timeout_s: 600,
            max_lifetime_s: 1_800,
        }
    }

    /// The most connections the pool may open: size plus overflow.
    pub fn ceiling(&self) -> u32 {
        self.max_connections.saturating_add(self.max_overflow)
    }

    fn validate(&self) -> Result<(), String> {
        if self.ceiling() > 10_000 {
            return Err("pool.max_connections + pool.max_overflow must stay below 10,000".into());
        }
        if self.max_connections == 0 {
            return Err("pool.max_connections must be at least 1".into());
        }
        if self.min_connections > self.max_connections {
            return Err(format!(
                "pool.min_connections ({}) is larger than pool.max_connections ({})",
                self.min_connections, self.max_connections
            ));
        }
        if self.connect_timeout_ms == 0 || self.acquire_timeout_ms == 0 {
            return Err("pool timeouts must be greater than 0 ms".into());
        }
        Ok(())
    }
}

/// Hit-rate targets of an environment's caches: below target is amber, more than ten points
/// below is red. The defaults are the ones operators commonly start from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields, default)]
pub struct CacheTargets {
    /// PostgreSQL buffer cache (shared_buffers) hit ratio, percent.
    pub buffer_cache_pct: f64,
    /// What the environment's Redis is used as, e.g. `query cache`, `response cache`,
    /// `session store`; names the tier in the UI.
    pub redis_tier: String,
    /// Redis keyspace hit rate, percent.
    pub redis_hit_pct: f64,
}

impl Default for CacheTargets {
    fn default() -> Self {
        CacheTargets {
            buffer_cache_pct: 70.0,
            redis_tier: "query cache".into(),
            redis_hit_pct: 85.0,
        }
    }
}

/// The usual target of a Redis tier: query caches 85 %, response caches 90 %.
pub fn default_tier_target(tier: &str) -> f64 {
    match tier {
        "response cache" => 90.0,
        "session store" => 99.0,
        _ => 85.0,
    }
}

impl Eq for CacheTargets {}

impl CacheTargets {
    fn validate(&self) -> Result<(), String> {
        for (name, v) in [
            ("buffer_cache_pct", self.buffer_cache_pct),
            ("redis_hit_pct", self.redis_hit_pct),
        ] {
            if !(0.0..=100.0).contains(&v) {
                return Err(format!("cache.{name} must be a percentage between 0 and 100, not {v}"));
            }
        }
        if self.redis_tier.trim().is_empty() {
            return Err("cache.redis_tier must name the tier (e.g. query cache)".into());
        }
        Ok(())
    }
}

/// Where dbdeck's own monitoring reads may go. Off by default: everything reads the primary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields, default)]
pub struct ReadRouting {
    /// Let replica-safe monitoring reads (sizes) go to a healthy replica.
    pub replica_reads: bool,
    /// The most replay lag, in seconds, a replica may have to be read from.
    pub max_lag_s: f64,
}

impl Default for ReadRouting {
    fn default() -> Self {
        ReadRouting {
            replica_reads: false,
            max_lag_s: 10.0,
        }
    }
}

impl Eq for ReadRouting {}

/// How dbdeck watches and drives replication in an environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields, default)]
pub struct ReplicationSettings {
    /// Replay lag, in seconds, above which a standby is in alert and a switchover to it is
    /// refused.
    pub lag_threshold_s: f64,
    /// Data directories on this machine that dbdeck may stop, start and rewind, by the node's
    /// `host:port`. A node listed here can be stopped for good after a switchover and rejoined
    /// as a standby with pg_rewind; any other node is only fenced.
    pub local_nodes: Vec<LocalNode>,
    /// Where pg_ctl and pg_rewind are (default: the newest /usr/lib/postgresql/N/bin, else PATH).
    #[ts(optional)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pg_bin: Option<String>,
    /// The pgbouncer.ini dbdeck may rewrite to point PgBouncer's databases at a new primary.
    #[ts(optional)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pgbouncer_ini: Option<String>,
}

/// A node whose data directory is on this machine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct LocalNode {
    /// `host:port` as in the node's URL.
    pub address: String,
    pub data_dir: String,
}

impl Default for ReplicationSettings {
    fn default() -> Self {
        ReplicationSettings {
            lag_threshold_s: 5.0,
            local_nodes: vec![],
            pg_bin: None,
            pgbouncer_ini: None,
        }
    }
}

impl Eq for ReplicationSettings {}

impl ReplicationSettings {
    fn validate(&self) -> Result<(), String> {
        if !(self.lag_threshold_s.is_finite() && self.lag_threshold_s > 0.0) {
            return Err(format!(
                "replication.lag_threshold_s must be more than 0 seconds, not {}",
                self.lag_threshold_s
            ));
        }
        for n in &self.local_nodes {
            let ok = n
                .address
                .rsplit_once(':')
                .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok());
            if !ok {
                return Err(format!("replication.local_nodes: '{}' is not host:port", n.address));
            }
            if !n.data_dir.starts_with('/') {
                return Err(format!(
                    "replication.local_nodes: the data directory of {} must be an absolute path, not '{}'",
                    n.address, n.data_dir
                ));
            }
        }
        for (what, v) in [("pg_bin", &self.pg_bin), ("pgbouncer_ini", &self.pgbouncer_ini)] {
            if let Some(v) = v
                && !v.starts_with('/')
            {
                return Err(format!("replication.{what} must be an absolute path, not '{v}'"));
            }
        }
        Ok(())
    }

    /// The local data directory of the node at `address` (`host:port`), if dbdeck was given one.
    pub fn data_dir_of(&self, address: &str) -> Option<&str> {
        self.local_nodes
            .iter()
            .find(|n| n.address == address)
            .map(|n| n.data_dir.as_str())
    }
}

/// An environment as dbdeck keeps it. Contains no secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Environment {
    pub name: String,
    /// `dev`, `staging`, `prod`, or a custom word.
    pub kind: String,
    /// `#rrggbb`; prod is always red.
    pub colour: String,
    pub engine: Engine,
    pub primary: Endpoint,
    pub replicas: Vec<Replica>,
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pgbouncer: Option<Endpoint>,
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redis: Option<Endpoint>,
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patroni: Option<String>,
    pub pool: PoolProfile,
    #[serde(default)]
    pub cache: CacheTargets,
    #[serde(default)]
    pub routing: ReadRouting,
    #[serde(default)]
    pub replication: ReplicationSettings,
}

impl Environment {
    pub fn is_prod(&self) -> bool {
        self.kind == "prod"
    }

    /// Every endpoint with its role, primary first.
    pub fn endpoints(&self) -> Vec<(Role, &Endpoint)> {
        let mut v = vec![(Role::Primary, &self.primary)];
        v.extend(
            self.replicas
                .iter()
                .map(|r| (Role::Replica(r.name.clone()), &r.endpoint)),
        );
        if let Some(e) = &self.pgbouncer {
            v.push((Role::PgBouncer, e));
        }
        if let Some(e) = &self.redis {
            v.push((Role::Redis, e));
        }
        v
    }

    pub fn endpoint(&self, role: &Role) -> Option<&Endpoint> {
        self.endpoints().into_iter().find(|(r, _)| r == role).map(|(_, e)| e)
    }

    /// The guard every write or control action passes: on `prod` the person must have typed
    /// the environment's name. `action` names what would happen, for the message.
    pub fn guard(&self, action: &str, confirm: Option<&str>) -> Result<(), ApiError> {
        if !self.is_prod() || confirm == Some(self.name.as_str()) {
            return Ok(());
        }
        let message = match confirm {
            Some(other) => format!(
                "'{other}' does not match: {action} on prod environment '{}' needs its name typed exactly",
                self.name
            ),
            None => format!("{action} on prod environment '{}' needs confirmation", self.name),
        };
        Err(
            ApiError::new(ErrorCode::ConfirmationRequired, message).with_hint(format!(
                "type the environment's name to confirm (CLI: --confirm {})",
                self.name
            )),
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, TS)]
pub struct ReplicaInput {
    pub name: String,
    pub url: String,
}

/// What a person enters to add or edit an environment. URLs may contain a password.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, TS)]
pub struct EnvInput {
    pub name: String,
    #[serde(default = "default_kind")]
    pub kind: String,
    #[ts(optional)]
    #[serde(default)]
    pub colour: Option<String>,
    pub url: String,
    #[serde(default)]
    pub replicas: Vec<ReplicaInput>,
    #[ts(optional)]
    #[serde(default)]
    pub pgbouncer: Option<String>,
    #[ts(optional)]
    #[serde(default)]
    pub redis: Option<String>,
    #[ts(optional)]
    #[serde(default)]
    pub patroni: Option<String>,
    #[ts(optional)]
    #[serde(default)]
    pub pool: Option<PoolProfile>,
    #[ts(optional)]
    #[serde(default)]
    pub cache: Option<CacheTargets>,
    #[ts(optional)]
    #[serde(default)]
    pub routing: Option<ReadRouting>,
    #[ts(optional)]
    #[serde(default)]
    pub replication: Option<ReplicationSettings>,
}

fn default_kind() -> String {
    "dev".to_owned()
}

/// Passwords taken out of an [`EnvInput`], by the role they belong to.
#[derive(Debug, Default)]
pub struct ExtractedSecrets(pub Vec<(Role, Sensitive<String>)>);

/// Where in the input a problem is, so the TOML importer can point at a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Name,
    Kind,
    Colour,
    Url,
    Replica(usize),
    PgBouncer,
    Redis,
    Patroni,
    Pool,
    Cache,
    Routing,
    Replication,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: Field,
    pub message: String,
}

impl From<FieldError> for ApiError {
    fn from(e: FieldError) -> Self {
        ApiError::invalid(e.message)
    }
}

/// Names of environments and replicas: what fits in a keychain account and a CLI argument.
pub fn valid_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphanumeric())
        && s.len() <= 63
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn default_colour(kind: &str) -> &'static str {
    match kind {
        "prod" => PROD_RED,
        "staging" => "#d97706",
        "dev" => "#16a34a",
        _ => "#2563eb",
    }
}

pub const PROD_RED: &str = "#dc2626";

impl EnvInput {
    /// Validate, split secrets from URLs, and build the environment. `account` makes the
    /// keychain account name for a role. The first problem found is returned with its field.
    pub fn into_environment(
        self,
        password: Option<Sensitive<String>>,
        account: impl Fn(&str, &Role) -> String,
    ) -> Result<(Environment, ExtractedSecrets), FieldError> {
        let err = |field, message: String| FieldError { field, message };
        if !valid_name(&self.name) {
            return Err(err(
                Field::Name,
                format!(
                    "'{}' is not a valid environment name: use letters, digits, '-' and '_' (at most 63, starting with a letter or digit)",
                    self.name
                ),
            ));
        }
        let kind = self.kind.trim().to_ascii_lowercase();
        if kind.is_empty()
            || !kind
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(err(
                Field::Kind,
                format!(
                    "'{}' is not a valid kind: use dev, staging, prod or a custom lower-case word",
                    self.kind
                ),
            ));
        }
        let colour = if kind == "prod" {
            // prod is red everywhere, whatever was asked for: the colour is a safety signal.
            PROD_RED.to_owned()
        } else {
            match self.colour.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
                None => default_colour(&kind).to_owned(),
                Some(c) if is_hex_colour(c) => c.to_ascii_lowercase(),
                Some(c) => return Err(err(Field::Colour, format!("'{c}' is not a colour: use #rrggbb"))),
            }
        };
        let pool = self.pool.unwrap_or_else(|| PoolProfile::for_kind(&kind));
        pool.validate().map_err(|m| err(Field::Pool, m))?;
        let cache = self.cache.clone().unwrap_or_default();
        cache.validate().map_err(|m| err(Field::Cache, m))?;
        let routing = self.routing.clone().unwrap_or_default();
        if !(routing.max_lag_s.is_finite() && routing.max_lag_s >= 0.0) {
            return Err(err(
                Field::Routing,
                format!("routing.max_lag_s must be 0 or more seconds, not {}", routing.max_lag_s),
            ));
        }
        let replication = self.replication.clone().unwrap_or_default();
        replication.validate().map_err(|m| err(Field::Replication, m))?;

        let mut secrets = ExtractedSecrets::default();
        let mut endpoint = |field: Field, role: Role, raw: &str, schemes: &[&str], extra: Option<Sensitive<String>>| {
            let (url, pw) = split_url(raw, schemes).map_err(|m| err(field, m))?;
            let pw = extra.or(pw);
            let secret = pw.as_ref().map(|_| account(&self.name, &role));
            if let Some(pw) = pw {
                secrets.0.push((role, pw));
            }
            Ok::<_, FieldError>(Endpoint { url, secret })
        };

        let engine = engine_of(&self.url).ok_or_else(|| {
            err(
                Field::Url,
                format!(
                    "'{}' is not a database URL: use postgres://user@host:port/db or sqlite:///path/to/file.db",
                    redact_url(&self.url)
                ),
            )
        })?;
        if engine == Engine::Sqlite && password.is_some() {
            return Err(err(Field::Url, "an SQLite environment has no password".into()));
        }
        let primary = endpoint(
            Field::Url,
            Role::Primary,
            &self.url,
            &["postgres", "postgresql", "sqlite"],
            password,
        )?;
        let mut replicas = Vec::new();
        for (i, r) in self.replicas.iter().enumerate() {
            if !valid_name(&r.name) {
                return Err(err(
                    Field::Replica(i),
                    format!("'{}' is not a valid replica name", r.name),
                ));
            }
            if replicas.iter().any(|x: &Replica| x.name == r.name) {
                return Err(err(Field::Replica(i), format!("replica '{}' is listed twice", r.name)));
            }
            if engine == Engine::Sqlite {
                return Err(err(Field::Replica(i), "an SQLite environment has no replicas".into()));
            }
            let e = endpoint(
                Field::Replica(i),
                Role::Replica(r.name.clone()),
                &r.url,
                &["postgres", "postgresql"],
                None,
            )?;
            replicas.push(Replica {
                name: r.name.clone(),
                endpoint: e,
            });
        }
        let opt = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
        let pgbouncer = match opt(&self.pgbouncer) {
            Some(u) => Some(endpoint(
                Field::PgBouncer,
                Role::PgBouncer,
                &u,
                &["postgres", "postgresql"],
                None,
            )?),
            None => None,
        };
        let redis = match opt(&self.redis) {
            Some(u) => Some(endpoint(Field::Redis, Role::Redis, &u, &["redis", "rediss"], None)?),
            None => None,
        };
        // One REST URL, or several (any members'), comma-separated: they are tried in turn.
        let patroni = match opt(&self.patroni) {
            Some(u) => {
                let mut urls = Vec::new();
                for part in patroni_endpoints(&u) {
                    let (url, pw) = split_url(part, &["http", "https"]).map_err(|m| err(Field::Patroni, m))?;
                    if pw.is_some() {
                        return Err(err(Field::Patroni, "put no password in the Patroni URL".into()));
                    }
                    urls.push(url);
                }
                (!urls.is_empty()).then(|| urls.join(","))
            }
            None => None,
        };
        Ok((
            Environment {
                name: self.name,
                kind,
                colour,
                engine,
                primary,
                replicas,
                pgbouncer,
                redis,
                patroni,
                pool,
                cache,
                routing,
                replication,
            },
            secrets,
        ))
    }
}

impl Environment {
    /// The input that would produce this environment (URLs without passwords).
    pub fn to_input(&self) -> EnvInput {
        EnvInput {
            name: self.name.clone(),
            kind: self.kind.clone(),
            colour: Some(self.colour.clone()),
            url: self.primary.url.clone(),
            replicas: self
                .replicas
                .iter()
                .map(|r| ReplicaInput {
                    name: r.name.clone(),
                    url: r.endpoint.url.clone(),
                })
                .collect(),
            pgbouncer: self.pgbouncer.as_ref().map(|e| e.url.clone()),
            redis: self.redis.as_ref().map(|e| e.url.clone()),
            patroni: self.patroni.clone(),
            pool: Some(self.pool),
            cache: Some(self.cache.clone()),
            routing: Some(self.routing.clone()),
            replication: Some(self.replication.clone()),
        }
    }
}

fn is_hex_colour(c: &str) -> bool {
    c.len() == 7 && c.starts_with('#') && c[1..].chars().all(|x| x.is_ascii_hexdigit())
}

fn engine_of(url: &str) -> Option<Engine> {
    let scheme = url.split(':').next()?.to_ascii_lowercase();
    match scheme.as_str() {
        "postgres" | "postgresql" => Some(Engine::Postgres),
        "sqlite" => Some(Engine::Sqlite),
        _ => None,
    }
}

/// The endpoints of an environment's Patroni setting: one REST URL, or several separated by
/// commas (blanks ignored).
pub fn patroni_endpoints(list: &str) -> impl Iterator<Item = &str> {
    list.split(',').map(str::trim).filter(|p| !p.is_empty())
}

/// Parse a URL, check its scheme, and take its password out. The message of an error never
/// repeats the password.
pub fn split_url(raw: &str, schemes: &[&str]) -> Result<(String, Option<Sensitive<String>>), String> {
    let raw = raw.trim();
    let mut url = url::Url::parse(raw).map_err(|e| format!("'{}' is not a valid URL: {e}", redact_url(raw)))?;
    if !schemes.contains(&url.scheme()) {
        return Err(format!(
            "'{}' has scheme '{}'; expected {}",
            redact_url(raw),
            url.scheme(),
            schemes.join(" or ")
        ));
    }
    if url.scheme() != "sqlite" && url.host_str().is_none_or(str::is_empty) {
        return Err(format!("'{}' names no host", redact_url(raw)));
    }
    let password = match url.password() {
        Some(p) if !p.is_empty() => {
            let decoded = percent_decode(p);
            Some(Sensitive::new(decoded))
        }
        _ => None,
    };
    if url.password().is_some() {
        url.set_password(None)
            .map_err(|()| format!("cannot remove the password from '{}'", redact_url(raw)))?;
    }
    Ok((url.to_string(), password))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(b) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A URL fit for messages and logs: any password replaced by `***`.
pub fn redact_url(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        Ok(u) => u.to_string(),
        // Unparseable: cut anything between "://user:" and "@" by hand.
        Err(_) => match (raw.find("://"), raw.rfind('@')) {
            (Some(s), Some(at)) if at > s => {
                let creds = &raw[s + 3..at];
                match creds.find(':') {
                    Some(c) => format!("{}{}:***{}", &raw[..s + 3], &creds[..c], &raw[at..]),
                    None => raw.to_owned(),
                }
            }
            _ => raw.to_owned(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acct(env: &str, role: &Role) -> String {
        format!("test/{env}/{role}")
    }

    fn input(url: &str) -> EnvInput {
        EnvInput {
            name: "staging".into(),
            kind: "staging".into(),
            colour: None,
            url: url.into(),
            replicas: vec![],
            pgbouncer: None,
            redis: None,
            patroni: None,
            pool: None,
            cache: None,
            routing: None,
            replication: None,
        }
    }

    #[test]
    fn password_in_url_is_taken_out_and_referenced() {
        let (env, secrets) = input("postgres://app:s%40cret@db.internal:5433/app?sslmode=require")
            .into_environment(None, acct)
            .unwrap();
        assert_eq!(env.primary.url, "postgres://app@db.internal:5433/app?sslmode=require");
        assert_eq!(env.primary.secret.as_deref(), Some("test/staging/primary"));
        assert_eq!(secrets.0.len(), 1);
        assert_eq!(
            secrets.0[0].1.expose(),
            "s@cret",
            "percent-encoding is undone before storing"
        );
        let json = serde_json::to_string(&env).unwrap();
        assert!(!json.contains("s@cret") && !json.contains("s%40cret"), "{json}");
    }

    #[test]
    fn explicit_password_wins_and_sqlite_has_none() {
        let (env, s) = input("postgres://app@h/db")
            .into_environment(Some(Sensitive::new("x".into())), acct)
            .unwrap();
        assert!(env.primary.secret.is_some());
        assert_eq!(s.0[0].1.expose(), "x");
        let (env, s) = input("sqlite:///tmp/demo.db").into_environment(None, acct).unwrap();
        assert_eq!(env.engine, Engine::Sqlite);
        assert!(s.0.is_empty() && env.primary.secret.is_none());
    }

    #[test]
    fn prod_is_red_and_guarded() {
        let mut i = input("postgres://h/db");
        i.kind = "prod".into();
        i.colour = Some("#00ff00".into());
        let (env, _) = i.into_environment(None, acct).unwrap();
        assert_eq!(
            env.colour, PROD_RED,
            "prod's colour is a safety signal and cannot be changed"
        );
        assert_eq!(
            env.guard("remove", None).unwrap_err().code,
            ErrorCode::ConfirmationRequired
        );
        assert_eq!(
            env.guard("remove", Some("Staging")).unwrap_err().code,
            ErrorCode::ConfirmationRequired
        );
        assert!(env.guard("remove", Some("staging")).is_ok());
    }

    #[test]
    fn bad_inputs_name_the_field_and_hide_passwords() {
        let e = input("mysql://u:topsecret@h/db")
            .into_environment(None, acct)
            .unwrap_err();
        assert_eq!(e.field, Field::Url);
        assert!(!e.message.contains("topsecret"), "{}", e.message);
        let mut i = input("postgres://h/db");
        i.name = "bad name".into();
        assert_eq!(i.into_environment(None, acct).unwrap_err().field, Field::Name);
        let mut i = input("postgres://h/db");
        i.colour = Some("red".into());
        assert_eq!(i.into_environment(None, acct).unwrap_err().field, Field::Colour);
        let mut i = input("postgres://h/db");
        i.replicas = vec![ReplicaInput {
            name: "n2".into(),
            url: "redis://h".into(),
        }];
        assert_eq!(i.into_environment(None, acct).unwrap_err().field, Field::Replica(0));
    }

    #[test]
    fn patroni_takes_several_endpoints_and_no_passwords() {
        let mut i = input("postgres://h/db");
        i.patroni = Some(" http://n1:8008 , http://n2:8008/ ,".into());
        let (env, _) = i.into_environment(None, acct).unwrap();
        let urls: Vec<&str> = env.patroni.as_deref().unwrap().split(',').collect();
        assert_eq!(urls.len(), 2, "{urls:?}");
        assert!(
            urls[0].starts_with("http://n1:8008") && urls[1].starts_with("http://n2:8008"),
            "{urls:?}"
        );
        let mut i = input("postgres://h/db");
        i.patroni = Some("http://n1:8008,http://u:topsecret@n2:8008".into());
        let e = i.into_environment(None, acct).unwrap_err();
        assert_eq!(e.field, Field::Patroni);
        assert!(!e.message.contains("topsecret"), "{}", e.message);
        let mut i = input("postgres://h/db");
        i.patroni = Some("http://n1:8008,ftp://n2".into());
        assert_eq!(i.into_environment(None, acct).unwrap_err().field, Field::Patroni);
    }

    #[test]
    fn redact_url_hides_passwords_even_in_broken_urls() {
        assert_eq!(redact_url("postgres://u:p@h/db"), "postgres://u:***@h/db");
        assert_eq!(
            redact_url("postgres://u:p@h:notaport/db"),
            "postgres://u:***@h:notaport/db"
        );
    }

    #[test]
    fn roles_round_trip() {
        for r in ["primary", "replica:node2", "pgbouncer", "redis"] {
            assert_eq!(r.parse::<Role>().unwrap().to_string(), r);
        }
        assert!("replica:".parse::<Role>().is_err());
    }

    #[test]
    fn url_splitting_never_panics_on_odd_input() {
        for raw in [
            "",
            "postgres://",
            "postgres://:@",
            "postgres://u:%@h/db",
            "postgres://u:%e9%@h/db",
            "postgres://u:%C3%A9@h/db",
            "postgres://u:é@h/db",
            "postgres://[::1]:5432/db",
            "postgres://u:p@[::1/db",
            "sqlite:",
            "sqlite://",
            "://u:p@",
            "postgres://u:p@h:99999/db",
            "redis://:p@h:6379",
            "postgres://u:p%ZZ@h/db",
        ] {
            let _ = split_url(raw, &["postgres", "sqlite", "redis"]);
            let _ = redact_url(raw);
        }
        let (_, pw) = split_url("postgres://u:%C3%A9t%C3%A9@h/db", &["postgres"]).unwrap();
        assert_eq!(
            pw.unwrap().expose(),
            "été",
            "multi-byte percent-encoding decodes to UTF-8"
        );
    }
}
