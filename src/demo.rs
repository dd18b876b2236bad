//! The demo environment: a realistic SQLite shop database in the data directory, so a newcomer
//! sees dbdeck work with no server at all.
//!
//! It is created once (idempotent) and deterministic: the same rows on every machine, made by a
//! small seeded generator rather than random data, so screenshots and tests are stable. It is
//! an ordinary environment of kind `dev`; nothing in dbdeck treats it specially afterwards.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};
use sqlx::{ConnectOptions, Connection};

use crate::env::{EnvInput, PoolProfile};
use crate::error::{ApiError, ErrorCode};

pub const DEMO_ENV: &str = "demo";
pub const CUSTOMERS: u32 = 2_000;
pub const PRODUCTS: u32 = 250;
pub const ORDERS: u32 = 8_000;

pub fn demo_path(data_dir: &Path) -> PathBuf {
    data_dir.join("demo.db")
}

/// The environment the demo adds.
pub fn demo_input(data_dir: &Path) -> EnvInput {
    EnvInput {
        name: DEMO_ENV.to_owned(),
        kind: "dev".to_owned(),
        colour: Some("#0d9488".to_owned()),
        url: format!("sqlite://{}", demo_path(data_dir).display()),
        replicas: vec![],
        pgbouncer: None,
        redis: None,
        patroni: None,
        pool: Some(PoolProfile::for_kind("dev")),
        cache: None,
        routing: None,
        replication: None,
    }
}

/// A tiny deterministic generator (xorshift64*), enough for plausible demo rows.
struct Seq(u64);
impl Seq {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len() as u64) as usize]
    }
}

const FIRST: &[&str] = &[
    "Ada", "Grace", "Linus", "Margaret", "Edsger", "Barbara", "Ken", "Frances", "Donald", "Radia", "Tim", "Anita",
    "Niklaus", "Sophie", "Jean", "Hedy",
];
const LAST: &[&str] = &[
    "Lovelace",
    "Hopper",
    "Torvalds",
    "Hamilton",
    "Dijkstra",
    "Liskov",
    "Thompson",
    "Allen",
    "Knuth",
    "Perlman",
    "Berners-Lee",
    "Borg",
    "Wirth",
    "Wilson",
    "Bartik",
    "Lamarr",
];
const CITIES: &[&str] = &[
    "Lisbon",
    "Oslo",
    "Nairobi",
    "Osaka",
    "Lima",
    "Tallinn",
    "Austin",
    "Dublin",
    "Pune",
    "Porto Alegre",
];
const ADJ: &[&str] = &[
    "Quiet", "Rapid", "Sturdy", "Compact", "Bright", "Classic", "Modular", "Smart",
];
const THING: &[&str] = &[
    "Keyboard",
    "Lamp",
    "Backpack",
    "Kettle",
    "Monitor Arm",
    "Notebook",
    "Headset",
    "Desk Mat",
    "Router",
    "Chair",
];
const STATUS: &[&str] = &[
    "paid",
    "paid",
    "paid",
    "shipped",
    "shipped",
    "delivered",
    "delivered",
    "delivered",
    "refunded",
    "pending",
];

/// The demo's migration folder (sqlx layout, SQLite dialect), next to its database.
pub fn demo_migrations(data_dir: &Path) -> PathBuf {
    data_dir.join("demo-migrations")
}

/// Three reversible migrations against the demo shop, for trying the migration wizard with no
/// server: written once, never overwritten (the person may edit them).
const DEMO_MIGRATIONS: &[(&str, &str)] = &[
    (
        "20261101090000_create_reviews.up.sql",
        "-- Product reviews.\nCREATE TABLE reviews (\n    id INTEGER PRIMARY KEY,\n    product_id INTEGER NOT NULL REFERENCES products (id),\n    customer_id INTEGER NOT NULL REFERENCES customers (id),\n    stars INTEGER NOT NULL CHECK (stars BETWEEN 1 AND 5),\n    body TEXT,\n    created_at TEXT NOT NULL\n);\n",
    ),
    ("20261101090000_create_reviews.down.sql", "DROP TABLE reviews;\n"),
    (
        "20261102090000_index_reviews_by_product.up.sql",
        "CREATE INDEX reviews_product ON reviews (product_id, stars);\n",
    ),
    (
        "20261102090000_index_reviews_by_product.down.sql",
        "DROP INDEX reviews_product;\n",
    ),
    (
        "20261103090000_add_customer_tier.up.sql",
        "ALTER TABLE customers ADD COLUMN tier TEXT NOT NULL DEFAULT 'standard';\nUPDATE customers SET tier = 'gold' WHERE id % 17 = 0;\n",
    ),
    (
        "20261103090000_add_customer_tier.down.sql",
        "ALTER TABLE customers DROP COLUMN tier;\n",
    ),
];

/// Writes the demo migration folder if it is not there. Returns its path.
pub fn ensure_demo_migrations(data_dir: &Path) -> Result<PathBuf, ApiError> {
    let dir = demo_migrations(data_dir);
    if dir.exists() {
        return Ok(dir);
    }
    let fail = |e: std::io::Error| ApiError::new(ErrorCode::Store, format!("while writing {}: {e}", dir.display()));
    std::fs::create_dir_all(&dir).map_err(fail)?;
    for (name, sql) in DEMO_MIGRATIONS {
        std::fs::write(dir.join(name), sql).map_err(fail)?;
    }
    Ok(dir)
}

/// Create the demo database if it is not there yet. Returns its path.
pub async fn ensure_demo_db(data_dir: &Path) -> Result<PathBuf, ApiError> {
    let path = demo_path(data_dir);
    let fail = |e: sqlx::Error| {
        ApiError::new(
            ErrorCode::Store,
            format!("while creating the demo database {}: {e}", path.display()),
        )
    };
    let mut conn = SqliteConnectOptions::from_str("sqlite://")
        .map_err(fail)?
        .filename(&path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .connect()
        .await
        .map_err(fail)?;
    let exists: Option<i64> = sqlx::query_scalar("SELECT count(*) FROM sqlite_master WHERE name = 'orders'")
        .fetch_optional(&mut conn)
        .await
        .map_err(fail)?;
    if exists == Some(1) {
        return Ok(path);
    }
    let mut tx = conn.begin().await.map_err(fail)?;
    sqlx::raw_sql(
        "CREATE TABLE customers (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            email TEXT NOT NULL UNIQUE,
            city TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE TABLE products (
            id INTEGER PRIMARY KEY,
            sku TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL,
            price_cents INTEGER NOT NULL CHECK (price_cents > 0),
            stock INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE orders (
            id INTEGER PRIMARY KEY,
            customer_id INTEGER NOT NULL REFERENCES customers (id),
            status TEXT NOT NULL,
            placed_at TEXT NOT NULL,
            total_cents INTEGER NOT NULL
        );
        CREATE TABLE order_items (
            order_id INTEGER NOT NULL REFERENCES orders (id),
            product_id INTEGER NOT NULL REFERENCES products (id),
            quantity INTEGER NOT NULL CHECK (quantity > 0),
            price_cents INTEGER NOT NULL,
            PRIMARY KEY (order_id, product_id)
        );
        CREATE INDEX orders_customer ON orders (customer_id);
        CREATE INDEX orders_placed_at ON orders (placed_at);",
    )
    .execute(&mut *tx)
    .await
    .map_err(fail)?;

    // Rows are made in memory first (the generator's call order fixes the data), then written
    // in multi-row INSERTs: one statement per few thousand rows instead of one per row.
    let mut g = Seq(0x9E37_79B9_7F4A_7C15);
    let day0 = chrono::NaiveDate::from_ymd_opt(2025, 1, 1).expect("valid date");
    let mut customers = Vec::with_capacity(CUSTOMERS as usize);
    for id in 1..=i64::from(CUSTOMERS) {
        let (f, l, city) = (g.pick(FIRST), g.pick(LAST), g.pick(CITIES));
        let created = day0 + chrono::Days::new(g.below(600));
        customers.push(vec![
            Cell::Int(id),
            Cell::Text(format!("{f} {l}")),
            Cell::Text(format!("{}.{}{id}@example.com", f.to_lowercase(), l.to_lowercase())),
            Cell::Text(city.to_owned()),
            Cell::Text(created.to_string()),
        ]);
    }
    let mut prices = Vec::with_capacity(PRODUCTS as usize);
    let mut products = Vec::with_capacity(PRODUCTS as usize);
    for id in 1..=i64::from(PRODUCTS) {
        let price = 499 + g.below(30_000) as i64;
        prices.push(price);
        let name = format!("{} {}", g.pick(ADJ), g.pick(THING));
        products.push(vec![
            Cell::Int(id),
            Cell::Text(format!("SKU-{id:05}")),
            Cell::Text(name),
            Cell::Int(price),
            Cell::Int(g.below(500) as i64),
        ]);
    }
    let mut orders = Vec::with_capacity(ORDERS as usize);
    let mut items = Vec::new();
    for id in 1..=i64::from(ORDERS) {
        let customer = 1 + g.below(u64::from(CUSTOMERS));
        let mut lines: Vec<(u64, i64, i64)> = Vec::new();
        for _ in 0..1 + g.below(4) {
            let product = 1 + g.below(u64::from(PRODUCTS));
            if lines.iter().any(|l| l.0 == product) {
                continue;
            }
            lines.push((product, 1 + g.below(3) as i64, prices[(product - 1) as usize]));
        }
        let total: i64 = lines.iter().map(|(_, q, p)| q * p).sum();
        let placed = day0 + chrono::Days::new(30 + g.below(660));
        orders.push(vec![
            Cell::Int(id),
            Cell::Int(customer as i64),
            Cell::Text(g.pick(STATUS).to_owned()),
            Cell::Text(placed.to_string()),
            Cell::Int(total),
        ]);
        for (product, qty, price) in lines {
            items.push(vec![
                Cell::Int(id),
                Cell::Int(product as i64),
                Cell::Int(qty),
                Cell::Int(price),
            ]);
        }
    }
    insert_rows(&mut tx, "customers (id, name, email, city, created_at)", customers)
        .await
        .map_err(fail)?;
    insert_rows(&mut tx, "products (id, sku, name, price_cents, stock)", products)
        .await
        .map_err(fail)?;
    insert_rows(
        &mut tx,
        "orders (id, customer_id, status, placed_at, total_cents)",
        orders,
    )
    .await
    .map_err(fail)?;
    insert_rows(
        &mut tx,
        "order_items (order_id, product_id, quantity, price_cents)",
        items,
    )
    .await
    .map_err(fail)?;
    tx.commit().await.map_err(fail)?;
    sqlx::query("ANALYZE").execute(&mut conn).await.map_err(fail)?;
    let _ = conn.close().await;
    Ok(path)
}

enum Cell {
    Int(i64),
    Text(String),
}

/// Write rows with multi-row INSERTs, a few thousand rows per statement (SQLite allows
/// 32,766 bound parameters per statement). `target` is `table (col, ...)`, a constant.
async fn insert_rows(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    target: &'static str,
    rows: Vec<Vec<Cell>>,
) -> Result<(), sqlx::Error> {
    let width = rows.first().map_or(1, Vec::len);
    let per_statement = 30_000 / width;
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new("INSERT INTO ");
        q.push(target).push(" ");
        q.push_values(rows.by_ref().take(per_statement), |mut b, row| {
            for cell in row {
                match cell {
                    Cell::Int(v) => b.push_bind(v),
                    Cell::Text(v) => b.push_bind(v),
                };
            }
        });
        q.build().execute(&mut **tx).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn demo_db_is_created_once_with_thousands_of_rows() {
        let dir = tempfile::tempdir().unwrap();
        let p = ensure_demo_db(dir.path()).await.unwrap();
        let p2 = ensure_demo_db(dir.path()).await.unwrap();
        assert_eq!(p, p2);
        let mut c = SqliteConnectOptions::new().filename(&p).connect().await.unwrap();
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM orders")
            .fetch_one(&mut c)
            .await
            .unwrap();
        assert_eq!(n, i64::from(ORDERS), "a second call must not insert again");
        let items: i64 = sqlx::query_scalar("SELECT count(*) FROM order_items")
            .fetch_one(&mut c)
            .await
            .unwrap();
        assert!(items > i64::from(ORDERS), "orders have one to four lines");
    }
}
