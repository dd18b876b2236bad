// Light SQL highlighting: split a statement into tokens a view colours (keywords, strings,
// numbers, $n parameters, comments). No parser: good enough to read a query at a glance, and
// the text is rendered as text (never as HTML), so a query cannot inject markup.

export type SqlToken = { text: string; kind: 'kw' | 'str' | 'num' | 'param' | 'comment' | 'ident' | 'plain' };

const KEYWORDS = new Set(
  `select from where and or not in is null insert into values update set delete join left right inner outer full
   cross on as order by group having limit offset union all distinct case when then else end with returning create
   table index drop alter begin commit rollback savepoint release explain analyze analyse vacuum like ilike between
   exists asc desc nulls first last true false lock grant revoke truncate copy cast over partition window lateral
   using default primary key references foreign constraint unique check if replace function returns language do any
   some fetch for show start transaction isolation level read write only nowait skip locked share conflict nothing
   intersect except recursive materialized view sequence trigger schema database extension listen notify reset`
    .split(/\s+/)
    .filter(Boolean),
);

// One alternative per token kind, tried in order at each position.
const TOKEN =
  /(--[^\n]*|\/\*[\s\S]*?(?:\*\/|$))|('(?:[^']|'')*'?)|("(?:[^"]|"")*"?)|(\$\d+)|(\b\d+(?:\.\d+)?(?:e[+-]?\d+)?\b)|([A-Za-z_][A-Za-z0-9_$]*)|(\s+|[^\sA-Za-z0-9_'"$-]+|.)/gy;

export function tokenize(sql: string): SqlToken[] {
  const out: SqlToken[] = [];
  const push = (text: string, kind: SqlToken['kind']) => {
    const last = out[out.length - 1];
    // Runs of plain text merge, so a long statement is not thousands of spans.
    if (last && last.kind === kind && kind === 'plain') last.text += text;
    else out.push({ text, kind });
  };
  TOKEN.lastIndex = 0;
  let m: RegExpExecArray | null;
  while (TOKEN.lastIndex < sql.length && (m = TOKEN.exec(sql))) {
    if (m[1]) push(m[1], 'comment');
    else if (m[2]) push(m[2], 'str');
    else if (m[3]) push(m[3], 'ident');
    else if (m[4]) push(m[4], 'param');
    else if (m[5]) push(m[5], 'num');
    else if (m[6]) push(m[6], KEYWORDS.has(m[6].toLowerCase()) ? 'kw' : 'plain');
    else push(m[0], 'plain');
  }
  return out;
}

/** A statement on one line (runs of white space folded), for truncated cells and titles. */
export function oneLine(sql: string): string {
  return sql.replace(/\s+/g, ' ').trim();
}
