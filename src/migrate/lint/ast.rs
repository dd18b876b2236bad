//! Small readers over pg_query's syntax tree, shared by the rules.

use pg_query::protobuf::{
    self, AlterTableCmd, AlterTableType, ColumnDef, ConstrType, Constraint, RangeVar, TypeName, a_const,
};
use pg_query::{Node, NodeEnum};

/// `schema.table` as written, or `table`.
pub fn relname(r: &RangeVar) -> String {
    if r.schemaname.is_empty() {
        r.relname.clone()
    } else {
        format!("{}.{}", r.schemaname, r.relname)
    }
}

/// Quotes an identifier for the SQL the fixes show, when it needs quoting.
pub fn ident(name: &str) -> String {
    let plain = !name.is_empty()
        && name.chars().next().is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// A qualified name as SQL: `public.orders`.
pub fn qualified(r: &RangeVar) -> String {
    if r.schemaname.is_empty() {
        ident(&r.relname)
    } else {
        format!("{}.{}", ident(&r.schemaname), ident(&r.relname))
    }
}

/// The type's own name, lower-case, without `pg_catalog.`: `int4`, `varchar`, `timestamp`.
pub fn type_name(t: &TypeName) -> String {
    t.names
        .iter()
        .filter_map(str_of)
        .rfind(|s| s != "pg_catalog")
        .unwrap_or_default()
        .to_lowercase()
}

/// The string of a `String` node.
pub fn str_of(n: &Node) -> Option<String> {
    match n.node.as_ref()? {
        NodeEnum::String(s) => Some(s.sval.clone()),
        _ => None,
    }
}

/// A constant's text: `'0'`, `5`, `on`.
pub fn const_str(n: &Node) -> Option<String> {
    match n.node.as_ref()? {
        NodeEnum::AConst(c) => match c.val.as_ref()? {
            a_const::Val::Sval(s) => Some(s.sval.clone()),
            a_const::Val::Ival(i) => Some(i.ival.to_string()),
            a_const::Val::Fval(f) => Some(f.fval.clone()),
            a_const::Val::Boolval(b) => Some(b.boolval.to_string()),
            a_const::Val::Bsval(b) => Some(b.bsval.clone()),
        },
        _ => None,
    }
}

/// The constraints of a column definition.
pub fn constraints(c: &ColumnDef) -> impl Iterator<Item = &Constraint> {
    c.constraints.iter().filter_map(|n| match n.node.as_ref()? {
        NodeEnum::Constraint(k) => Some(&**k),
        _ => None,
    })
}

pub fn contype(k: &Constraint) -> ConstrType {
    ConstrType::try_from(k.contype).unwrap_or(ConstrType::Undefined)
}

pub fn subtype(cmd: &AlterTableCmd) -> AlterTableType {
    AlterTableType::try_from(cmd.subtype).unwrap_or(AlterTableType::Undefined)
}

/// The ALTER TABLE commands of a statement.
pub fn alter_cmds(a: &protobuf::AlterTableStmt) -> impl Iterator<Item = &AlterTableCmd> {
    a.cmds.iter().filter_map(|n| match n.node.as_ref()? {
        NodeEnum::AlterTableCmd(c) => Some(&**c),
        _ => None,
    })
}

/// The ALTER TABLE statement of a table (not an index, view or sequence), with its table.
pub fn alter_table(node: &NodeEnum) -> Option<(&protobuf::AlterTableStmt, &RangeVar)> {
    match node {
        NodeEnum::AlterTableStmt(a)
            if protobuf::ObjectType::try_from(a.objtype) == Ok(protobuf::ObjectType::ObjectTable) =>
        {
            Some((a, a.relation.as_ref()?))
        }
        _ => None,
    }
}

/// The column definition an `ADD COLUMN` carries.
pub fn column_def(cmd: &AlterTableCmd) -> Option<&ColumnDef> {
    match cmd.def.as_ref()?.node.as_ref()? {
        NodeEnum::ColumnDef(c) => Some(c),
        _ => None,
    }
}

/// The constraint an `ADD CONSTRAINT` carries.
pub fn constraint_def(cmd: &AlterTableCmd) -> Option<&Constraint> {
    match cmd.def.as_ref()?.node.as_ref()? {
        NodeEnum::Constraint(c) => Some(c),
        _ => None,
    }
}

/// Functions whose value differs per row, so a DEFAULT using them rewrites the table when the
/// column is added (PostgreSQL 11+ stores constant and stable defaults without a rewrite).
const VOLATILE: &[&str] = &[
    "random",
    "gen_random_uuid",
    "uuid_generate_v1",
    "uuid_generate_v1mc",
    "uuid_generate_v4",
    "uuidv4",
    "uuidv7",
    "clock_timestamp",
    "timeofday",
    "nextval",
    "txid_current",
    "statement_timestamp",
    "random_normal",
    "setseed",
    "pg_current_xact_id",
];

/// The first volatile function a default expression calls, if any.
pub fn volatile_call(n: &Node) -> Option<String> {
    match n.node.as_ref()? {
        NodeEnum::FuncCall(f) => {
            let name = f
                .funcname
                .iter()
                .filter_map(str_of)
                .next_back()
                .unwrap_or_default()
                .to_lowercase();
            if VOLATILE.contains(&name.as_str()) {
                return Some(name);
            }
            f.args.iter().find_map(volatile_call)
        }
        NodeEnum::TypeCast(c) => c.arg.as_deref().and_then(volatile_call),
        NodeEnum::AExpr(e) => e
            .lexpr
            .as_deref()
            .and_then(volatile_call)
            .or_else(|| e.rexpr.as_deref().and_then(volatile_call)),
        NodeEnum::CoalesceExpr(c) => c.args.iter().find_map(volatile_call),
        NodeEnum::FuncExpr(_) => None,
        _ => None,
    }
}

/// The default expression of a column (`DEFAULT …` constraint or the raw default).
pub fn default_expr(c: &ColumnDef) -> Option<&Node> {
    c.raw_default.as_deref().or_else(|| {
        constraints(c)
            .find(|k| contype(k) == ConstrType::ConstrDefault)
            .and_then(|k| k.raw_expr.as_deref())
    })
}

/// The column is NOT NULL (or a primary key).
pub fn not_null(c: &ColumnDef) -> bool {
    c.is_not_null || constraints(c).any(|k| matches!(contype(k), ConstrType::ConstrNotnull | ConstrType::ConstrPrimary))
}

/// serial, bigserial, smallserial (and serial4/serial8/serial2).
pub fn is_serial(t: &TypeName) -> bool {
    matches!(
        type_name(t).as_str(),
        "serial" | "serial4" | "bigserial" | "serial8" | "smallserial" | "serial2"
    )
}

/// A type name as SQL: `varchar(255)`, `timestamp`.
pub fn type_sql(t: &TypeName) -> String {
    let name = type_name(t);
    let base = match name.as_str() {
        "int2" => "smallint",
        "int4" => "integer",
        "int8" => "bigint",
        "float4" => "real",
        "float8" => "double precision",
        "bool" => "boolean",
        "bpchar" => "char",
        other => other,
    }
    .to_string();
    let mods: Vec<String> = t.typmods.iter().filter_map(const_str).collect();
    let arrays = "[]".repeat(t.array_bounds.len());
    if mods.is_empty() {
        format!("{base}{arrays}")
    } else {
        format!("{base}({}){arrays}", mods.join(", "))
    }
}

/// A location the parser gave (-1: none).
pub fn loc(location: i32) -> Option<usize> {
    usize::try_from(location).ok()
}

/// A statement as SQL, from its tree (PostgreSQL's own spelling), for the fixes.
pub fn deparse(node: NodeEnum) -> String {
    node.deparse(pg_query::DeparseOptions::default()).unwrap_or_default()
}

/// Columns a statement defines (CREATE TABLE, ALTER TABLE … ADD COLUMN), with the table and
/// the column names of the table's own PRIMARY KEY constraint.
pub fn new_columns(node: &NodeEnum) -> Vec<(&ColumnDef, &RangeVar, Vec<String>)> {
    match node {
        NodeEnum::CreateStmt(c) => {
            let Some(table) = c.relation.as_ref() else {
                return vec![];
            };
            let pk: Vec<String> = c
                .table_elts
                .iter()
                .filter_map(|n| match n.node.as_ref()? {
                    NodeEnum::Constraint(k) if contype(k) == ConstrType::ConstrPrimary => {
                        Some(k.keys.iter().filter_map(str_of))
                    }
                    _ => None,
                })
                .flatten()
                .collect();
            c.table_elts
                .iter()
                .filter_map(|n| match n.node.as_ref()? {
                    NodeEnum::ColumnDef(d) => Some((&**d, table, pk.clone())),
                    _ => None,
                })
                .collect()
        }
        _ => match alter_table(node) {
            Some((a, table)) => alter_cmds(a)
                .filter(|c| subtype(c) == AlterTableType::AtAddColumn)
                .filter_map(column_def)
                .map(|d| (d, table, vec![]))
                .collect(),
            None => vec![],
        },
    }
}
