//! PostgreSQL's parser (libpg_query, linked by the `pg_query` crate), called directly — for
//! dbdeck's migration lint and runner.
//!
//! `pg_query::parse` walks every tree it returns to collect table, function and filter-column
//! names the lint never reads — about half of the time of a lint — and drops the error's cursor
//! position. This calls the same C entry point, `pg_query_parse_protobuf_opts`, decodes the
//! same protobuf tree, and keeps the position. The declarations mirror libpg_query's
//! `pg_query.h` (the layouts bindgen generates for the pg_query crate).

use std::ffi::{CStr, CString, c_char, c_int};

use pg_query::protobuf::ParseResult;
use prost::Message;

#[repr(C)]
struct PgQueryError {
    message: *mut c_char,
    funcname: *mut c_char,
    filename: *mut c_char,
    lineno: c_int,
    cursorpos: c_int,
    context: *mut c_char,
}

#[repr(C)]
struct PgQueryProtobuf {
    len: usize,
    data: *mut c_char,
}

#[repr(C)]
struct PgQueryProtobufParseResult {
    parse_tree: PgQueryProtobuf,
    stderr_buffer: *mut c_char,
    error: *mut PgQueryError,
}

unsafe extern "C" {
    fn pg_query_parse_protobuf_opts(input: *const c_char, parser_options: c_int) -> PgQueryProtobufParseResult;
    fn pg_query_free_protobuf_parse_result(result: PgQueryProtobufParseResult);
}

/// Why PostgreSQL refused the text, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub message: String,
    /// Byte offset in the text of the token the parser stopped at, when it said.
    pub offset: Option<usize>,
}

/// Parses SQL the way the server would (default grammar).
pub fn parse(sql: &str) -> Result<ParseResult, SyntaxError> {
    let input = CString::new(sql).map_err(|e| SyntaxError {
        message: "the text contains a NUL byte".into(),
        offset: Some(e.nul_position()),
    })?;
    // SAFETY: `input` is a valid NUL-terminated string that outlives the call; the result is
    // read before it is handed back to libpg_query's own free function exactly once, and no
    // pointer into it is kept.
    unsafe {
        let result = pg_query_parse_protobuf_opts(input.as_ptr(), 0);
        let out = if !result.error.is_null() {
            let e = &*result.error;
            let message = CStr::from_ptr(e.message).to_string_lossy().into_owned();
            // cursorpos counts characters from 1; 0 means no position.
            let offset = usize::try_from(e.cursorpos)
                .ok()
                .filter(|&p| p > 0)
                .map(|p| sql.char_indices().nth(p - 1).map_or(sql.len(), |(b, _)| b));
            Err(SyntaxError { message, offset })
        } else {
            let data = std::slice::from_raw_parts(result.parse_tree.data as *const u8, result.parse_tree.len);
            ParseResult::decode(data).map_err(|e| SyntaxError {
                message: format!("the parser's tree could not be read: {e}"),
                offset: None,
            })
        };
        pg_query_free_protobuf_parse_result(result);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_places_errors_like_the_server() {
        let ok = parse("SELECT 1; CREATE TABLE t (id bigint)").unwrap();
        assert_eq!(ok.stmts.len(), 2);
        let e = parse("SELECT 'é' FROM FROM t").unwrap_err();
        assert_eq!(e.message, "syntax error at or near \"FROM\"");
        assert_eq!(e.offset, Some("SELECT 'é' FROM ".len()));
        assert_eq!(parse("SELECT 1\0").unwrap_err().offset, Some(8));
    }
}
