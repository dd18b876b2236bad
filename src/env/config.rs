//! Environments as TOML: `dbdeck env export` and `dbdeck env import`.
//!
//! The document holds no secret. For each endpoint that had a password it lists the role under
//! `keychain`, so the importing machine knows which passwords it must be given. Import is all
//! or nothing: every problem is reported with its line, and nothing is written unless there is
//! none.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{
    CacheTargets, EnvInput, Environment, Field, PoolProfile, ReadRouting, ReplicaInput, ReplicationSettings, Role,
};
use crate::api::ImportProblem;

/// One `[env.NAME]` table.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct EnvToml {
    kind: toml::Spanned<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    colour: Option<toml::Spanned<String>>,
    url: toml::Spanned<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    replicas: Vec<toml::Spanned<ReplicaInput>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pgbouncer: Option<toml::Spanned<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    redis: Option<toml::Spanned<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    patroni: Option<toml::Spanned<String>>,
    /// Roles whose password lives in the keychain (never the password itself).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    keychain: Vec<toml::Spanned<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pool: Option<toml::Spanned<PoolProfile>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cache: Option<toml::Spanned<CacheTargets>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    routing: Option<toml::Spanned<ReadRouting>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    replication: Option<toml::Spanned<ReplicationSettings>>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Document {
    #[serde(default)]
    env: BTreeMap<String, toml::Spanned<EnvToml>>,
}

const HEADER: &str = "# dbdeck environments. Passwords are not in this file: the roles listed under `keychain`\n\
# need one in the OS keychain of the machine that imports it (dbdeck env set-password).\n\n";

pub fn export(envs: &[Environment]) -> String {
    let s = |v: &str| toml::Spanned::new(0..0, v.to_owned());
    let doc = Document {
        env: envs
            .iter()
            .map(|e| {
                let t = EnvToml {
                    kind: s(&e.kind),
                    colour: Some(s(&e.colour)),
                    url: s(&e.primary.url),
                    replicas: e
                        .replicas
                        .iter()
                        .map(|r| {
                            toml::Spanned::new(
                                0..0,
                                ReplicaInput {
                                    name: r.name.clone(),
                                    url: r.endpoint.url.clone(),
                                },
                            )
                        })
                        .collect(),
                    pgbouncer: e.pgbouncer.as_ref().map(|x| s(&x.url)),
                    redis: e.redis.as_ref().map(|x| s(&x.url)),
                    patroni: e.patroni.as_deref().map(s),
                    keychain: e
                        .endpoints()
                        .into_iter()
                        .filter(|(_, ep)| ep.secret.is_some())
                        .map(|(r, _)| s(&r.to_string()))
                        .collect(),
                    pool: Some(toml::Spanned::new(0..0, e.pool)),
                    cache: Some(toml::Spanned::new(0..0, e.cache.clone())),
                    routing: Some(toml::Spanned::new(0..0, e.routing.clone())),
                    replication: Some(toml::Spanned::new(0..0, e.replication.clone())),
                };
                (e.name.clone(), toml::Spanned::new(0..0, t))
            })
            .collect(),
    };
    format!(
        "{HEADER}{}",
        toml::to_string(&doc).expect("environments always serialise to TOML")
    )
}

/// An environment read from TOML, with the roles whose passwords the keychain should hold.
#[derive(Debug)]
pub struct Imported {
    pub input: EnvInput,
    /// Line of the environment's table, for problems found later (e.g. it already exists).
    pub line: Option<u32>,
    pub keychain_roles: Vec<Role>,
}

fn line_of(text: &str, offset: usize) -> u32 {
    let offset = offset.min(text.len());
    text[..offset].bytes().filter(|b| *b == b'\n').count() as u32 + 1
}

/// Parse and validate a whole document. `Err` lists every problem found, each with its line.
/// `account` is only used for validation here; secrets are never in the document.
pub fn parse(text: &str) -> Result<Vec<Imported>, Vec<ImportProblem>> {
    let (items, problems) = parse_all(text);
    if problems.is_empty() { Ok(items) } else { Err(problems) }
}

/// Every environment that could be read, and every problem found, so a caller can add its own
/// checks (does it already exist?) and report everything at once.
pub fn parse_all(text: &str) -> (Vec<Imported>, Vec<ImportProblem>) {
    let doc: Document = match toml::from_str(text) {
        Ok(d) => d,
        Err(e) => {
            let p = ImportProblem {
                line: e.span().map(|s| line_of(text, s.start)),
                message: e.message().trim().to_owned(),
            };
            return (vec![], vec![p]);
        }
    };
    let mut problems = Vec::new();
    let mut out = Vec::new();
    if doc.env.is_empty() {
        problems.push(ImportProblem {
            line: None,
            message: "the document has no [env.NAME] table".into(),
        });
    }
    for (name, table) in doc.env {
        let span_line = |s: std::ops::Range<usize>| Some(line_of(text, s.start));
        let table_line = span_line(table.span());
        let t = table.into_inner();
        let input = EnvInput {
            name: name.clone(),
            kind: t.kind.get_ref().clone(),
            colour: t.colour.as_ref().map(|c| c.get_ref().clone()),
            url: t.url.get_ref().clone(),
            replicas: t.replicas.iter().map(|r| r.get_ref().clone()).collect(),
            pgbouncer: t.pgbouncer.as_ref().map(|c| c.get_ref().clone()),
            redis: t.redis.as_ref().map(|c| c.get_ref().clone()),
            patroni: t.patroni.as_ref().map(|c| c.get_ref().clone()),
            pool: t.pool.as_ref().map(|p| *p.get_ref()),
            cache: t.cache.as_ref().map(|c| c.get_ref().clone()),
            routing: t.routing.as_ref().map(|c| c.get_ref().clone()),
            replication: t.replication.as_ref().map(|c| c.get_ref().clone()),
        };
        let line_for = |f: Field| -> Option<u32> {
            match f {
                Field::Name => table_line,
                Field::Kind => span_line(t.kind.span()),
                Field::Colour => t.colour.as_ref().and_then(|c| span_line(c.span())).or(table_line),
                Field::Url => span_line(t.url.span()),
                Field::Replica(i) => t.replicas.get(i).and_then(|c| span_line(c.span())).or(table_line),
                Field::PgBouncer => t.pgbouncer.as_ref().and_then(|c| span_line(c.span())).or(table_line),
                Field::Redis => t.redis.as_ref().and_then(|c| span_line(c.span())).or(table_line),
                Field::Patroni => t.patroni.as_ref().and_then(|c| span_line(c.span())).or(table_line),
                Field::Pool => t.pool.as_ref().and_then(|c| span_line(c.span())).or(table_line),
                Field::Cache => t.cache.as_ref().and_then(|c| span_line(c.span())).or(table_line),
                Field::Routing => t.routing.as_ref().and_then(|c| span_line(c.span())).or(table_line),
                Field::Replication => t.replication.as_ref().and_then(|c| span_line(c.span())).or(table_line),
            }
        };
        let checked = input.clone().into_environment(None, |e, r| format!("{e}/{r}"));
        let env = match checked {
            Ok((env, secrets)) => {
                if !secrets.0.is_empty() {
                    problems.push(ImportProblem {
                        line: span_line(t.url.span()),
                        message: format!(
                            "environment '{name}': the file contains a password; remove it and store it with `dbdeck env set-password`"
                        ),
                    });
                }
                env
            }
            Err(fe) => {
                problems.push(ImportProblem {
                    line: line_for(fe.field),
                    message: format!("environment '{name}': {}", fe.message),
                });
                continue;
            }
        };
        let mut keychain_roles = Vec::new();
        for k in &t.keychain {
            match k.get_ref().parse::<Role>() {
                Ok(role) if env.endpoint(&role).is_some() => keychain_roles.push(role),
                Ok(role) => problems.push(ImportProblem {
                    line: span_line(k.span()),
                    message: format!("environment '{name}': keychain lists '{role}', which has no endpoint"),
                }),
                Err(e) => problems.push(ImportProblem {
                    line: span_line(k.span()),
                    message: format!("environment '{name}': {}", e.message),
                }),
            }
        }
        out.push(Imported {
            input,
            line: table_line,
            keychain_roles,
        });
    }
    (out, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r##"
[env.staging]
kind = "staging"
url = "postgres://app@db1:5432/app"
replicas = [{ name = "node2", url = "postgres://app@db2:5432/app" }]
keychain = ["primary", "replica:node2"]

[env.staging.replication]
lag_threshold_s = 2.5
pgbouncer_ini = "/etc/pgbouncer/pgbouncer.ini"
local_nodes = [{ address = "db1:5432", data_dir = "/var/lib/postgresql/15/main" }]

[env.demo]
kind = "dev"
url = "sqlite:///tmp/demo.db"
"##;

    #[test]
    fn reads_a_valid_document() {
        let got = parse(GOOD).unwrap();
        assert_eq!(got.len(), 2);
        let staging = got.iter().find(|i| i.input.name == "staging").unwrap();
        assert_eq!(
            staging.keychain_roles,
            vec![Role::Primary, Role::Replica("node2".into())]
        );
        let r = staging.input.replication.as_ref().unwrap();
        assert_eq!(r.lag_threshold_s, 2.5);
        assert_eq!(r.data_dir_of("db1:5432"), Some("/var/lib/postgresql/15/main"));
    }

    #[test]
    fn bad_replication_settings_name_their_line() {
        let text = "[env.a]\nkind = \"dev\"\nurl = \"postgres://h/db\"\n\n[env.a.replication]\nlag_threshold_s = 0\n";
        let p = parse(text).unwrap_err();
        assert_eq!(p[0].line, Some(5), "{p:?}");
        assert!(p[0].message.contains("lag_threshold_s must be more than 0"), "{p:?}");
        let text = "[env.a]\nkind = \"dev\"\nurl = \"postgres://h/db\"\nreplication = { local_nodes = [{ address = \"db1\", data_dir = \"rel\" }] }\n";
        let p = parse(text).unwrap_err();
        assert!(p[0].message.contains("'db1' is not host:port"), "{p:?}");
    }

    #[test]
    fn export_then_import_round_trips() {
        let envs: Vec<Environment> = parse(GOOD)
            .unwrap()
            .into_iter()
            .map(|i| i.input.into_environment(None, |e, r| format!("{e}/{r}")).unwrap().0)
            .collect();
        let text = export(&envs);
        let again: Vec<Environment> = parse(&text)
            .unwrap()
            .into_iter()
            .map(|i| i.input.into_environment(None, |e, r| format!("{e}/{r}")).unwrap().0)
            .collect();
        assert_eq!(envs, again);
    }

    #[test]
    fn syntax_error_names_its_line() {
        let p = parse("[env.a]\nkind = \"dev\"\nurl = \"postgres://h/db\n").unwrap_err();
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].line, Some(3), "{:?}", p);
    }

    #[test]
    fn every_semantic_problem_is_reported_with_its_line() {
        let text = "[env.a]\nkind = \"dev\"\nurl = \"mysql://h/db\"\n\n[env.b]\nkind = \"Dev Env\"\nurl = \"postgres://h/db\"\n\n[env.c]\nkind = \"dev\"\nurl = \"postgres://u:pw@h/db\"\n";
        let p = parse(text).unwrap_err();
        let lines: Vec<_> = p.iter().map(|x| x.line).collect();
        assert_eq!(lines, vec![Some(3), Some(6), Some(11)], "{p:?}");
        assert!(
            p.iter().all(|x| !x.message.contains("pw@")),
            "passwords are not echoed back"
        );
    }

    #[test]
    fn unknown_keys_are_rejected_with_their_line() {
        let p = parse("[env.a]\nkind = \"dev\"\nurl = \"postgres://h/db\"\npasword = \"x\"\n").unwrap_err();
        assert_eq!(p[0].line, Some(4), "{p:?}");
        assert!(p[0].message.contains("pasword"), "{p:?}");
    }

    /// Mutation smoke test: truncated, byte-flipped and spliced documents never panic, and
    /// every reported line is inside the document.
    #[test]
    fn mangled_documents_never_panic() {
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let alphabet = b"[]=\"'#\n.{},:%@/\\ \xc3\xa9az09";
        let lines = GOOD.lines().count() as u32 + 1;
        for _ in 0..4000 {
            let mut bytes = GOOD.as_bytes().to_vec();
            for _ in 0..1 + next() % 4 {
                let at = (next() as usize) % bytes.len().max(1);
                match next() % 3 {
                    0 => bytes.truncate(at),
                    1 => bytes.insert(at, alphabet[(next() as usize) % alphabet.len()]),
                    _ if !bytes.is_empty() => {
                        bytes.remove(at.min(bytes.len() - 1));
                    }
                    _ => {}
                }
            }
            let text = String::from_utf8_lossy(&bytes);
            if let Err(problems) = parse(&text) {
                for p in problems {
                    assert!(p.line.is_none_or(|l| l >= 1 && l <= lines + 4), "{p:?} in {text:?}");
                }
            }
        }
    }
}
