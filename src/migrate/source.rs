//! Reading a migration folder in the format its team already uses.
//!
//! Three layouts are recognised from the file names alone:
//!
//! - **sqlx**: `<version>_<description>.sql`, or reversible `<version>_<description>.up.sql` /
//!   `.down.sql` pairs (`<version>` an integer, usually a timestamp). History: `_sqlx_migrations`.
//! - **Flyway**: `V<version>__<description>.sql`, undo `U<version>__<description>.sql`,
//!   repeatable `R__<description>.sql` (`<version>` dotted, `_` read as `.`). History:
//!   `flyway_schema_history`.
//! - **plain** numbered up/down pairs that are not sqlx names: `<n>-<name>.up.sql`,
//!   `<n>.up.sql`, `<n>_<name>/up.sql` or `up/<n>_<name>.sql` with their `down` twins. History:
//!   dbdeck's own `dbdeck_schema_history`.
//!
//! Everything that could not be read is a [`SourceProblem`] naming the file and why; the rest
//! of the folder is still read. Checksums are the ones each tool computes itself (sqlx: SHA-384
//! of the file's bytes; Flyway: CRC-32 of its lines without line endings, as a signed 32-bit
//! integer), so a history table written by the team's own tool agrees with dbdeck's reading.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize, Serializer};
use sha2::{Digest, Sha256, Sha384};
use ts_rs::TS;

/// The layout of a migration folder, which decides the history table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum SourceFormat {
    Sqlx,
    Flyway,
    Plain,
}

impl SourceFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceFormat::Sqlx => "sqlx",
            SourceFormat::Flyway => "flyway",
            SourceFormat::Plain => "plain",
        }
    }
    /// The history table the folder's own tool keeps.
    pub fn history_table(self) -> &'static str {
        match self {
            SourceFormat::Sqlx => "_sqlx_migrations",
            SourceFormat::Flyway => "flyway_schema_history",
            SourceFormat::Plain => "dbdeck_schema_history",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "sqlx" => Some(SourceFormat::Sqlx),
            "flyway" => Some(SourceFormat::Flyway),
            "plain" => Some(SourceFormat::Plain),
            _ => None,
        }
    }
}

/// A migration version: an integer (sqlx, plain) or dotted (Flyway, `1.2.10`), ordered by its
/// numeric parts so `1.10` comes after `1.9`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Version {
    text: String,
    parts: Vec<u64>,
}

impl Version {
    /// Reads `1`, `0002`, `1.2.3` or Flyway's `1_2_3`; None when a part is not a number.
    pub fn parse(s: &str) -> Option<Self> {
        if s.is_empty() {
            return None;
        }
        let parts = s
            .split(['.', '_'])
            .map(|p| {
                if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                    None
                } else {
                    p.parse::<u64>().ok()
                }
            })
            .collect::<Option<Vec<_>>>()?;
        // Flyway prints versions with dots and without leading zeros in each part.
        let text = parts.iter().map(u64::to_string).collect::<Vec<_>>().join(".");
        Some(Version { text, parts })
    }
    pub fn as_str(&self) -> &str {
        &self.text
    }
    /// The version as sqlx stores it (a BIGINT), when it is one integer that fits.
    pub fn as_i64(&self) -> Option<i64> {
        match self.parts.as_slice() {
            [n] => i64::try_from(*n).ok(),
            _ => None,
        }
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        // Trailing zero parts do not count: Flyway's 1 and 1.0 are the same version.
        let trim = |p: &[u64]| p.len() - p.iter().rev().take_while(|&&x| x == 0).count();
        let (a, b) = (&self.parts[..trim(&self.parts)], &other.parts[..trim(&other.parts)]);
        a.cmp(b)
    }
}
impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}
impl Serialize for Version {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}
impl TS for Version {
    type WithoutGenerics = Self;
    type OptionInnerType = Self;
    fn name(_: &ts_rs::Config) -> String {
        "string".into()
    }
    fn inline(_: &ts_rs::Config) -> String {
        "string".into()
    }
}

/// A script's checksum, the way its tool computes and stores it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, TS)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Checksum {
    /// sqlx: SHA-384 of the file's bytes, hex.
    Sha384(String),
    /// Flyway: CRC-32 of the lines without their endings, signed.
    Crc32(i32),
    /// dbdeck's plain folders: SHA-256 of the file's bytes, hex.
    Sha256(String),
}

impl fmt::Display for Checksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Checksum::Sha384(h) | Checksum::Sha256(h) => f.write_str(&h[..h.len().min(12)]),
            Checksum::Crc32(n) => write!(f, "{n}"),
        }
    }
}

impl Checksum {
    pub fn compute(format: SourceFormat, bytes: &[u8], text: &str) -> Self {
        match format {
            SourceFormat::Sqlx => Checksum::Sha384(hex::encode(Sha384::digest(bytes))),
            SourceFormat::Plain => Checksum::Sha256(hex::encode(Sha256::digest(bytes))),
            SourceFormat::Flyway => Checksum::Crc32(flyway_crc32(text)),
        }
    }
}

/// Flyway's checksum: CRC-32 over each line's UTF-8 bytes with the line endings (`\n`, `\r\n`,
/// `\r`) left out, a leading byte-order mark dropped, as a signed 32-bit integer.
pub fn flyway_crc32(text: &str) -> i32 {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut h = crc32fast::Hasher::new();
    let bytes = text.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => {
                h.update(&bytes[start..i]);
                start = i + 1;
            }
            b'\r' => {
                h.update(&bytes[start..i]);
                if bytes.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    h.update(&bytes[start..]);
    h.finalize() as i32
}

/// One SQL file of a migration.
#[derive(Debug, Clone, Serialize, TS)]
pub struct Script {
    /// Relative to the folder.
    #[ts(type = "string")]
    pub path: PathBuf,
    /// The text, decoded (UTF-8, or UTF-16 with a byte-order mark); line endings as in the file.
    pub sql: String,
    pub checksum: Checksum,
    /// Asked to run outside a transaction (sqlx's `-- no-transaction` first line, or Flyway's
    /// `executeInTransaction=false` in `<script>.conf`).
    pub no_transaction: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum MigrationKind {
    Versioned,
    /// Flyway's `R__` scripts: applied again whenever their checksum changes, after the
    /// versioned ones.
    Repeatable,
}

/// One migration: its up script and, when the folder has one, its down (undo) script.
#[derive(Debug, Clone, Serialize, TS)]
pub struct Migration {
    /// None for a repeatable migration.
    pub version: Option<Version>,
    /// As the tool writes it in its history: underscores read as spaces.
    pub description: String,
    pub kind: MigrationKind,
    pub up: Script,
    pub down: Option<Script>,
}

impl Migration {
    /// "20240101_add_users" / "V3 add users" / "R create views": how the person names it.
    pub fn label(&self) -> String {
        match &self.version {
            Some(v) => format!("{v} {}", self.description),
            None => format!("R {}", self.description),
        }
    }
}

/// A file the reader skipped, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct SourceProblem {
    #[ts(type = "string")]
    pub path: PathBuf,
    pub message: String,
}

/// A migration folder, read.
#[derive(Debug, Clone, Serialize, TS)]
pub struct Source {
    #[ts(type = "string")]
    pub dir: PathBuf,
    pub format: SourceFormat,
    /// How the format was decided ("file names", "--format").
    pub detected_from: String,
    /// Versioned in version order, then repeatables by description.
    pub migrations: Vec<Migration>,
    pub problems: Vec<SourceProblem>,
}

impl Source {
    pub fn versioned(&self) -> impl Iterator<Item = &Migration> {
        self.migrations.iter().filter(|m| m.kind == MigrationKind::Versioned)
    }
    pub fn find(&self, version: &Version) -> Option<&Migration> {
        self.migrations.iter().find(|m| m.version.as_ref() == Some(version))
    }
}

/// Why a folder could not be read at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceError(pub String);

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A file name as one of the layouts reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Name {
    format: SourceFormat,
    version: Option<Version>,
    description: String,
    role: Role,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// The only script of a migration (sqlx simple, Flyway V or R).
    Single,
    Up,
    Down,
}

/// A file name read by one layout: the name, or why it looks like that layout but is wrong.
type Reading = Result<Name, String>;

fn describe(s: &str) -> String {
    s.replace('_', " ")
}

fn flyway_name(file: &str) -> Option<Result<Name, String>> {
    let stem = file.strip_suffix(".sql")?;
    let (prefix, rest) = stem.split_at_checked(1)?;
    let role = match prefix {
        "V" => Role::Single,
        "U" => Role::Down,
        "R" => {
            let desc = rest.strip_prefix("__")?;
            return Some(Ok(Name {
                format: SourceFormat::Flyway,
                version: None,
                description: describe(desc),
                role: Role::Single,
            }));
        }
        _ => return None,
    };
    let (ver, desc) = rest.split_once("__")?;
    if !ver.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    Some(match Version::parse(ver) {
        Some(v) if !desc.is_empty() => Ok(Name {
            format: SourceFormat::Flyway,
            version: Some(v),
            description: describe(desc),
            role,
        }),
        Some(_) => Err("the description after `__` is empty".into()),
        None => Err(format!("`{ver}` is not a version (digits separated by `.` or `_`)")),
    })
}

fn sqlx_name(file: &str) -> Option<Result<Name, String>> {
    let (stem, role) = if let Some(s) = file.strip_suffix(".up.sql") {
        (s, Role::Up)
    } else if let Some(s) = file.strip_suffix(".down.sql") {
        (s, Role::Down)
    } else {
        (file.strip_suffix(".sql")?, Role::Single)
    };
    let (ver, desc) = stem.split_once('_')?;
    if ver.is_empty() || !ver.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(match ver.parse::<i64>() {
        Ok(n) if n > 0 => Ok(Name {
            format: SourceFormat::Sqlx,
            version: Version::parse(ver),
            description: describe(desc),
            role,
        }),
        _ => Err(format!("sqlx versions are positive 64-bit integers; `{ver}` is not")),
    })
}

/// `<n>-<name>.up.sql`, `<n>.up.sql`, `<n>_<name>/up.sql`, `up/<n>_<name>.sql`.
fn plain_name(rel: &Path) -> Option<Name> {
    let comps: Vec<&str> = rel.iter().filter_map(|c| c.to_str()).collect();
    let (numbered, role) = match comps.as_slice() {
        [file] => {
            let (stem, role) = if let Some(s) = file.strip_suffix(".up.sql") {
                (s, Role::Up)
            } else {
                (file.strip_suffix(".down.sql")?, Role::Down)
            };
            (stem.to_string(), role)
        }
        [dir, "up.sql"] => (dir.to_string(), Role::Up),
        [dir, "down.sql"] => (dir.to_string(), Role::Down),
        ["up", file] => (file.strip_suffix(".sql")?.to_string(), Role::Up),
        ["down", file] => (file.strip_suffix(".sql")?.to_string(), Role::Down),
        _ => return None,
    };
    let digits = numbered.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let (ver, rest) = numbered.split_at(digits);
    let desc = rest.trim_start_matches(['-', '_', '.', ' ']);
    if !rest.is_empty() && rest.len() == desc.len() {
        return None;
    }
    Some(Name {
        format: SourceFormat::Plain,
        version: Version::parse(ver),
        description: describe(&desc.replace('-', " ")),
        role,
    })
}

/// Decodes a script: UTF-8 (a byte-order mark is dropped), or UTF-16 with a byte-order mark.
/// Anything else is refused with where the first bad byte is.
pub fn decode(bytes: &[u8]) -> Result<String, String> {
    if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return decode_utf8(rest);
    }
    let utf16 = |rest: &[u8], le: bool| -> Result<String, String> {
        if !rest.len().is_multiple_of(2) {
            return Err("UTF-16 with an odd number of bytes (truncated?)".into());
        }
        let units: Vec<u16> = rest
            .chunks_exact(2)
            .map(|c| {
                if le {
                    u16::from_le_bytes([c[0], c[1]])
                } else {
                    u16::from_be_bytes([c[0], c[1]])
                }
            })
            .collect();
        String::from_utf16(&units).map_err(|_| "UTF-16 with an unpaired surrogate".into())
    };
    if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        return utf16(rest, true);
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        return utf16(rest, false);
    }
    decode_utf8(bytes)
}

fn decode_utf8(bytes: &[u8]) -> Result<String, String> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(s.to_string()),
        Err(e) => {
            let at = e.valid_up_to();
            let line = bytes[..at].iter().filter(|&&b| b == b'\n').count() + 1;
            let col = at - bytes[..at].iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1) + 1;
            Err(format!(
                "not UTF-8: byte 0x{:02X} at line {line}, column {col} (byte {at}); \
                 save the file as UTF-8 (it looks like {})",
                bytes[at],
                if bytes.contains(&0) {
                    "UTF-16 without a byte-order mark"
                } else {
                    "Latin-1 or Windows-1252"
                }
            ))
        }
    }
}

/// sqlx reads a file starting with `-- no-transaction` as "run this outside a transaction".
fn sqlx_no_tx(sql: &str) -> bool {
    sql.starts_with("-- no-transaction")
}

/// Flyway's per-script `<script>.conf` with `executeInTransaction=false`.
fn flyway_no_tx(dir: &Path, rel: &Path) -> bool {
    let mut conf = dir.join(rel).into_os_string();
    conf.push(".conf");
    std::fs::read_to_string(conf).is_ok_and(|c| {
        c.lines().any(|l| {
            let l: String = l.chars().filter(|c| !c.is_whitespace()).collect();
            l.eq_ignore_ascii_case("executeInTransaction=false")
        })
    })
}

fn walk(dir: &Path, rel: &Path, depth: usize, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir.join(rel))?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = rel.join(e.file_name());
        let ty = e.file_type()?;
        if ty.is_dir() && depth < 1 && !e.file_name().to_string_lossy().starts_with('.') {
            walk(dir, &name, depth + 1, out)?;
        } else if (ty.is_file() || ty.is_symlink()) && name.extension().is_some_and(|x| x == "sql") {
            out.push(name);
        }
    }
    Ok(())
}

/// Reads a migration folder. `force` sets the layout instead of detecting it from the names.
pub fn read_dir(dir: &Path, force: Option<SourceFormat>) -> Result<Source, SourceError> {
    let meta = std::fs::metadata(dir)
        .map_err(|e| SourceError(format!("cannot read migration folder {}: {e}", dir.display())))?;
    if !meta.is_dir() {
        return Err(SourceError(format!("{} is not a folder", dir.display())));
    }
    let mut files = Vec::new();
    walk(dir, Path::new(""), 0, &mut files).map_err(|e| SourceError(format!("cannot list {}: {e}", dir.display())))?;
    let mut loaded = Vec::with_capacity(files.len());
    let mut unreadable = Vec::new();
    for rel in files {
        match std::fs::read(dir.join(&rel)) {
            Ok(bytes) => loaded.push((rel, bytes)),
            Err(e) => unreadable.push(SourceProblem {
                path: rel,
                message: format!("cannot read: {e}"),
            }),
        }
    }
    let mut source = read_files(dir, loaded, force);
    source.problems.extend(unreadable);
    Ok(source)
}

/// Reads already-loaded files (relative path, bytes): the pure part of [`read_dir`], which the
/// fuzz target drives.
pub fn read_files(dir: &Path, files: Vec<(PathBuf, Vec<u8>)>, force: Option<SourceFormat>) -> Source {
    let mut problems = Vec::new();
    // Name every file by every layout, then pick the layout most files follow.
    let mut named: Vec<(PathBuf, Vec<u8>, Vec<Reading>)> = Vec::new();
    for (rel, bytes) in files {
        let file = rel.file_name().and_then(|f| f.to_str()).unwrap_or("").to_string();
        let top = rel.components().count() == 1;
        let mut readings = Vec::new();
        if top {
            readings.extend(flyway_name(&file));
            readings.extend(sqlx_name(&file));
        }
        if let Some(n) = plain_name(&rel) {
            readings.push(Ok(n));
        }
        named.push((rel, bytes, readings));
    }
    let count = |f: SourceFormat| {
        named
            .iter()
            .filter(|(_, _, r)| r.iter().any(|n| matches!(n, Ok(n) if n.format == f)))
            .count()
    };
    let (format, detected_from) = match force {
        Some(f) => (f, "asked for".to_string()),
        None => {
            let (fl, sq, pl) = (
                count(SourceFormat::Flyway),
                count(SourceFormat::Sqlx),
                count(SourceFormat::Plain),
            );
            let f = if fl > 0 && fl >= sq && fl >= pl {
                SourceFormat::Flyway
            } else if sq > 0 && sq >= pl {
                SourceFormat::Sqlx
            } else if pl > 0 {
                SourceFormat::Plain
            } else {
                SourceFormat::Sqlx
            };
            (f, "file names".to_string())
        }
    };

    // One slot per version (or repeatable description): up/single and down scripts.
    #[derive(Default)]
    struct Slot {
        description: String,
        up: Option<Script>,
        single: bool,
        down: Option<Script>,
    }
    let mut versioned: BTreeMap<Version, Slot> = BTreeMap::new();
    let mut repeatable: BTreeMap<String, Script> = BTreeMap::new();
    for (rel, bytes, readings) in named {
        // sqlx's `.up.sql` names also read as plain ones: a forced plain folder takes them.
        let reading = readings.iter().find(|r| matches!(r, Ok(n) if n.format == format)).cloned().or_else(|| {
            readings
                .iter()
                .find(|r| matches!(r, Ok(n) if format == SourceFormat::Plain && n.format == SourceFormat::Sqlx && n.role != Role::Single))
                .cloned()
        });
        let name = match reading {
            Some(Ok(n)) => n,
            _ => {
                let why = readings
                    .iter()
                    .find_map(|r| r.as_ref().err().cloned())
                    .unwrap_or_else(|| format!("not a {} migration name: {}", format.as_str(), expected_names(format)));
                problems.push(SourceProblem {
                    path: rel,
                    message: why,
                });
                continue;
            }
        };
        let sql = match decode(&bytes) {
            Ok(s) => s,
            Err(e) => {
                problems.push(SourceProblem { path: rel, message: e });
                continue;
            }
        };
        let no_transaction = match format {
            SourceFormat::Sqlx | SourceFormat::Plain => sqlx_no_tx(&sql),
            SourceFormat::Flyway => flyway_no_tx(dir, &rel),
        };
        let script = Script {
            checksum: Checksum::compute(format, &bytes, &sql),
            path: rel.clone(),
            sql,
            no_transaction,
        };
        let Some(version) = name.version else {
            if let Some(prev) = repeatable.insert(name.description.clone(), script) {
                problems.push(SourceProblem {
                    path: rel,
                    message: format!(
                        "a second repeatable migration named `{}` (first: {})",
                        name.description,
                        prev.path.display()
                    ),
                });
            }
            continue;
        };
        let slot = versioned.entry(version.clone()).or_default();
        let taken = match name.role {
            Role::Single | Role::Up => slot.up.is_some(),
            Role::Down => slot.down.is_some(),
        };
        if taken {
            let first = match name.role {
                Role::Down => slot.down.as_ref(),
                _ => slot.up.as_ref(),
            }
            .map(|s| s.path.display().to_string())
            .unwrap_or_default();
            problems.push(SourceProblem {
                path: rel,
                message: format!("version {version} is used twice (first: {first}); each version must be unique"),
            });
            continue;
        }
        match name.role {
            Role::Single | Role::Up => {
                slot.description = name.description;
                slot.single = name.role == Role::Single;
                slot.up = Some(script);
            }
            Role::Down => {
                if slot.description.is_empty() {
                    slot.description = name.description;
                }
                slot.down = Some(script);
            }
        }
    }

    let mut migrations = Vec::new();
    for (version, slot) in versioned {
        let Some(up) = slot.up else {
            if let Some(down) = slot.down {
                problems.push(SourceProblem {
                    path: down.path.clone(),
                    message: format!("a down script for version {version} with no up script beside it"),
                });
            }
            continue;
        };
        if format == SourceFormat::Sqlx && slot.single && slot.down.is_some() {
            // sqlx itself refuses `<v>_x.sql` next to `<v>_x.down.sql`.
            problems.push(SourceProblem {
                path: up.path.clone(),
                message: format!("version {version}: sqlx pairs a down script only with an `.up.sql` file; rename it"),
            });
        }
        migrations.push(Migration {
            version: Some(version),
            description: slot.description,
            kind: MigrationKind::Versioned,
            up,
            down: slot.down,
        });
    }
    for (description, up) in repeatable {
        migrations.push(Migration {
            version: None,
            description,
            kind: MigrationKind::Repeatable,
            up,
            down: None,
        });
    }
    Source {
        dir: dir.to_path_buf(),
        format,
        detected_from,
        migrations,
        problems,
    }
}

fn expected_names(format: SourceFormat) -> &'static str {
    match format {
        SourceFormat::Sqlx => "expected `<version>_<description>.sql` or `.up.sql`/`.down.sql`",
        SourceFormat::Flyway => "expected `V<version>__<description>.sql`, `U<version>__…` or `R__<description>.sql`",
        SourceFormat::Plain => "expected `<n>-<name>.up.sql`/`.down.sql`, `<n>_<name>/up.sql` or `up/<n>_<name>.sql`",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(list: &[(&str, &str)]) -> Vec<(PathBuf, Vec<u8>)> {
        list.iter()
            .map(|(p, s)| (PathBuf::from(p), s.as_bytes().to_vec()))
            .collect()
    }

    #[test]
    fn versions_order_numerically() {
        let v = |s| Version::parse(s).unwrap();
        assert!(v("1.10") > v("1.9"));
        assert_eq!(v("1").cmp(&v("1.0")), Ordering::Equal);
        assert_eq!(v("2_1").as_str(), "2.1");
        assert_eq!(v("0002").as_str(), "2");
        assert!(Version::parse("1.a").is_none());
        assert!(Version::parse("").is_none());
    }

    #[test]
    fn flyway_checksum_ignores_line_endings_and_bom() {
        let lf = flyway_crc32("CREATE TABLE t (id int);\nSELECT 1;\n");
        assert_eq!(lf, flyway_crc32("CREATE TABLE t (id int);\r\nSELECT 1;\r\n"));
        assert_eq!(lf, flyway_crc32("\u{feff}CREATE TABLE t (id int);\rSELECT 1;"));
        assert_ne!(lf, flyway_crc32("CREATE TABLE t (id bigint);\nSELECT 1;\n"));
        // CRC-32 of "abc" is 0x352441C2.
        assert_eq!(flyway_crc32("abc"), 0x352441C2_u32 as i32);
    }

    #[test]
    fn reads_sqlx_reversible_and_simple() {
        let s = read_files(
            Path::new("m"),
            files(&[
                ("20240101000000_create_users.up.sql", "CREATE TABLE users (id bigint);"),
                ("20240101000000_create_users.down.sql", "DROP TABLE users;"),
                (
                    "20240102000000_add_email.up.sql",
                    "-- no-transaction\nCREATE INDEX CONCURRENTLY i ON users (id);",
                ),
                ("20240102000000_add_email.down.sql", "DROP INDEX i;"),
                ("notes.sql", "select 1"),
            ]),
            None,
        );
        assert_eq!(s.format, SourceFormat::Sqlx);
        assert_eq!(s.migrations.len(), 2);
        assert_eq!(s.migrations[0].description, "create users");
        assert!(s.migrations[0].down.is_some());
        assert!(s.migrations[1].up.no_transaction);
        assert_eq!(s.problems.len(), 1, "{:?}", s.problems);
        assert!(
            s.problems[0].message.contains("not a sqlx migration name"),
            "{}",
            s.problems[0].message
        );
        let Checksum::Sha384(h) = &s.migrations[0].up.checksum else {
            panic!()
        };
        assert_eq!(h.len(), 96);
    }

    #[test]
    fn reads_flyway_with_undo_and_repeatable() {
        let s = read_files(
            Path::new("m"),
            files(&[
                ("V1__init.sql", "CREATE TABLE a (id int);"),
                ("V1.1__add_b.sql", "CREATE TABLE b (id int);"),
                ("U1.1__add_b.sql", "DROP TABLE b;"),
                ("V1_10__later.sql", "SELECT 1;"),
                ("V1.2__x.sql", "SELECT 1;"),
                ("R__views.sql", "CREATE OR REPLACE VIEW v AS SELECT 1;"),
                ("Vx__bad.sql", "SELECT 1;"),
            ]),
            None,
        );
        assert_eq!(s.format, SourceFormat::Flyway);
        let labels: Vec<_> = s.migrations.iter().map(Migration::label).collect();
        assert_eq!(labels, ["1 init", "1.1 add b", "1.2 x", "1.10 later", "R views"]);
        assert!(s.migrations[1].down.is_some());
        assert_eq!(s.problems.len(), 1);
        assert_eq!(s.problems[0].path, PathBuf::from("Vx__bad.sql"));
    }

    #[test]
    fn reads_plain_pairs_in_every_layout() {
        for layout in [
            vec![
                ("001-init.up.sql", "CREATE TABLE a (id int);"),
                ("001-init.down.sql", "DROP TABLE a;"),
            ],
            vec![
                ("001_init/up.sql", "CREATE TABLE a (id int);"),
                ("001_init/down.sql", "DROP TABLE a;"),
            ],
            vec![
                ("up/001_init.sql", "CREATE TABLE a (id int);"),
                ("down/001_init.sql", "DROP TABLE a;"),
            ],
        ] {
            let s = read_files(Path::new("m"), files(&layout), None);
            assert_eq!(s.format, SourceFormat::Plain, "{layout:?}");
            assert_eq!(s.migrations.len(), 1, "{layout:?} {:?}", s.problems);
            assert_eq!(s.migrations[0].description, "init");
            assert!(s.migrations[0].down.is_some());
            assert!(s.problems.is_empty());
        }
    }

    #[test]
    fn duplicate_versions_orphan_downs_and_bad_encodings_are_named() {
        let mut f = files(&[
            ("1_a.sql", "SELECT 1;"),
            ("1_b.sql", "SELECT 2;"),
            ("2_c.down.sql", "SELECT 3;"),
        ]);
        f.push((PathBuf::from("3_latin1.sql"), b"SELECT 'caf\xe9';".to_vec()));
        let s = read_files(Path::new("m"), f, None);
        let msgs: Vec<_> = s.problems.iter().map(|p| p.message.as_str()).collect();
        assert_eq!(s.migrations.len(), 1);
        assert!(msgs.iter().any(|m| m.contains("used twice")), "{msgs:?}");
        assert!(msgs.iter().any(|m| m.contains("no up script")), "{msgs:?}");
        assert!(
            msgs.iter()
                .any(|m| m.contains("not UTF-8: byte 0xE9 at line 1, column 12")),
            "{msgs:?}"
        );
    }

    #[test]
    fn decodes_bom_and_utf16() {
        assert_eq!(decode(b"\xEF\xBB\xBFSELECT 1").unwrap(), "SELECT 1");
        let utf16: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("SELECT 1".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        assert_eq!(decode(&utf16).unwrap(), "SELECT 1");
    }
}
