//! Cheap pre-execution guard against abusive GraphQL query documents.
//!
//! async-graphql's depth and complexity limits look at the document as
//! written, so they do not stop a *fragment bomb*: a handful of fragments
//! that each spread the previous one several times, e.g.
//!
//! ```graphql
//! fragment F1 on Query { a a a a a }
//! fragment F2 on Query { ...F1 ...F1 ...F1 ...F1 ...F1 }
//! # ... up to F10
//! query { ...F10 }
//! ```
//!
//! A few hundred bytes like these expand to 5^10 field selections, and both
//! validation and execution do work proportional to the *expanded* document.
//!
//! [`check`] refuses such documents before the server validates them. It
//! stays cheap whatever the input:
//!
//! * the byte length is checked first, then lexical tokens are counted with a
//!   small hand-written lexer that stops as soon as the limit is passed, so a
//!   huge document is refused without being parsed;
//! * only then is the document parsed, and the fields, aliases and directives
//!   that execution would visit are counted *as if* every fragment spread were
//!   inlined, without inlining anything: each fragment's cost is computed once
//!   (memoized) as its own selections plus the cost of the fragments it
//!   spreads, with saturating arithmetic so exponential totals cannot
//!   overflow. The walk uses explicit stacks rather than recursion, so long
//!   fragment chains cannot overflow the call stack either. The whole check
//!   is linear in the size of the document.
//!
//! Documents that do not parse are let through ([`check`] returns `Ok`): the
//! server's own parser reports the syntax error. Likewise invalid documents
//! (fragment cycles, unknown fragments) are counted leniently and left to the
//! server's validator to report.

use std::collections::HashMap;
use std::fmt;

use async_graphql_parser::Positioned;
use async_graphql_parser::parse_query;
use async_graphql_parser::types::{
    Directive, DocumentOperations, ExecutableDocument, OperationDefinition, Selection, SelectionSet,
};

/// Limits on a query document's shape, checked before validation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShapeLimits {
    /// Maximum length of the query text, in bytes.
    pub max_length: usize,
    /// Maximum number of lexical tokens (names, punctuators, values);
    /// comments, whitespace and commas are not tokens.
    pub max_tokens: usize,
    /// Maximum number of aliased fields, counted over the expanded operation
    /// (every fragment spread inlined).
    pub max_aliases: usize,
    /// Maximum number of directive uses, counted over the expanded operation.
    pub max_directives: usize,
    /// Maximum number of field selections in the expanded operation, after
    /// inlining fragment spreads. This is the limit that catches fragment
    /// bombs.
    pub max_fields: usize,
}

impl Default for ShapeLimits {
    /// Defaults that let GraphiQL's introspection query and ordinary frontend
    /// queries through: 16 KiB, 4000 tokens, 30 aliases, 50 directives and
    /// 5000 fields.
    fn default() -> Self {
        Self {
            max_length: 16_384,
            max_tokens: 4_000,
            max_aliases: 30,
            max_directives: 50,
            max_fields: 5_000,
        }
    }
}

/// Why a query document was refused: which limit it broke, with the numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShapeError {
    /// English description, e.g. "query has 5001 fields after expanding
    /// fragments; the limit is 5000".
    pub message: String,
}

impl fmt::Display for ShapeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ShapeError {}

/// Checks `query` against `limits`.
///
/// The length and token limits are checked on the raw text before parsing.
/// The field, alias and directive limits are checked on the operation named
/// `operation_name` (or the only operation when `None`) as if all fragment
/// spreads were inlined; when the operation cannot be determined (unknown
/// name, or `None` with several operations) every operation is checked.
///
/// Text that does not parse yields `Ok(())`: reporting syntax errors is the
/// server parser's business.
///
/// # Errors
///
/// Returns a [`ShapeError`] naming the first limit that is exceeded.
pub fn check(
    query: &str,
    operation_name: Option<&str>,
    limits: &ShapeLimits,
) -> Result<(), ShapeError> {
    check_text(query, limits)?;
    let Ok(doc) = parse_query(query) else {
        return Ok(());
    };
    check_document(&doc, operation_name, limits)
}

/// The checks that need no parsing (length, then tokens): run them before parsing a query.
pub fn check_text(query: &str, limits: &ShapeLimits) -> Result<(), ShapeError> {
    if query.len() > limits.max_length {
        return Err(ShapeError {
            message: format!(
                "query is {} bytes long; the limit is {} bytes",
                query.len(),
                limits.max_length
            ),
        });
    }
    if count_tokens(query, limits.max_tokens) > limits.max_tokens {
        return Err(ShapeError {
            message: format!(
                "query has more than {0} tokens; the limit is {0}",
                limits.max_tokens
            ),
        });
    }
    Ok(())
}

/// The checks on a parsed document (fields, aliases and directives with fragments expanded),
/// for a caller that parses once and shares the document.
pub fn check_document(
    doc: &ExecutableDocument,
    operation_name: Option<&str>,
    limits: &ShapeLimits,
) -> Result<(), ShapeError> {
    let counts = measure(doc, operation_name);
    exceeds(counts.fields, limits.max_fields, "fields")?;
    exceeds(counts.aliases, limits.max_aliases, "aliases")?;
    exceeds(counts.directives, limits.max_directives, "directives")?;
    Ok(())
}

/// Refuses `value` when it is above `limit`.
fn exceeds(value: u64, limit: usize, what: &str) -> Result<(), ShapeError> {
    let limit_u64 = u64::try_from(limit).unwrap_or(u64::MAX);
    if value <= limit_u64 {
        return Ok(());
    }
    let amount = if value == u64::MAX {
        format!("at least {value}")
    } else {
        value.to_string()
    };
    Err(ShapeError {
        message: format!(
            "query has {amount} {what} after expanding fragments; the limit is {limit}"
        ),
    })
}

// ---------------------------------------------------------------------------
// Token counting
// ---------------------------------------------------------------------------

/// Counts GraphQL lexical tokens in `src`, stopping as soon as the count
/// exceeds `cap` (the result is then `cap + 1`).
///
/// Whitespace, line terminators, commas, comments and the byte order mark are
/// ignored, as in the GraphQL spec. Strings, block strings, numbers, names and
/// punctuators (including `...`) are one token each. Characters that GraphQL
/// does not allow count as one token each; such a document fails to parse
/// anyway.
fn count_tokens(src: &str, cap: usize) -> usize {
    let bytes = src.as_bytes();
    let len = bytes.len();
    let mut i = 0;
    let mut count: usize = 0;
    while i < len {
        let b = bytes[i];
        match b {
            b' ' | b'\t' | b'\n' | b'\r' | b',' => {
                i += 1;
                continue;
            }
            b'#' => {
                while i < len && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
                continue;
            }
            0xEF if bytes[i..].starts_with(b"\xEF\xBB\xBF") => {
                i += 3;
                continue;
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                i += 3;
                while i < len {
                    if bytes[i..].starts_with(b"\\\"\"\"") {
                        i += 4;
                    } else if bytes[i..].starts_with(b"\"\"\"") {
                        i += 3;
                        break;
                    } else {
                        i += 1;
                    }
                }
            }
            b'"' => {
                i += 1;
                while i < len {
                    match bytes[i] {
                        b'\\' => i += 2,
                        b'"' => {
                            i += 1;
                            break;
                        }
                        // Unterminated string: it ends at the line's end.
                        b'\n' | b'\r' => break,
                        _ => i += 1,
                    }
                }
            }
            b'.' if bytes[i..].starts_with(b"...") => i += 3,
            b'_' | b'A'..=b'Z' | b'a'..=b'z' => {
                i += 1;
                while i < len && (bytes[i] == b'_' || bytes[i].is_ascii_alphanumeric()) {
                    i += 1;
                }
            }
            b'-' | b'0'..=b'9' => {
                if b == b'-' {
                    i += 1;
                }
                i = skip_digits(bytes, i);
                if i + 1 < len && bytes[i] == b'.' && bytes[i + 1].is_ascii_digit() {
                    i = skip_digits(bytes, i + 1);
                }
                if i < len && (bytes[i] == b'e' || bytes[i] == b'E') {
                    i += 1;
                    if i < len && (bytes[i] == b'+' || bytes[i] == b'-') {
                        i += 1;
                    }
                    i = skip_digits(bytes, i);
                }
            }
            // Punctuators and any other ASCII character: one token.
            0..=0x7F => i += 1,
            // A non-ASCII character outside a string or comment: one token,
            // skipping its UTF-8 continuation bytes.
            _ => {
                i += 1;
                while i < len && (bytes[i] & 0xC0) == 0x80 {
                    i += 1;
                }
            }
        }
        count += 1;
        if count > cap {
            break;
        }
    }
    count
}

/// Returns the index of the first non-digit byte at or after `i`.
fn skip_digits(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() && bytes[i].is_ascii_digit() {
        i += 1;
    }
    i
}

// ---------------------------------------------------------------------------
// Expanded counts
// ---------------------------------------------------------------------------

/// Fields, aliases and directives, with saturating arithmetic.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Counts {
    fields: u64,
    aliases: u64,
    directives: u64,
}

impl Counts {
    fn plus(self, other: Counts) -> Counts {
        Counts {
            fields: self.fields.saturating_add(other.fields),
            aliases: self.aliases.saturating_add(other.aliases),
            directives: self.directives.saturating_add(other.directives),
        }
    }

    fn times(self, n: u64) -> Counts {
        Counts {
            fields: self.fields.saturating_mul(n),
            aliases: self.aliases.saturating_mul(n),
            directives: self.directives.saturating_mul(n),
        }
    }

    fn max(self, other: Counts) -> Counts {
        Counts {
            fields: self.fields.max(other.fields),
            aliases: self.aliases.max(other.aliases),
            directives: self.directives.max(other.directives),
        }
    }

    fn add_directives(&mut self, directives: &[Positioned<Directive>]) {
        self.directives = self.directives.saturating_add(len_u64(directives.len()));
    }
}

fn len_u64(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// What one selection set contains before fragments are expanded: its own
/// fields, aliases and directives (inline fragments counted in place) and how
/// many times it spreads each named fragment.
#[derive(Debug, Default)]
struct Summary<'a> {
    own: Counts,
    spreads: Vec<(&'a str, u64)>,
}

/// Summarizes `root` without recursion (an explicit stack of selection sets).
fn summarize<'a>(root: &'a SelectionSet, own: Counts) -> Summary<'a> {
    let mut own = own;
    let mut spread_counts: HashMap<&'a str, u64> = HashMap::new();
    let mut order: Vec<&'a str> = Vec::new();
    let mut stack: Vec<&'a SelectionSet> = vec![root];
    while let Some(set) = stack.pop() {
        for item in &set.items {
            match &item.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    own.fields = own.fields.saturating_add(1);
                    if field.alias.is_some() {
                        own.aliases = own.aliases.saturating_add(1);
                    }
                    own.add_directives(&field.directives);
                    stack.push(&field.selection_set.node);
                }
                Selection::FragmentSpread(spread) => {
                    let spread = &spread.node;
                    own.add_directives(&spread.directives);
                    let name = spread.fragment_name.node.as_str();
                    let n = spread_counts.entry(name).or_insert_with(|| {
                        order.push(name);
                        0
                    });
                    *n = n.saturating_add(1);
                }
                Selection::InlineFragment(inline) => {
                    let inline = &inline.node;
                    own.add_directives(&inline.directives);
                    stack.push(&inline.selection_set.node);
                }
            }
        }
    }
    let spreads = order
        .into_iter()
        .map(|name| (name, spread_counts.get(name).copied().unwrap_or(0)))
        .collect();
    Summary { own, spreads }
}

/// Memoization state of one fragment.
#[derive(Clone, Copy, Debug)]
enum State {
    Unvisited,
    OnStack,
    Done(Counts),
}

/// One fragment being expanded by [`Fragments::cost`].
#[derive(Clone, Copy, Debug)]
struct Frame {
    /// Index of the fragment.
    fragment: usize,
    /// Index of its next spread to visit.
    next: usize,
    /// Its cost so far.
    total: Counts,
    /// How many times the parent frame spreads it.
    times: u64,
}

/// Expanded cost of every fragment, computed lazily and at most once each.
struct Fragments<'a> {
    index: HashMap<&'a str, usize>,
    summaries: Vec<Summary<'a>>,
    state: Vec<State>,
}

impl<'a> Fragments<'a> {
    fn new(doc: &'a ExecutableDocument) -> Self {
        let mut index = HashMap::with_capacity(doc.fragments.len());
        let mut summaries = Vec::with_capacity(doc.fragments.len());
        for (name, def) in &doc.fragments {
            let def = &def.node;
            let mut own = Counts::default();
            own.add_directives(&def.directives);
            index.insert(name.as_str(), summaries.len());
            summaries.push(summarize(&def.selection_set.node, own));
        }
        let state = vec![State::Unvisited; summaries.len()];
        Self {
            index,
            summaries,
            state,
        }
    }

    /// Cost of `summary` with every spread expanded.
    fn expand(&mut self, summary: &Summary<'_>) -> Counts {
        let mut total = summary.own;
        for &(name, n) in &summary.spreads {
            if let Some(&i) = self.index.get(name) {
                total = total.plus(self.cost(i).times(n));
            }
        }
        total
    }

    /// Expanded cost of fragment `start`: its own counts plus, for each
    /// fragment it spreads, that fragment's cost times the number of spreads.
    ///
    /// Iterative depth-first search. A spread of a fragment that is already
    /// on the search stack (a cycle, which the validator rejects) costs 0; a
    /// spread of an unknown fragment costs 0 too.
    fn cost(&mut self, start: usize) -> Counts {
        match self.state[start] {
            State::Done(c) => return c,
            State::OnStack => return Counts::default(),
            State::Unvisited => {}
        }
        let mut stack: Vec<Frame> = vec![Frame {
            fragment: start,
            next: 0,
            total: self.summaries[start].own,
            times: 1,
        }];
        self.state[start] = State::OnStack;
        while let Some(frame) = stack.last_mut() {
            if let Some(&(name, n)) = self.summaries[frame.fragment].spreads.get(frame.next) {
                frame.next += 1;
                let Some(&child) = self.index.get(name) else {
                    continue; // unknown fragment: the validator reports it
                };
                match self.state[child] {
                    State::Done(c) => frame.total = frame.total.plus(c.times(n)),
                    State::OnStack => {} // cycle: the validator reports it
                    State::Unvisited => {
                        self.state[child] = State::OnStack;
                        stack.push(Frame {
                            fragment: child,
                            next: 0,
                            total: self.summaries[child].own,
                            times: n,
                        });
                    }
                }
            } else {
                let done = *frame;
                stack.pop();
                self.state[done.fragment] = State::Done(done.total);
                if let Some(parent) = stack.last_mut() {
                    parent.total = parent.total.plus(done.total.times(done.times));
                }
            }
        }
        match self.state[start] {
            State::Done(c) => c,
            _ => Counts::default(),
        }
    }
}

/// Expanded counts of one operation.
fn operation_counts(op: &OperationDefinition, fragments: &mut Fragments<'_>) -> Counts {
    let mut own = Counts::default();
    own.add_directives(&op.directives);
    for var in &op.variable_definitions {
        own.add_directives(&var.node.directives);
    }
    let summary = summarize(&op.selection_set.node, own);
    fragments.expand(&summary)
}

/// Expanded counts of the selected operation; with no unambiguous selection,
/// the component-wise maximum over all operations.
fn measure(doc: &ExecutableDocument, operation_name: Option<&str>) -> Counts {
    let mut fragments = Fragments::new(doc);
    let selected: Option<&OperationDefinition> = match &doc.operations {
        DocumentOperations::Single(op) => Some(&op.node),
        DocumentOperations::Multiple(ops) => match operation_name {
            Some(name) => ops.get(name).map(|op| &op.node),
            None if ops.len() == 1 => ops.values().next().map(|op| &op.node),
            None => None,
        },
    };
    if let Some(op) = selected {
        return operation_counts(op, &mut fragments);
    }
    doc.operations
        .iter()
        .fold(Counts::default(), |acc, (_, op)| {
            acc.max(operation_counts(&op.node, &mut fragments))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Limits that never trigger, to test one limit at a time.
    fn open() -> ShapeLimits {
        ShapeLimits {
            max_length: usize::MAX,
            max_tokens: usize::MAX,
            max_aliases: usize::MAX,
            max_directives: usize::MAX,
            max_fields: usize::MAX,
        }
    }

    fn counts_of(query: &str, op: Option<&str>) -> Counts {
        let doc = parse_query(query).expect("test query parses");
        measure(&doc, op)
    }

    fn tokens(src: &str) -> usize {
        count_tokens(src, usize::MAX - 1)
    }

    fn err(query: &str, op: Option<&str>, limits: &ShapeLimits) -> String {
        check(query, op, limits)
            .expect_err("should be refused")
            .message
    }

    /// Fragment bomb: F1 has `width` fields, each further level spreads the
    /// previous one `width` times.
    fn bomb(levels: usize, width: usize) -> String {
        let mut s = String::from("query { ...F");
        s.push_str(&levels.to_string());
        s.push_str(" }\nfragment F1 on Query {");
        for _ in 0..width {
            s.push_str(" a");
        }
        s.push_str(" }\n");
        for level in 2..=levels {
            s.push_str(&format!("fragment F{level} on Query {{"));
            for _ in 0..width {
                s.push_str(&format!(" ...F{}", level - 1));
            }
            s.push_str(" }\n");
        }
        s
    }

    // --- defaults -----------------------------------------------------------

    #[test]
    fn default_limits() {
        let d = ShapeLimits::default();
        assert_eq!(d.max_length, 16_384);
        assert_eq!(d.max_tokens, 4_000);
        assert_eq!(d.max_aliases, 30);
        assert_eq!(d.max_directives, 50);
        assert_eq!(d.max_fields, 5_000);
    }

    #[test]
    fn ordinary_query_passes_defaults() {
        let q = r#"
            query Feed($first: Int = 20, $after: String) {
              viewer { id name avatarUrl(size: 64) }
              feed(first: $first, after: $after) {
                edges { cursor node { ...Post } }
                pageInfo { hasNextPage endCursor }
              }
            }
            fragment Post on Post {
              id title body createdAt
              author { id name }
              small: image(width: 100) { url }
              large: image(width: 800) { url }
              comments(first: 3) @include(if: true) { totalCount }
            }
        "#;
        assert_eq!(check(q, None, &ShapeLimits::default()), Ok(()));
    }

    // --- length -------------------------------------------------------------

    #[test]
    fn length_at_limit_passes() {
        let q = format!("{{ a }}{}", " ".repeat(15));
        assert_eq!(q.len(), 20);
        let limits = ShapeLimits {
            max_length: 20,
            ..open()
        };
        assert_eq!(check(&q, None, &limits), Ok(()));
    }

    #[test]
    fn length_over_limit_refused() {
        let q = format!("{{ a }}{}", " ".repeat(16));
        assert_eq!(q.len(), 21);
        let limits = ShapeLimits {
            max_length: 20,
            ..open()
        };
        assert_eq!(
            err(&q, None, &limits),
            "query is 21 bytes long; the limit is 20 bytes"
        );
    }

    #[test]
    fn length_checked_before_parsing() {
        // 10 MB of garbage: refused by length, never parsed or lexed.
        let q = "}".repeat(10 * 1024 * 1024);
        let msg = err(&q, None, &ShapeLimits::default());
        assert!(msg.contains("bytes long"), "{msg}");
    }

    // --- tokens -------------------------------------------------------------

    #[test]
    fn tokens_at_limit_pass() {
        // `{ a b c }` = 5 tokens.
        let limits = ShapeLimits {
            max_tokens: 5,
            ..open()
        };
        assert_eq!(check("{ a b c }", None, &limits), Ok(()));
    }

    #[test]
    fn tokens_over_limit_refused() {
        let limits = ShapeLimits {
            max_tokens: 5,
            ..open()
        };
        assert_eq!(
            err("{ a b c d }", None, &limits),
            "query has more than 5 tokens; the limit is 5"
        );
    }

    #[test]
    fn tokens_checked_before_parsing() {
        // Unparseable, but refused by the token count first.
        let limits = ShapeLimits {
            max_tokens: 3,
            ..open()
        };
        assert!(check("} } } }", None, &limits).is_err());
    }

    #[test]
    fn token_counting_stops_at_cap() {
        assert_eq!(count_tokens("a b c d e f", 2), 3);
        assert_eq!(count_tokens("a b", 2), 2);
        assert_eq!(count_tokens("", 0), 0);
    }

    #[test]
    fn lexer_ignores_whitespace_commas_comments_bom() {
        assert_eq!(tokens("\u{FEFF}  a,,b\t\r\n# c d e\nf # trailing"), 3);
        assert_eq!(tokens("# only a comment"), 0);
        assert_eq!(tokens(",,, \n\r\t"), 0);
    }

    #[test]
    fn lexer_punctuators_and_spread() {
        // ! $ & ( ) ... : = @ [ ] { } |
        assert_eq!(tokens("! $ & ( ) ... : = @ [ ] { } |"), 14);
        assert_eq!(tokens("...F"), 2);
        assert_eq!(tokens("...on"), 2);
    }

    #[test]
    fn lexer_numbers() {
        assert_eq!(tokens("1 -2 3.5 -4.25e10 6E-3 7e+2"), 6);
        assert_eq!(tokens("f(x: -1.5e3)"), 6);
    }

    #[test]
    fn lexer_strings() {
        // Commas, comments, braces and escaped quotes inside strings are not
        // tokens of their own.
        assert_eq!(tokens(r#""a, b # c { } \" d""#), 1);
        assert_eq!(tokens(r#"f(s: "x", t: "") "#), 9);
        // Unterminated string ends at the line's end.
        assert_eq!(tokens("\"abc\nd"), 2);
    }

    #[test]
    fn lexer_block_strings() {
        assert_eq!(tokens(r#""""a "" b \""" c { # d""""#), 1);
        assert_eq!(tokens("\"\"\"\nmulti\nline, text\n\"\"\" x"), 2);
        assert_eq!(tokens(r#""""""""#), 1);
        // Unterminated block string runs to the end.
        assert_eq!(tokens(r#"a """ b c d"#), 2);
    }

    #[test]
    fn lexer_full_document() {
        let q = r#"query Q($x: Int = -1.5e3) { a(s: "x, y # z", b: """ "" \""" """) ...F @d }"#;
        // query Q ( $ x : Int = -1.5e3 ) { a ( s : "..." b : """...""" ) ... F @ d }
        assert_eq!(tokens(q), 25);
    }

    #[test]
    fn lexer_non_ascii_outside_strings() {
        // Each non-ASCII character is one token; inside strings none.
        assert_eq!(tokens("é ü"), 2);
        assert_eq!(tokens("\"héllo\""), 1);
    }

    // --- fields -------------------------------------------------------------

    #[test]
    fn fields_at_limit_pass() {
        let limits = ShapeLimits {
            max_fields: 5,
            ..open()
        };
        assert_eq!(check("{ a b c { d e } }", None, &limits), Ok(()));
    }

    #[test]
    fn fields_over_limit_refused() {
        let limits = ShapeLimits {
            max_fields: 5,
            ..open()
        };
        assert_eq!(
            err("{ a b c { d e f } }", None, &limits),
            "query has 6 fields after expanding fragments; the limit is 5"
        );
    }

    #[test]
    fn fields_counted_through_fragments() {
        let q = "query { x ...F ...F } fragment F on Query { a { b } }";
        assert_eq!(counts_of(q, None).fields, 5);
        let at = ShapeLimits {
            max_fields: 5,
            ..open()
        };
        let under = ShapeLimits {
            max_fields: 4,
            ..open()
        };
        assert_eq!(check(q, None, &at), Ok(()));
        assert!(check(q, None, &under).is_err());
    }

    #[test]
    fn inline_fragments_counted_in_place() {
        let q = "{ a ... on Query { b c { d } } ... @skip(if: false) { e } }";
        let c = counts_of(q, None);
        assert_eq!(c.fields, 5);
        assert_eq!(c.directives, 1);
    }

    #[test]
    fn nested_spreads_multiply() {
        let q = "query { ...B ...B }
                 fragment B on Query { ...A ...A ...A x }
                 fragment A on Query { a b }";
        // B = 3 * 2 + 1 = 7; operation = 2 * 7 = 14.
        assert_eq!(counts_of(q, None).fields, 14);
    }

    #[test]
    fn unknown_fragment_counts_zero() {
        let q = "{ a ...Missing }";
        assert_eq!(counts_of(q, None).fields, 1);
        assert_eq!(check(q, None, &ShapeLimits::default()), Ok(()));
    }

    // --- aliases ------------------------------------------------------------

    fn aliased(n: usize) -> String {
        let fields: Vec<String> = (0..n).map(|i| format!("x{i}: a")).collect();
        format!("{{ {} plain }}", fields.join(" "))
    }

    #[test]
    fn aliases_at_default_limit_pass() {
        assert_eq!(check(&aliased(30), None, &ShapeLimits::default()), Ok(()));
    }

    #[test]
    fn aliases_over_default_limit_refused() {
        assert_eq!(
            err(&aliased(31), None, &ShapeLimits::default()),
            "query has 31 aliases after expanding fragments; the limit is 30"
        );
    }

    #[test]
    fn aliases_counted_through_fragments() {
        let q = "{ ...F ...F ...F } fragment F on Query { x: a y: b c }";
        assert_eq!(counts_of(q, None).aliases, 6);
        assert_eq!(
            check(
                q,
                None,
                &ShapeLimits {
                    max_aliases: 6,
                    ..open()
                }
            ),
            Ok(())
        );
        assert_eq!(
            err(
                q,
                None,
                &ShapeLimits {
                    max_aliases: 5,
                    ..open()
                }
            ),
            "query has 6 aliases after expanding fragments; the limit is 5"
        );
    }

    // --- directives ---------------------------------------------------------

    /// Directives on the operation (1), a field (1), a spread (1), an inline
    /// fragment (1), and the fragment definition and a field inside it, both
    /// counted once per spread of the fragment (2 + 2): 8 in all.
    /// (async-graphql-parser 7.2.1 does not accept directives on variable
    /// definitions; they would be counted too.)
    const DIRECTIVES: &str = r#"
        query Q($v: Boolean = true) @op {
          a @include(if: $v)
          ...F @skip(if: false)
          ...F
          ... on Query @include(if: true) { b }
        }
        fragment F on Query @frag { c @deprecated }
    "#;

    #[test]
    fn directives_counted_everywhere() {
        assert_eq!(counts_of(DIRECTIVES, None).directives, 8);
    }

    #[test]
    fn directives_at_limit_pass() {
        let limits = ShapeLimits {
            max_directives: 8,
            ..open()
        };
        assert_eq!(check(DIRECTIVES, None, &limits), Ok(()));
    }

    #[test]
    fn directives_over_limit_refused() {
        let limits = ShapeLimits {
            max_directives: 7,
            ..open()
        };
        assert_eq!(
            err(DIRECTIVES, None, &limits),
            "query has 8 directives after expanding fragments; the limit is 7"
        );
    }

    #[test]
    fn directives_at_default_limit() {
        let at: String = (0..50)
            .map(|i| format!(" f{i} @include(if: true)"))
            .collect();
        let over = format!("{at} g @skip(if: false)");
        let d = ShapeLimits::default();
        assert_eq!(check(&format!("{{{at} }}"), None, &d), Ok(()));
        assert_eq!(
            err(&format!("{{{over} }}"), None, &d),
            "query has 51 directives after expanding fragments; the limit is 50"
        );
    }

    // --- fragment bombs -----------------------------------------------------

    #[test]
    fn fragment_bomb_refused() {
        let q = bomb(10, 10);
        assert!(q.len() < 1024, "bomb is {} bytes", q.len());
        assert!(count_tokens(&q, 4000) <= 4000);
        assert_eq!(counts_of(&q, None).fields, 10_000_000_000);
        assert_eq!(
            err(&q, None, &ShapeLimits::default()),
            "query has 10000000000 fields after expanding fragments; the limit is 5000"
        );
    }

    #[test]
    fn fragment_bomb_from_the_brief_refused() {
        // F1 = 5 fields, F2..F10 each spread the previous 5 times.
        let q = bomb(10, 5);
        assert_eq!(counts_of(&q, None).fields, 9_765_625);
        assert!(check(&q, None, &ShapeLimits::default()).is_err());
    }

    #[test]
    fn fragment_bomb_saturates_instead_of_overflowing() {
        // 10^40 fields does not fit in u64: the count saturates.
        let q = bomb(40, 10);
        assert!(q.len() <= 16_384);
        assert_eq!(counts_of(&q, None).fields, u64::MAX);
        let msg = err(&q, None, &ShapeLimits::default());
        assert_eq!(
            msg,
            format!(
                "query has at least {} fields after expanding fragments; the limit is 5000",
                u64::MAX
            )
        );
    }

    #[test]
    fn aliases_and_directives_bombs_refused() {
        let q = "query { ...F4 }
                 fragment F4 on Query { ...F3 ...F3 ...F3 ...F3 }
                 fragment F3 on Query { ...F2 ...F2 ...F2 ...F2 }
                 fragment F2 on Query { ...F1 ...F1 ...F1 ...F1 }
                 fragment F1 on Query { x: a @include(if: true) }";
        let c = counts_of(q, None);
        assert_eq!((c.fields, c.aliases, c.directives), (64, 64, 64));
        let limits = ShapeLimits {
            max_fields: 100,
            ..ShapeLimits::default()
        };
        assert!(err(q, None, &limits).contains("64 aliases"));
    }

    #[test]
    fn long_fragment_chain_does_not_overflow_stack() {
        // F0 -> F1 -> ... -> F4999: the cost walk is iterative.
        let n = 5_000;
        let mut q = String::from("query { ...F0 }\n");
        for i in 0..n - 1 {
            q.push_str(&format!("fragment F{i} on Query {{ a ...F{} }}\n", i + 1));
        }
        q.push_str(&format!("fragment F{} on Query {{ a }}\n", n - 1));
        assert_eq!(counts_of(&q, None).fields, 5_000);
        assert!(check(&q, None, &open()).is_ok());
        assert!(
            check(
                &q,
                None,
                &ShapeLimits {
                    max_fields: 4_999,
                    ..open()
                }
            )
            .is_err()
        );
    }

    // --- cycles -------------------------------------------------------------

    #[test]
    fn fragment_cycle_terminates() {
        let q = "query { ...F1 }
                 fragment F1 on Query { a ...F2 }
                 fragment F2 on Query { b ...F1 ...F1 }";
        // The back edge F2 -> F1 costs 0: F2 = 1, F1 = 2.
        assert_eq!(counts_of(q, None).fields, 2);
        assert_eq!(check(q, None, &ShapeLimits::default()), Ok(()));
    }

    #[test]
    fn self_spread_terminates() {
        let q = "{ ...F ...F } fragment F on Query { a ...F ...F ...F }";
        assert_eq!(counts_of(q, None).fields, 2);
        assert_eq!(check(q, None, &ShapeLimits::default()), Ok(()));
    }

    #[test]
    fn cycle_inside_bomb_still_refused() {
        let mut q = bomb(10, 10);
        q.push_str("fragment G on Query { ...F10 ...G }\n");
        q = q.replacen("query { ...F10 }", "query { ...G }", 1);
        assert!(check(&q, None, &ShapeLimits::default()).is_err());
    }

    // --- parse failures and nesting ------------------------------------------

    #[test]
    fn unparseable_text_passes() {
        let d = ShapeLimits::default();
        assert_eq!(check("{ a ", None, &d), Ok(()));
        assert_eq!(check("query query query", None, &d), Ok(()));
        assert_eq!(check("", None, &d), Ok(()));
        assert_eq!(check("fragment F on Q { a }", None, &d), Ok(()));
        assert_eq!(check("\"unterminated", None, &d), Ok(()));
        assert_eq!(check("{ a } { b }", None, &d), Ok(()));
    }

    #[test]
    fn deep_nesting_does_not_panic() {
        // 1000 levels: async-graphql-parser's recursion limit (64) turns this
        // into a parse error, which is the server's to report.
        let q = format!("{}{}", "{a".repeat(1000), "}".repeat(1000));
        assert_eq!(check(&q, None, &ShapeLimits::default()), Ok(()));
    }

    #[test]
    fn deepest_nesting_within_default_tokens_does_not_panic() {
        // 1333 levels is the most that fits in 4000 tokens.
        let q = format!("{}{}", "{a".repeat(1333), "}".repeat(1333));
        assert!(count_tokens(&q, 4000) <= 4000);
        assert_eq!(check(&q, None, &ShapeLimits::default()), Ok(()));
    }

    #[test]
    fn moderate_nesting_is_counted() {
        let q = format!("{}{}", "{a".repeat(50), "}".repeat(50));
        assert_eq!(counts_of(&q, None).fields, 50);
        assert!(
            check(
                &q,
                None,
                &ShapeLimits {
                    max_fields: 49,
                    ..open()
                }
            )
            .is_err()
        );
    }

    // --- operation selection ------------------------------------------------

    const TWO_OPS: &str = "query Small { a b }
                           query Big { a b c d e f }";

    #[test]
    fn selected_operation_within_limit_passes() {
        let limits = ShapeLimits {
            max_fields: 2,
            ..open()
        };
        assert_eq!(check(TWO_OPS, Some("Small"), &limits), Ok(()));
    }

    #[test]
    fn selected_operation_over_limit_refused() {
        let limits = ShapeLimits {
            max_fields: 2,
            ..open()
        };
        assert_eq!(
            err(TWO_OPS, Some("Big"), &limits),
            "query has 6 fields after expanding fragments; the limit is 2"
        );
    }

    #[test]
    fn ambiguous_or_unknown_operation_checks_all() {
        let limits = ShapeLimits {
            max_fields: 2,
            ..open()
        };
        assert!(check(TWO_OPS, None, &limits).is_err());
        assert!(check(TWO_OPS, Some("Nope"), &limits).is_err());
        assert_eq!(counts_of(TWO_OPS, None).fields, 6);
    }

    #[test]
    fn single_named_operation_selected_without_name() {
        let q = "query Only { ...F } fragment F on Query { a b }";
        assert_eq!(counts_of(q, None).fields, 2);
        assert_eq!(counts_of(q, Some("Only")).fields, 2);
    }

    #[test]
    fn fragments_only_used_by_other_operation_ignored() {
        let q = "query Small { a }
                 query Big { ...F9 }
                 fragment F9 on Query { ...F8 ...F8 ...F8 ...F8 ...F8 ...F8 ...F8 ...F8 }
                 fragment F8 on Query { a b c d e f g h }";
        let d = ShapeLimits {
            max_fields: 10,
            ..ShapeLimits::default()
        };
        assert_eq!(check(q, Some("Small"), &d), Ok(()));
        assert!(check(q, Some("Big"), &d).is_err());
    }

    // --- GraphiQL calibration -----------------------------------------------

    /// The introspection query GraphiQL sends (graphql-js
    /// `getIntrospectionQuery()`, TypeRef nested 7 levels of `ofType`).
    const GRAPHIQL_INTROSPECTION: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/api/introspection.graphql"
    ));

    /// The same query with every `getIntrospectionQuery` option switched on
    /// (schema description, `specifiedByURL`, `isRepeatable`, input value
    /// deprecation) and TypeRef nested 9 levels deep: a generous upper bound
    /// on what GraphiQL versions send.
    const GRAPHIQL_INTROSPECTION_ALL_OPTIONS: &str = r#"
    query IntrospectionQuery {
      __schema {
        description
        queryType { name }
        mutationType { name }
        subscriptionType { name }
        types {
          ...FullType
        }
        directives {
          name
          description
          isRepeatable
          locations
          args(includeDeprecated: true) {
            ...InputValue
          }
        }
      }
    }

    fragment FullType on __Type {
      kind
      name
      description
      specifiedByURL
      fields(includeDeprecated: true) {
        name
        description
        args(includeDeprecated: true) {
          ...InputValue
        }
        type {
          ...TypeRef
        }
        isDeprecated
        deprecationReason
      }
      inputFields(includeDeprecated: true) {
        ...InputValue
      }
      interfaces {
        ...TypeRef
      }
      enumValues(includeDeprecated: true) {
        name
        description
        isDeprecated
        deprecationReason
      }
      possibleTypes {
        ...TypeRef
      }
    }

    fragment InputValue on __InputValue {
      name
      description
      type { ...TypeRef }
      defaultValue
      isDeprecated
      deprecationReason
    }

    fragment TypeRef on __Type {
      kind
      name
      ofType {
        kind
        name
        ofType {
          kind
          name
          ofType {
            kind
            name
            ofType {
              kind
              name
              ofType {
                kind
                name
                ofType {
                  kind
                  name
                  ofType {
                    kind
                    name
                    ofType {
                      kind
                      name
                      ofType {
                        kind
                        name
                      }
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
    "#;

    #[test]
    fn graphiql_introspection_passes_defaults() {
        let q = GRAPHIQL_INTROSPECTION;
        let c = counts_of(q, None);
        let n_tokens = tokens(q);
        eprintln!(
            "GraphiQL introspection: {} fields, {} aliases, {} directives, {} tokens, {} bytes",
            c.fields,
            c.aliases,
            c.directives,
            n_tokens,
            q.len()
        );
        assert_eq!((c.fields, c.aliases, c.directives), (181, 0, 0));
        assert_eq!(check(q, None, &ShapeLimits::default()), Ok(()));
        assert_eq!(
            check(q, Some("IntrospectionQuery"), &ShapeLimits::default()),
            Ok(())
        );
    }

    #[test]
    fn graphiql_introspection_all_options_passes_defaults() {
        let q = GRAPHIQL_INTROSPECTION_ALL_OPTIONS;
        let c = counts_of(q, None);
        let n_tokens = tokens(q);
        eprintln!(
            "GraphiQL introspection (all options, TypeRef x9): {} fields, {} aliases, \
             {} directives, {} tokens, {} bytes",
            c.fields,
            c.aliases,
            c.directives,
            n_tokens,
            q.len()
        );
        assert_eq!(check(q, None, &ShapeLimits::default()), Ok(()));
    }

    #[test]
    fn graphiql_introspection_minified_passes_defaults() {
        let q: String = GRAPHIQL_INTROSPECTION
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        assert_eq!(tokens(&q), tokens(GRAPHIQL_INTROSPECTION));
        assert_eq!(check(&q, None, &ShapeLimits::default()), Ok(()));
    }

    // --- error type ---------------------------------------------------------

    #[test]
    fn error_displays_message() {
        let e = check(
            "{ a b }",
            None,
            &ShapeLimits {
                max_fields: 1,
                ..open()
            },
        )
        .expect_err("refused");
        assert_eq!(e.to_string(), e.message);
    }
}
