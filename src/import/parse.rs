//! Parser for the article import format.
//!
//! An import file is a markdown export of one article page:
//!
//! ```text
//! # Title
//! {% hint style="info" %}
//! **Category:** It
//! **Author:** [Name](https://www.woshipm.com/u/1315455)
//! **Published:** 2025-02-21
//! **Stats:** 👁️ 1897 views | 💬 0 comments | ⭐ 2 collects
//! **Tags:** `DeepSeek` `互联网大厂`
//! **Original:** [View on woshipm.com](https://www.woshipm.com/it/6183097.html)
//! {% endhint %}
//! > lead quote (the summary)
//!
//! ---
//!
//! page body (markdown, wrapped in site chrome)
//! ```
//!
//! [`parse_article`] reads the title, the metadata block and the lead quote,
//! then strips the site chrome from the page body: the repeated title heading,
//! the author badge and author line, the date and page-stats lines, course
//! ads, and the trailing action bar (`赞赏 收藏… 点赞…`) together with
//! everything after it (tag row, share links, QR code). Share links, QR codes,
//! tag rows and the `微信扫一扫` / `分享` / `更多精彩内容…` lines are also
//! dropped on their own when a file lacks the action bar. Lines inside fenced
//! code blocks are never treated as chrome.
//!
//! The parser accepts CRLF line endings and a leading UTF-8 byte-order mark,
//! and never panics: malformed input yields a [`ParseError`] carrying the
//! 1-based line number of the offending line (0 when the whole file is at
//! fault).

use chrono::NaiveDate;

/// Hosts whose links are course advertisements; a link line or link card
/// pointing at one of them (or a subdomain) is dropped from the body.
const AD_HOSTS: &[&str] = &["ke.qidianla.com"];

/// The site the articles come from; links to `https://<site>/tag/…` form the
/// tag row chrome.
const SITE_HOST: &str = "woshipm.com";

/// Longest excerpt of offending input quoted in an error message, in chars.
const SNIPPET_CHARS: usize = 80;

/// Most link/image start candidates examined on one line, so that a
/// pathological line (`![![![…`) cannot make parsing quadratic.
const MAX_CANDIDATES_PER_LINE: usize = 16;

/// One imported article, with the site chrome removed from its body.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedArticle {
    /// The title from the `# Title` line.
    pub title: String,
    /// The `**Category:**` value, `None` when absent or empty.
    pub category: Option<String>,
    /// The author's display name (the text of the `**Author:**` link).
    pub author_name: String,
    /// The author's profile URL (the target of the `**Author:**` link).
    pub author_profile_url: String,
    /// The `**Published:**` date.
    pub published_on: NaiveDate,
    /// View count from the `**Stats:**` line (0 when absent).
    pub views: i64,
    /// Comment count from the `**Stats:**` line (0 when absent).
    pub comments: i64,
    /// Collect (bookmark) count from the `**Stats:**` line (0 when absent).
    pub collects: i64,
    /// Like count from the trailing `点赞已赞N` (or `点赞N`) action bar; 0 when absent.
    pub likes: i64,
    /// Reading time from `N 分钟` in the body's page-stats line, when present.
    pub reading_time_minutes: Option<i32>,
    /// Tags in their order, trimmed, case-insensitive duplicates removed (first kept).
    pub tags: Vec<String>,
    /// The URL of the original article (the `**Original:**` link target).
    pub original_url: String,
    /// The lead quote after the metadata block, without its `>` markers.
    pub summary: Option<String>,
    /// The URL of the first image in the body after chrome removal.
    pub cover_image_url: Option<String>,
    /// The body markdown with chrome removed, trimmed, with runs of blank
    /// lines collapsed to one (outside fenced code blocks).
    pub body: String,
}

/// Why an import file could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ParseError {
    /// 1-based line number of the offending line; 0 means the whole file.
    pub line: usize,
    /// What is wrong, in English.
    pub message: String,
}

fn err(line: usize, message: impl Into<String>) -> ParseError {
    ParseError {
        line,
        message: message.into(),
    }
}

/// Parses one article import file.
///
/// # Errors
///
/// Returns a [`ParseError`] when the title line, the metadata block, the
/// Author link, the Published date or the Original URL is missing or
/// malformed, when the metadata block is not terminated, or when a count
/// (Stats, reading time, likes) is not a valid number.
pub fn parse_article(text: &str) -> Result<ParsedArticle, ParseError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err(err(
            0,
            "empty input: missing title (first line must be `# Title`)",
        ));
    }
    let lines = split_lines(text);

    // Title: the first non-blank line.
    let title_idx = next_non_blank(&lines, 0).ok_or_else(|| {
        err(
            0,
            "empty input: missing title (first line must be `# Title`)",
        )
    })?;
    let title_line = &lines[title_idx];
    let title = match parse_title(title_line.text) {
        Some(t) if !t.is_empty() => t.to_owned(),
        Some(_) => return Err(err(title_line.no, "empty title in `# Title` line")),
        None => {
            return Err(err(
                title_line.no,
                "missing title (first line must be `# Title`)",
            ));
        }
    };

    // Metadata block: the next non-blank line must open it.
    let open_idx = match next_non_blank(&lines, title_idx + 1) {
        Some(i) if is_hint_open(lines[i].text) => i,
        Some(i) => return Err(err(lines[i].no, MISSING_BLOCK)),
        None => return Err(err(title_line.no + 1, MISSING_BLOCK)),
    };
    let open_no = lines[open_idx].no;
    let close_idx = lines
        .iter()
        .enumerate()
        .skip(open_idx + 1)
        .find(|(_, l)| is_hint_close(l.text))
        .map(|(i, _)| i)
        .ok_or_else(|| {
            err(
                open_no,
                "unterminated metadata block: `{% hint %}` has no matching `{% endhint %}`",
            )
        })?;
    let meta = parse_meta(&lines[open_idx + 1..close_idx], open_no)?;

    // Lead quote (summary), then the `---` separator.
    let mut i = next_non_blank(&lines, close_idx + 1).unwrap_or(lines.len());
    let quote_start = i;
    while i < lines.len() && is_quote_line(lines[i].text) {
        i += 1;
    }
    let summary = join_quote(&lines[quote_start..i]);
    let mut body_start = next_non_blank(&lines, i).unwrap_or(lines.len());
    if body_start < lines.len() && lines[body_start].text.trim() == "---" {
        body_start += 1;
    }

    let body = clean_body(&lines[body_start..], &title, &meta.author_profile_url)?;

    Ok(ParsedArticle {
        title,
        category: meta.category,
        author_name: meta.author_name,
        author_profile_url: meta.author_profile_url,
        published_on: meta.published_on,
        views: meta.views,
        comments: meta.comments,
        collects: meta.collects,
        likes: body.likes,
        reading_time_minutes: body.reading_time_minutes,
        tags: meta.tags,
        original_url: meta.original_url,
        summary,
        cover_image_url: body.cover_image_url,
        body: body.text,
    })
}

const MISSING_BLOCK: &str = "missing metadata block ({% hint %} ... {% endhint %})";

/// A line of the input with its 1-based line number, line ending removed.
#[derive(Debug, Clone, Copy)]
struct Line<'a> {
    no: usize,
    text: &'a str,
}

fn split_lines(text: &str) -> Vec<Line<'_>> {
    text.split('\n')
        .enumerate()
        .map(|(i, raw)| Line {
            no: i + 1,
            text: raw.strip_suffix('\r').unwrap_or(raw),
        })
        .collect()
}

fn next_non_blank(lines: &[Line<'_>], from: usize) -> Option<usize> {
    lines
        .iter()
        .enumerate()
        .skip(from)
        .find(|(_, l)| !l.text.trim().is_empty())
        .map(|(i, _)| i)
}

fn snippet(s: &str) -> String {
    let s = s.trim();
    if s.chars().count() > SNIPPET_CHARS {
        let mut out: String = s.chars().take(SNIPPET_CHARS).collect();
        out.push('…');
        out
    } else {
        s.to_owned()
    }
}

/// `# Title` → `Some("Title")`; `## x`, `#x` or plain text → `None`.
fn parse_title(line: &str) -> Option<&str> {
    let rest = line.trim().strip_prefix('#')?;
    if rest.is_empty() {
        return Some("");
    }
    if !rest.starts_with(char::is_whitespace) {
        return None;
    }
    Some(rest.trim())
}

/// The text inside `{% … %}`, if the line is such a tag.
fn liquid_tag(line: &str) -> Option<&str> {
    let inner = line.trim().strip_prefix("{%")?.strip_suffix("%}")?;
    Some(inner.trim())
}

fn is_hint_open(line: &str) -> bool {
    liquid_tag(line).is_some_and(|t| {
        t == "hint"
            || t.strip_prefix("hint")
                .is_some_and(|r| r.starts_with(char::is_whitespace))
    })
}

fn is_hint_close(line: &str) -> bool {
    liquid_tag(line) == Some("endhint")
}

// ---------------------------------------------------------------------------
// Metadata block
// ---------------------------------------------------------------------------

struct Meta {
    category: Option<String>,
    author_name: String,
    author_profile_url: String,
    published_on: NaiveDate,
    views: i64,
    comments: i64,
    collects: i64,
    tags: Vec<String>,
    original_url: String,
}

/// `**Key:** value` (or `**Key**: value`) → `("Key", "value")`, both trimmed.
fn meta_kv(line: &str) -> Option<(&str, &str)> {
    let inner = line.trim().strip_prefix("**")?;
    let end = inner.find("**")?;
    let key = &inner[..end];
    let value = &inner[end + 2..];
    let (key, value) = match key.strip_suffix(':').or_else(|| key.strip_suffix('：')) {
        Some(k) => (k, value),
        None => (
            key,
            value
                .strip_prefix(':')
                .or_else(|| value.strip_prefix('：'))?,
        ),
    };
    Some((key.trim(), value.trim()))
}

fn parse_meta(block: &[Line<'_>], open_no: usize) -> Result<Meta, ParseError> {
    // First occurrence of each known key wins; unknown keys are ignored.
    let mut category = None;
    let mut author = None;
    let mut published = None;
    let mut stats = None;
    let mut tags = None;
    let mut original = None;
    for line in block {
        let Some((key, value)) = meta_kv(line.text) else {
            continue;
        };
        let slot = match key.to_ascii_lowercase().as_str() {
            "category" => &mut category,
            "author" => &mut author,
            "published" => &mut published,
            "stats" => &mut stats,
            "tags" => &mut tags,
            "original" => &mut original,
            _ => continue,
        };
        if slot.is_none() {
            *slot = Some((line.no, value));
        }
    }

    let (author_no, author_value) = author.ok_or_else(|| {
        err(
            open_no,
            "missing Author in metadata block (expected `**Author:** [Name](profile URL)`)",
        )
    })?;
    let (author_name, author_profile_url) = parse_author(author_value).ok_or_else(|| {
        err(
            author_no,
            format!(
                "invalid Author `{}`: expected `[Name](https://profile-url)`",
                snippet(author_value)
            ),
        )
    })?;

    let (published_no, published_value) = published.ok_or_else(|| {
        err(
            open_no,
            "missing Published date in metadata block (expected `**Published:** YYYY-MM-DD`)",
        )
    })?;
    let published_on = parse_iso_date(published_value).ok_or_else(|| {
        err(
            published_no,
            format!(
                "invalid Published date `{}`: expected YYYY-MM-DD",
                snippet(published_value)
            ),
        )
    })?;

    let (views, comments, collects) = match stats {
        Some((no, value)) => parse_meta_stats(value, no)?,
        None => (0, 0, 0),
    };

    let (original_no, original_value) = original.ok_or_else(|| {
        err(
            open_no,
            "missing Original URL in metadata block (expected `**Original:** [text](https://…)`)",
        )
    })?;
    let original_url = parse_original(original_value).ok_or_else(|| {
        err(
            original_no,
            format!(
                "invalid Original URL `{}`: expected `[text](https://…)` or a bare http(s) URL",
                snippet(original_value)
            ),
        )
    })?;

    Ok(Meta {
        category: category
            .map(|(_, v)| v.to_owned())
            .filter(|v| !v.is_empty()),
        author_name,
        author_profile_url,
        published_on,
        views,
        comments,
        collects,
        tags: tags.map(|(_, v)| parse_tags(v)).unwrap_or_default(),
        original_url,
    })
}

fn parse_author(value: &str) -> Option<(String, String)> {
    let (item, rest) = parse_inline_item(value)?;
    let Item::Link { text, url } = item else {
        return None;
    };
    let name = text.trim();
    if !rest.trim().is_empty() || name.is_empty() || !is_http_url(url) {
        return None;
    }
    Some((name.to_owned(), url.to_owned()))
}

fn parse_original(value: &str) -> Option<String> {
    let url = if value.starts_with('[') {
        let (item, rest) = parse_inline_item(value)?;
        let Item::Link { url, .. } = item else {
            return None;
        };
        if !rest.trim().is_empty() {
            return None;
        }
        url
    } else {
        value
            .strip_prefix('<')
            .and_then(|v| v.strip_suffix('>'))
            .unwrap_or(value)
    };
    is_http_url(url).then(|| url.to_owned())
}

fn is_http_url(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    rest.is_some_and(|r| !r.is_empty()) && !url.contains(char::is_whitespace)
}

/// Strict `YYYY-MM-DD` (zero-padded, no sign) that is a real calendar date.
fn parse_iso_date(s: &str) -> Option<NaiveDate> {
    let shape_ok = s.len() == 10
        && s.char_indices().all(|(i, c)| match i {
            4 | 7 => c == '-',
            _ => c.is_ascii_digit(),
        });
    if !shape_ok {
        return None;
    }
    let year = s.get(0..4)?.parse().ok()?;
    let month = s.get(5..7)?.parse().ok()?;
    let day = s.get(8..10)?.parse().ok()?;
    NaiveDate::from_ymd_opt(year, month, day)
}

/// A non-negative count: ASCII digits, optionally with `,` thousands separators.
fn parse_count(s: &str) -> Option<i64> {
    if s.is_empty()
        || !s.starts_with(|c: char| c.is_ascii_digit())
        || !s.chars().all(|c| c.is_ascii_digit() || c == ',')
    {
        return None;
    }
    s.replace(',', "").parse().ok()
}

/// `👁️ 1897 views | 💬 0 comments | ⭐ 2 collects` → `(1897, 0, 2)`.
///
/// Each `|`-separated segment is `[icon] N label`; unknown labels are
/// ignored, missing ones count 0, a segment without a valid count is an error.
fn parse_meta_stats(value: &str, line: usize) -> Result<(i64, i64, i64), ParseError> {
    let bad = |detail: String| {
        err(
            line,
            format!(
                "invalid Stats `{}`: {detail} (expected `👁️ N views | 💬 N comments | ⭐ N collects`)",
                snippet(value)
            ),
        )
    };
    let (mut views, mut comments, mut collects) = (0, 0, 0);
    for segment in value.split('|') {
        let tokens: Vec<&str> = segment.split_whitespace().collect();
        let (number, label) = match tokens.as_slice() {
            [] => continue,
            [.., number, label] => (*number, *label),
            [only] => return Err(bad(format!("segment `{}` has no count", snippet(only)))),
        };
        // The icon may be glued to the number (`👁️1897`): drop non-ASCII prefix.
        let number = number.trim_start_matches(|c: char| !c.is_ascii());
        let n = parse_count(number).ok_or_else(|| {
            bad(format!(
                "`{}` is not a valid count in `{}`",
                snippet(number),
                snippet(segment)
            ))
        })?;
        match label.to_lowercase().as_str() {
            "view" | "views" => views = n,
            "comment" | "comments" => comments = n,
            "collect" | "collects" => collects = n,
            _ => {}
        }
    }
    Ok((views, comments, collects))
}

/// `` `a` `b` `` → `["a", "b"]`; without backticks, a comma-separated list.
/// Trimmed, empty entries dropped, case-insensitive duplicates removed.
fn parse_tags(value: &str) -> Vec<String> {
    let raw: Vec<&str> = if value.contains('`') {
        // Odd-numbered pieces are inside backticks; an unclosed one is dropped.
        let pieces: Vec<&str> = value.split('`').collect();
        let closed = pieces.len().saturating_sub(1) / 2 * 2;
        pieces
            .iter()
            .take(closed + 1)
            .skip(1)
            .step_by(2)
            .copied()
            .collect()
    } else {
        value.split([',', '，']).collect()
    };
    let mut seen: Vec<String> = Vec::new();
    let mut tags = Vec::new();
    for tag in raw.into_iter().map(str::trim).filter(|t| !t.is_empty()) {
        let key = tag.to_lowercase();
        if !seen.contains(&key) {
            seen.push(key);
            tags.push(tag.to_owned());
        }
    }
    tags
}

// ---------------------------------------------------------------------------
// Lead quote
// ---------------------------------------------------------------------------

fn is_quote_line(line: &str) -> bool {
    line.trim_start().starts_with('>')
}

fn quote_content(line: &str) -> &str {
    let t = line.trim_start();
    let t = t.strip_prefix('>').unwrap_or(t);
    t.strip_prefix(' ').unwrap_or(t)
}

/// Joins the lead quote: lines of a paragraph with `\n`, paragraphs (split by
/// empty `>` lines) with `\n\n`; `None` when empty.
fn join_quote(lines: &[Line<'_>]) -> Option<String> {
    let mut paragraphs: Vec<Vec<&str>> = vec![Vec::new()];
    for line in lines {
        let content = quote_content(line.text).trim();
        if content.is_empty() {
            paragraphs.push(Vec::new());
        } else if let Some(last) = paragraphs.last_mut() {
            last.push(content);
        }
    }
    let joined = paragraphs
        .iter()
        .filter(|p| !p.is_empty())
        .map(|p| p.join("\n"))
        .collect::<Vec<_>>()
        .join("\n\n");
    (!joined.is_empty()).then_some(joined)
}

// ---------------------------------------------------------------------------
// Inline markdown: links and images
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy)]
enum Item<'a> {
    Link { text: &'a str, url: &'a str },
    Image { alt: &'a str, url: &'a str },
}

impl<'a> Item<'a> {
    fn url(&self) -> &'a str {
        match self {
            Item::Link { url, .. } | Item::Image { url, .. } => url,
        }
    }
}

/// Parses `[text](dest)` at the start of `s` → `(text, url, rest)`.
/// Brackets in the text and parentheses in the destination may nest.
fn parse_bracket_paren(s: &str) -> Option<(&str, &str, &str)> {
    let body = s.strip_prefix('[')?;
    let mut depth = 1usize;
    let mut escaped = false;
    let mut close = None;
    for (i, c) in body.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            '[' => depth += 1,
            ']' => {
                depth -= 1;
                if depth == 0 {
                    close = Some(i);
                    break;
                }
            }
            _ => {}
        }
    }
    let close = close?;
    let text = &body[..close];
    let after = body[close + 1..].strip_prefix('(')?;
    let mut depth = 1usize;
    let mut end = None;
    for (i, c) in after.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    end = Some(i);
                    break;
                }
            }
            _ => {}
        }
    }
    let end = end?;
    Some((text, link_destination(&after[..end]), &after[end + 1..]))
}

/// The URL part of a link destination: `<url>` or `url "title"` → `url`.
fn link_destination(dest: &str) -> &str {
    let dest = dest.trim();
    if let Some(inner) = dest.strip_prefix('<') {
        return inner.split('>').next().unwrap_or(inner).trim();
    }
    dest.split_whitespace().next().unwrap_or("")
}

/// Parses a link or image at the start of `s` → `(item, rest)`.
fn parse_inline_item(s: &str) -> Option<(Item<'_>, &str)> {
    if let Some(rest) = s.strip_prefix('!') {
        let (alt, url, rest) = parse_bracket_paren(rest)?;
        Some((Item::Image { alt, url }, rest))
    } else {
        let (text, url, rest) = parse_bracket_paren(s)?;
        Some((Item::Link { text, url }, rest))
    }
}

/// The items of a line made only of links and images (whitespace between
/// them allowed); `None` if the line has anything else or is blank.
fn link_row(line: &str) -> Option<Vec<Item<'_>>> {
    let mut rest = line.trim();
    let mut items = Vec::new();
    while !rest.is_empty() {
        let (item, r) = parse_inline_item(rest)?;
        items.push(item);
        rest = r.trim_start();
    }
    (!items.is_empty()).then_some(items)
}

/// The first image URL in a line, if any.
fn first_image_url(line: &str) -> Option<&str> {
    let mut from = 0;
    let mut attempts = 0;
    while let Some(pos) = line.get(from..).and_then(|s| s.find("![")) {
        attempts += 1;
        if attempts > MAX_CANDIDATES_PER_LINE {
            return None;
        }
        let start = from + pos;
        if let Some((Item::Image { url, .. }, _)) = line.get(start..).and_then(parse_inline_item)
            && !url.is_empty()
        {
            return Some(url);
        }
        from = start + 2;
    }
    None
}

/// Lower-cased host of an absolute (or scheme-relative) URL.
fn url_host(url: &str) -> Option<String> {
    let lower = url.trim().to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
        .or_else(|| lower.strip_prefix("//"))?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit('@').next().unwrap_or(authority);
    let host = host_port.split(':').next().unwrap_or(host_port);
    (!host.is_empty()).then(|| host.to_owned())
}

/// Path (plus query) of an absolute URL, e.g. `/tag/deepseek`.
fn url_path(url: &str) -> &str {
    let rest = url.split_once("//").map_or(url, |(_, r)| r);
    rest.find('/').and_then(|i| rest.get(i..)).unwrap_or("")
}

fn host_matches(host: &str, wanted: &str) -> bool {
    host == wanted
        || host
            .strip_suffix(wanted)
            .is_some_and(|prefix| prefix.ends_with('.'))
}

fn is_ad_url(url: &str) -> bool {
    url_host(url).is_some_and(|h| AD_HOSTS.iter().any(|ad| host_matches(&h, ad)))
}

fn is_site_tag_url(url: &str) -> bool {
    url_host(url).is_some_and(|h| host_matches(&h, SITE_HOST)) && url_path(url).starts_with("/tag/")
}

/// `url` without its http(s) scheme and trailing slashes.
fn strip_scheme(url: &str) -> &str {
    let url = url.trim();
    let rest = ["https://", "http://"]
        .iter()
        .find_map(|scheme| {
            url.get(..scheme.len())
                .filter(|head| head.eq_ignore_ascii_case(scheme))
                .and_then(|_| url.get(scheme.len()..))
        })
        .unwrap_or(url);
    rest.trim_end_matches('/')
}

/// Same URL up to scheme (http/https), ASCII case and trailing slashes.
fn same_url(a: &str, b: &str) -> bool {
    strip_scheme(a).eq_ignore_ascii_case(strip_scheme(b))
}

// ---------------------------------------------------------------------------
// Body chrome
// ---------------------------------------------------------------------------

struct Body {
    text: String,
    likes: i64,
    reading_time_minutes: Option<i32>,
    cover_image_url: Option<String>,
}

/// Marks the lines that are fence delimiters or inside fenced code blocks.
fn fence_mask(lines: &[Line<'_>]) -> Vec<bool> {
    fn marker(line: &str) -> Option<(char, usize, &str)> {
        let t = line.trim_start();
        let c = t.chars().next().filter(|c| *c == '`' || *c == '~')?;
        let len = t.chars().take_while(|x| *x == c).count();
        (len >= 3).then(|| (c, len, &t[len..]))
    }
    let mut mask = vec![false; lines.len()];
    let mut open: Option<(char, usize)> = None;
    for (i, line) in lines.iter().enumerate() {
        match (open, marker(line.text)) {
            (None, Some((c, len, _))) => {
                open = Some((c, len));
                mask[i] = true;
            }
            (None, None) => {}
            (Some((c, len)), m) => {
                mask[i] = true;
                if let Some((c2, len2, rest)) = m
                    && c2 == c
                    && len2 >= len
                    && rest.trim().is_empty()
                {
                    open = None;
                }
            }
        }
    }
    mask
}

/// Recognises the trailing action bar (`赞赏 收藏已收藏2 点赞已赞1`); returns
/// the like digits when present (`Some(None)` for a bar without a count).
fn parse_action_bar(line: &str) -> Option<Option<String>> {
    let compact: String = line.chars().filter(|c| !c.is_whitespace()).collect();
    let mut rest = compact.as_str();
    let mut parts = 0;
    let mut has_reward_or_like = false;
    let mut likes = None;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix("赞赏") {
            has_reward_or_like = true;
            rest = r;
        } else if let Some(r) = rest.strip_prefix("收藏") {
            let r = r.strip_prefix("已收藏").unwrap_or(r);
            rest = split_digits(r).1;
        } else if let Some(r) = rest.strip_prefix("点赞") {
            let r = r.strip_prefix("已赞").unwrap_or(r);
            let (digits, r) = split_digits(r);
            if !digits.is_empty() {
                likes = Some(digits.to_owned());
            }
            has_reward_or_like = true;
            rest = r;
        } else {
            return None;
        }
        parts += 1;
    }
    (parts >= 2 && has_reward_or_like).then_some(likes)
}

/// Splits the leading ASCII digits off `s`.
fn split_digits(s: &str) -> (&str, &str) {
    let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    s.split_at(end)
}

/// Recognises the page-stats line (`0 评论 1897 浏览 2 收藏 18 分钟`); returns
/// the minutes digits when present.
fn parse_page_stats(line: &str) -> Option<Option<&str>> {
    let mut rest = line.trim();
    let mut pairs = 0;
    let mut minutes = None;
    while !rest.is_empty() {
        let (digits, r) = split_digits(rest);
        if digits.is_empty() {
            return None;
        }
        let r = r.trim_start();
        let end = r
            .find(|c: char| c.is_whitespace() || c.is_ascii_digit())
            .unwrap_or(r.len());
        let (label, r) = r.split_at(end);
        match label {
            "评论" | "浏览" | "收藏" => {}
            "分钟" => minutes = Some(digits),
            _ => return None,
        }
        pairs += 1;
        rest = r.trim_start();
    }
    (pairs >= 2).then_some(minutes)
}

/// A heading of any level whose text is the article title.
fn is_title_heading(line: &str, title: &str) -> bool {
    let t = line.trim();
    let hashes = t.chars().take_while(|c| *c == '#').count();
    (1..=6).contains(&hashes)
        && t[hashes..].starts_with(char::is_whitespace)
        && t[hashes..].trim() == title
}

/// Single-line chrome that is dropped wherever it appears in the body.
fn is_line_chrome(line: &str, profile_url: &str) -> bool {
    let t = line.trim();
    if t.is_empty() {
        return false;
    }
    if t == "微信扫一扫" || t == "分享" || t.starts_with("更多精彩内容") {
        return true;
    }
    // Author line: links to the profile and ends with the follow button.
    if t.ends_with("关注")
        && t.match_indices("](")
            .take(MAX_CANDIDATES_PER_LINE)
            .any(|(i, _)| {
                t.get(i + 1..)
                    .and_then(|s| s.strip_prefix('('))
                    .is_some_and(|s| {
                        let end = s.find(')').unwrap_or(s.len());
                        same_url(link_destination(&s[..end]), profile_url)
                    })
            })
    {
        return true;
    }
    // A bare ad URL on its own line.
    let bare = t
        .strip_prefix('<')
        .and_then(|s| s.strip_suffix('>'))
        .unwrap_or(t);
    if !bare.contains(char::is_whitespace) && is_ad_url(bare) {
        return true;
    }
    let Some(items) = link_row(t) else {
        return false;
    };
    let is_qr = |item: &Item<'_>| match item {
        Item::Image { alt, url } => {
            alt.contains("二维码") || url.to_ascii_lowercase().contains("qrcode")
        }
        Item::Link { .. } => false,
    };
    // Author badge: an image linking to the profile.
    let badge = matches!(items.as_slice(), [Item::Link { text, url }]
        if text.trim_start().starts_with("![") && same_url(url, profile_url));
    let ads = items.iter().all(|i| is_ad_url(i.url()));
    let tag_row = items
        .iter()
        .all(|i| matches!(i, Item::Link { url, .. } if is_site_tag_url(url)));
    let share = items
        .iter()
        .all(|i| matches!(i, Item::Link { text, .. } if text.trim_start().starts_with("分享到")));
    let qr = items.iter().all(|i| {
        is_qr(i)
            || matches!(i, Item::Link { text, .. }
                if link_row(text).is_some_and(|inner| inner.iter().all(is_qr)))
    });
    badge || ads || tag_row || share || qr
}

/// Net count of unescaped `[` minus `]` on a line.
fn bracket_balance(line: &str) -> i64 {
    let mut balance = 0i64;
    let mut escaped = false;
    for c in line.chars() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            '[' => balance += 1,
            ']' => balance -= 1,
            _ => {}
        }
    }
    balance
}

/// A line opening a multi-line image link card: `[![](img)` left unclosed.
fn is_card_open(line: &str) -> bool {
    let t = line.trim();
    t.starts_with("[![") && bracket_balance(t) > 0
}

/// The URL of a card's closing line `](url)`, if the line is one.
fn card_close_url(line: &str) -> Option<&str> {
    let t = line.trim();
    let inner = t.strip_prefix("](")?.strip_suffix(')')?;
    Some(link_destination(inner))
}

fn clean_body(lines: &[Line<'_>], title: &str, profile_url: &str) -> Result<Body, ParseError> {
    let fenced = fence_mask(lines);

    // 1. The trailing action bar and everything after it (last bar wins, so
    //    a look-alike line earlier in the text never truncates the article).
    let mut end = lines.len();
    let mut likes = 0;
    if let Some((idx, bar)) = lines
        .iter()
        .enumerate()
        .rev()
        .filter(|(i, _)| !fenced[*i])
        .find_map(|(i, l)| parse_action_bar(l.text).map(|bar| (i, bar)))
    {
        end = idx;
        if let Some(digits) = bar {
            likes = digits.parse().map_err(|_| {
                err(
                    lines[idx].no,
                    format!(
                        "invalid like count `{}` in `{}`",
                        snippet(&digits),
                        snippet(lines[idx].text)
                    ),
                )
            })?;
        }
    }
    let lines = &lines[..end];
    let mut keep = vec![true; lines.len()];

    // 2. Chrome dropped anywhere: single lines and multi-line ad cards.
    let mut i = 0;
    while i < lines.len() {
        if fenced[i] {
            i += 1;
            continue;
        }
        let text = lines[i].text;
        if is_line_chrome(text, profile_url) {
            keep[i] = false;
        } else if is_card_open(text) {
            // The card ends at the first `](` line; a heading, a fence or
            // another card opener before it means this is not a card.
            let close = (i + 1..lines.len())
                .take_while(|&j| {
                    let t = lines[j].text.trim();
                    !fenced[j] && !t.starts_with('#') && !is_card_open(t)
                })
                .find(|&j| lines[j].text.trim().starts_with("]("));
            if let Some(j) = close
                && card_close_url(lines[j].text).is_some_and(is_ad_url)
            {
                keep[i..=j].iter_mut().for_each(|k| *k = false);
                i = j + 1;
                continue;
            }
        }
        i += 1;
    }

    // 3. Header chrome at the top of the body: repeated title, date line and
    //    page-stats line, until the first line of real content.
    let mut reading_time_minutes = None;
    let mut title_seen = false;
    for (i, line) in lines.iter().enumerate() {
        let t = line.text.trim();
        if !keep[i] || t.is_empty() {
            continue;
        }
        if fenced[i] {
            break;
        }
        let is_header = if !title_seen && is_title_heading(t, title) {
            title_seen = true;
            true
        } else if let Some(minutes) = parse_page_stats(t) {
            if let Some(digits) = minutes {
                let value = digits.parse::<i32>().map_err(|_| {
                    err(
                        line.no,
                        format!(
                            "invalid reading time `{}` in `{}`",
                            snippet(digits),
                            snippet(t)
                        ),
                    )
                })?;
                reading_time_minutes = Some(value);
            }
            true
        } else {
            // The date line: a bare date (the published date on the page).
            parse_iso_date(t).is_some()
        };
        if !is_header {
            break;
        }
        keep[i] = false;
    }

    // 4. Assemble: blank (whitespace-only) lines outside fences become empty,
    //    runs of them collapse to one; the first image is the cover.
    let mut out: Vec<&str> = Vec::new();
    let mut cover_image_url = None;
    for (i, line) in lines.iter().enumerate() {
        if !keep[i] {
            continue;
        }
        if fenced[i] {
            out.push(line.text);
            continue;
        }
        if line.text.trim().is_empty() {
            if out.last().is_some_and(|l| !l.is_empty()) {
                out.push("");
            }
            continue;
        }
        if cover_image_url.is_none() {
            cover_image_url = first_image_url(line.text).map(str::to_owned);
        }
        out.push(line.text);
    }
    Ok(Body {
        text: out.join("\n").trim().to_owned(),
        likes,
        reading_time_minutes,
        cover_image_url,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const REFERENCE: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/samples/woshipm-6183097.md"
    ));
    const PRODUCT: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/samples/woshipm-6190001.md"
    ));
    const AI: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/samples/woshipm-6200417.md"
    ));
    const ENGLISH: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/samples/woshipm-6211950.md"
    ));
    const SAMPLES: [&str; 4] = [REFERENCE, PRODUCT, AI, ENGLISH];

    fn parse(text: &str) -> ParsedArticle {
        match parse_article(text) {
            Ok(article) => article,
            Err(e) => panic!("sample failed to parse: {e}"),
        }
    }

    fn parse_err(text: &str) -> ParseError {
        match parse_article(text) {
            Ok(article) => panic!("expected an error, parsed {article:?}"),
            Err(e) => e,
        }
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid test date")
    }

    const META: &str = "**Category:** Test\n\
        **Author:** [Ann](https://www.woshipm.com/u/42)\n\
        **Published:** 2025-01-02\n\
        **Stats:** 👁️ 10 views | 💬 2 comments | ⭐ 3 collects\n\
        **Tags:** `a` `b`\n\
        **Original:** [View on woshipm.com](https://www.woshipm.com/pd/1.html)\n";

    /// A synthetic article with the given metadata lines and body.
    fn doc(meta: &str, body: &str) -> String {
        format!("# T\n{{% hint style=\"info\" %}}\n{meta}{{% endhint %}}\n> lead\n\n---\n\n{body}")
    }

    /// Replaces the line that starts with `prefix` in the reference article.
    fn reference_with(prefix: &str, replacement: Option<&str>) -> String {
        REFERENCE
            .lines()
            .filter_map(|l| {
                if l.starts_with(prefix) {
                    replacement.map(str::to_owned)
                } else {
                    Some(l.to_owned())
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn reference_metadata() {
        let a = parse(REFERENCE);
        assert_eq!(
            a.title,
            "写在DeepSeek持续发酵背后：中国互联网大厂的想象力还在吗？"
        );
        assert_eq!(a.category.as_deref(), Some("It"));
        assert_eq!(a.author_name, "产业家");
        assert_eq!(a.author_profile_url, "https://www.woshipm.com/u/1315455");
        assert_eq!(a.published_on, date(2025, 2, 21));
        assert_eq!((a.views, a.comments, a.collects), (1897, 0, 2));
        assert_eq!(a.likes, 1);
        assert_eq!(a.reading_time_minutes, Some(18));
        assert_eq!(a.tags, ["DeepSeek", "互联网大厂", "行业观察"]);
        assert_eq!(a.original_url, "https://www.woshipm.com/it/6183097.html");
        let summary = a.summary.as_deref().unwrap_or_default();
        assert!(summary.starts_with("如果说"), "{summary}");
        assert!(summary.ends_with("最大拷问。"), "{summary}");
        assert_eq!(
            a.cover_image_url.as_deref(),
            Some("https://image.woshipm.com/2023/04/13/d34ae8a8-d9e1-11ed-9d7a-00163e0b5ff3.jpg")
        );
    }

    #[test]
    fn reference_body_has_no_chrome() {
        let body = parse(REFERENCE).body;
        for chrome in [
            "ke.qidianla.com",
            "1897 浏览",
            "赞赏",
            "二维码",
            "分享到微博",
            "/tag/",
            "更多精彩内容",
            "72x72",
            "查看详情",
            "微信扫一扫",
            "u/1315455",
        ] {
            assert!(!body.contains(chrome), "body still contains {chrome:?}");
        }
        // `关注` also occurs in the article text itself (`我们也有关注DeepSeek`),
        // which must be kept; the author line's follow button must be gone.
        assert_eq!(body.matches("关注").count(), 1);
        assert!(body.contains("我们也有关注DeepSeek"));
        assert!(!body.lines().any(|l| l.trim_end().ends_with("关注")));
        assert!(!body.lines().any(|l| l.trim() == "2025-02-21"));
        assert!(!body.contains("\n\n\n"));
    }

    #[test]
    fn reference_body_keeps_content() {
        let body = parse(REFERENCE).body;
        assert!(
            body.starts_with("> 如果说在AI技术"),
            "{}",
            body.chars().take(30).collect::<String>()
        );
        assert!(body.ends_with("题图来自Unsplash，基于 CC0 协议。"));
        for kept in [
            "## 一、DeepSeek，共识背后的“共振”",
            "## 三、互联网大厂的新“创业模型”：挑战在哪？机会在哪？",
            "作者：皮爷 出品：产业家",
            "本文由人人都是产品经理作者【产业家】",
            "碎发，银框眼镜",
            "> 杭州和深圳的押注告诉我们，这个时间并不会太久远。",
            "![](https://image.woshipm.com/2023/04/13/d34ae8a8-d9e1-11ed-9d7a-00163e0b5ff3.jpg)",
            "**从世界AI格局的视角来看，这是独属于中国AI的突破。**",
        ] {
            assert!(body.contains(kept), "body lost {kept:?}");
        }
        // The repeated title heading is gone; the ad card's neighbours join up.
        assert!(!body.contains("## 写在DeepSeek"));
        assert!(body.contains(
            "**尽管其中的策略有快有慢，有投资激进派，也有开源、闭源派。**\n\n但DeepSeek的出现"
        ));
        // Lines are kept byte for byte (the trailing NBSP on the quote line).
        assert!(body.contains("最大拷问。\u{a0}\n> \n> 杭州"));
    }

    #[test]
    fn product_sample() {
        let a = parse(PRODUCT);
        assert_eq!(a.title, "从0到1搭建内容中台：一个B端产品经理的复盘");
        assert_eq!(a.category.as_deref(), Some("Product"));
        assert_eq!(a.author_name, "林间一叶");
        assert_eq!(a.author_profile_url, "https://www.woshipm.com/u/2204871");
        assert_eq!(a.published_on, date(2025, 3, 4));
        assert_eq!((a.views, a.comments, a.collects), (5321, 12, 86));
        assert_eq!(a.likes, 23);
        assert_eq!(a.reading_time_minutes, Some(9));
        assert_eq!(a.tags, ["内容中台", "B端产品", "产品经理", "复盘"]);
        assert_eq!(a.original_url, "https://www.woshipm.com/pd/6190001.html");
        assert_eq!(
            a.cover_image_url.as_deref(),
            Some("https://image.woshipm.com/2025/03/04/cover-6190001.jpg")
        );
        assert!(a.body.starts_with("> 内容中台不是一个系统"));
        assert!(a.body.ends_with("题图来自Unsplash，基于 CC0 协议。"));
        assert!(a.body.contains("1. 标签泛滥"));
        assert!(!a.body.contains("/tag/") && !a.body.contains("关注"));
    }

    #[test]
    fn ai_sample_drops_course_ad_line() {
        let a = parse(AI);
        assert_eq!(a.category.as_deref(), Some("AI"));
        assert_eq!(a.author_name, "产业家");
        assert_eq!(a.published_on, date(2025, 3, 18));
        assert_eq!((a.views, a.comments, a.collects), (2410, 3, 41));
        assert_eq!(a.likes, 9);
        assert_eq!(a.reading_time_minutes, Some(6));
        assert_eq!(a.tags, ["DeepSeek", "AI应用", "创业"]);
        assert_eq!(
            a.cover_image_url.as_deref(),
            Some("https://image.woshipm.com/2025/03/18/cover-6200417.jpg")
        );
        assert!(!a.body.contains("🔗") && !a.body.contains("qidianla"));
        assert!(
            a.body
                .contains("cover-6200417.jpg)\n\nDeepSeek把推理成本降低了一个数量级")
        );
    }

    #[test]
    fn english_sample() {
        let a = parse(ENGLISH);
        assert_eq!(
            a.title,
            "Designing GraphQL APIs for Content Teams: Lessons from a Headless CMS Migration"
        );
        assert_eq!(a.category.as_deref(), Some("Design"));
        assert_eq!(a.author_name, "Mara Lindqvist");
        assert_eq!(a.author_profile_url, "https://www.woshipm.com/u/3310042");
        assert_eq!(a.published_on, date(2025, 4, 2));
        assert_eq!((a.views, a.comments, a.collects), (980, 1, 17));
        assert_eq!(a.likes, 5);
        assert_eq!(a.reading_time_minutes, Some(4));
        assert_eq!(a.tags, ["GraphQL", "Headless CMS", "API设计"]);
        assert_eq!(a.cover_image_url, None);
        assert_eq!(
            a.summary.as_deref(),
            Some(
                "A schema is a product: the people who query it are its users, and every field is a promise."
            )
        );
        assert!(a.body.starts_with("> A schema is a product"));
        assert!(a.body.contains("`(published_at, id)`"));
        assert!(
            a.body
                .ends_with("Copyright © the author. Republished with permission.")
        );
    }

    #[test]
    fn crlf_and_bom_parse_identically() {
        for sample in SAMPLES {
            let expected = parse(sample);
            let crlf = sample.replace('\n', "\r\n");
            assert_eq!(parse(&crlf), expected);
            assert_eq!(parse(&format!("\u{feff}{crlf}")), expected);
            assert_eq!(parse(&format!("\u{feff}{sample}")), expected);
        }
    }

    #[test]
    fn error_missing_metadata_block() {
        let text = reference_with("{% hint", None).replace("{% endhint %}\n", "");
        let e = parse_err(&text);
        assert_eq!(e.line, 2);
        assert_eq!(
            e.message,
            "missing metadata block ({% hint %} ... {% endhint %})"
        );
    }

    #[test]
    fn error_unterminated_metadata_block() {
        let e = parse_err(&reference_with("{% endhint", None));
        assert_eq!(e.line, 2);
        assert!(e.message.starts_with("unterminated metadata block"), "{e}");
    }

    #[test]
    fn error_bad_date_points_at_published_line() {
        let e = parse_err(&reference_with(
            "**Published:**",
            Some("**Published:** 2025-13-45"),
        ));
        assert_eq!(
            e,
            ParseError {
                line: 5,
                message: "invalid Published date `2025-13-45`: expected YYYY-MM-DD".into(),
            }
        );
        assert_eq!(
            e.to_string(),
            "line 5: invalid Published date `2025-13-45`: expected YYYY-MM-DD"
        );
        for bad in ["2025-2-21", "+025-02-21", "21.02.2025", "2025-02-29", ""] {
            let e = parse_err(&reference_with(
                "**Published:**",
                Some(&format!("**Published:** {bad}")),
            ));
            assert_eq!(e.line, 5, "{bad}: {e}");
        }
    }

    #[test]
    fn error_missing_published() {
        let e = parse_err(&reference_with("**Published:**", None));
        assert_eq!(e.line, 2);
        assert!(e.message.starts_with("missing Published date"), "{e}");
    }

    #[test]
    fn error_missing_original() {
        let e = parse_err(&reference_with("**Original:**", None));
        assert_eq!(e.line, 2);
        assert!(e.message.starts_with("missing Original URL"), "{e}");
        let e = parse_err(&reference_with(
            "**Original:**",
            Some("**Original:** [View](not a url)"),
        ));
        assert_eq!(e.line, 8);
        assert!(e.message.starts_with("invalid Original URL"), "{e}");
    }

    #[test]
    fn bare_original_url_accepted() {
        let a = parse(&reference_with(
            "**Original:**",
            Some("**Original:** https://www.woshipm.com/it/6183097.html"),
        ));
        assert_eq!(a.original_url, "https://www.woshipm.com/it/6183097.html");
    }

    #[test]
    fn error_missing_or_invalid_author() {
        let e = parse_err(&reference_with("**Author:**", None));
        assert_eq!(e.line, 2);
        assert!(e.message.starts_with("missing Author"), "{e}");
        for bad in [
            "产业家",
            "[](https://www.woshipm.com/u/1)",
            "[x]()",
            "[x](ftp://a/b)",
        ] {
            let e = parse_err(&reference_with(
                "**Author:**",
                Some(&format!("**Author:** {bad}")),
            ));
            assert_eq!(e.line, 4, "{bad}");
            assert!(e.message.starts_with("invalid Author"), "{e}");
        }
    }

    #[test]
    fn error_missing_title() {
        let e = parse_err(&REFERENCE.replacen("# ", "", 1));
        assert_eq!(e.line, 1);
        assert_eq!(e.message, "missing title (first line must be `# Title`)");
        let e = parse_err(&REFERENCE.replacen("# ", "## ", 1));
        assert_eq!(e.line, 1);
        let e = parse_err("#\n{% hint %}\n{% endhint %}\n");
        assert_eq!(e.line, 1);
    }

    #[test]
    fn error_empty_input() {
        for text in ["", "   \n\r\n\t", "\u{feff}"] {
            let e = parse_err(text);
            assert_eq!(e.line, 0);
            assert!(e.message.contains("missing title"), "{e}");
        }
    }

    #[test]
    fn error_malformed_stats() {
        for bad in [
            "👁️ many views | 💬 0 comments | ⭐ 2 collects",
            "👁️ 1897 views | 💬 -1 comments",
            "👁️ 99999999999999999999 views",
            "views",
        ] {
            let e = parse_err(&reference_with(
                "**Stats:**",
                Some(&format!("**Stats:** {bad}")),
            ));
            assert_eq!(e.line, 6, "{bad}");
            assert!(e.message.starts_with("invalid Stats"), "{e}");
        }
    }

    #[test]
    fn missing_stats_counts_zero_and_tolerant_forms() {
        let a = parse(&reference_with("**Stats:**", None));
        assert_eq!((a.views, a.comments, a.collects), (0, 0, 0));
        let a = parse(&reference_with(
            "**Stats:**",
            Some("**Stats:** 👁️1,897 views | ⭐ 2 collect"),
        ));
        assert_eq!((a.views, a.comments, a.collects), (1897, 0, 2));
    }

    #[test]
    fn unknown_keys_ignored_and_first_key_wins() {
        let text = reference_with(
            "**Category:**",
            Some("**Mood:** sunny\n**Category:** It\n**Category:** Other\nnot a key line"),
        );
        let a = parse(&text);
        assert_eq!(a.category.as_deref(), Some("It"));
        let a = parse(&reference_with("**Category:**", None));
        assert_eq!(a.category, None);
    }

    #[test]
    fn tags_trimmed_and_deduplicated() {
        let a = parse(&reference_with(
            "**Tags:**",
            Some("**Tags:** ` DeepSeek ` `deepseek` `` `行业观察` `DEEPSEEK` `行业观察` `unclosed"),
        ));
        assert_eq!(a.tags, ["DeepSeek", "行业观察"]);
        let a = parse(&reference_with("**Tags:**", Some("**Tags:** a, b ，A")));
        assert_eq!(a.tags, ["a", "b"]);
        let a = parse(&reference_with("**Tags:**", None));
        assert!(a.tags.is_empty());
    }

    #[test]
    fn multi_line_lead_quote_is_joined() {
        let text = REFERENCE.replacen(
            "的最大拷问。\n",
            "的最大拷问。\n>\n> 第二段，\n> 第二行。\n",
            1,
        );
        let a = parse(&text);
        let summary = a.summary.unwrap_or_default();
        assert!(summary.starts_with("如果说"));
        assert!(
            summary.ends_with("最大拷问。\n\n第二段，\n第二行。"),
            "{summary}"
        );
        let no_quote = doc(META, "Body.").replace("> lead\n", "");
        assert_eq!(parse(&no_quote).summary, None);
    }

    #[test]
    fn chrome_dropped_without_action_bar() {
        let body = "Text one.\n\n\
            更多精彩内容，请关注人人都是产品经理微信公众号或下载App\n\n\
            [a](https://www.woshipm.com/tag/a)[b](https://www.woshipm.com/tag/b)\n\n\
            [分享到微博](https://service.weibo.com/share/share.php?x=1)\n\n\
            微信扫一扫\n\n\
            ![微信二维码](https://api.example.com/create/?u=1)\n\n\
            ![](https://api.pwmqr.com/QRCode/create/?u=1)\n\n\
            分享\n\n\
            https://ke.qidianla.com/courses/x\n\n\
            Text two.\n";
        let a = parse(&doc(META, body));
        assert_eq!(a.body, "Text one.\n\nText two.");
        assert_eq!(a.likes, 0);
        assert_eq!(a.reading_time_minutes, None);
        assert_eq!(a.cover_image_url, None);
    }

    #[test]
    fn reference_without_action_bar_still_drops_trailing_chrome() {
        let expected = parse(REFERENCE);
        let a = parse(&reference_with("赞赏 收藏", None));
        assert_eq!(a.likes, 0);
        assert_eq!(a.body, expected.body);
    }

    #[test]
    fn pathological_lines_stay_fast() {
        let long = |unit: &str| unit.repeat(50_000);
        for line in [long("!["), long("]("), long("[!["), long("[a](")] {
            let text = doc(META, &format!("{line} 关注\n\n{line}\n"));
            let start = std::time::Instant::now();
            let _ = parse_article(&text);
            assert!(
                start.elapsed().as_secs() < 5,
                "too slow on {:?}…",
                &line[..4]
            );
        }
    }

    #[test]
    fn action_bar_variants_and_truncation() {
        let a = parse(&doc(META, "Text.\n\n赞赏 收藏86 点赞23\n\nAfter.\n"));
        assert_eq!((a.likes, a.body.as_str()), (23, "Text."));
        let a = parse(&doc(META, "Text.\n\n赞赏 收藏已收藏2\n"));
        assert_eq!((a.likes, a.body.as_str()), (0, "Text."));
        // A lone word is content, not the bar.
        let a = parse(&doc(META, "赞赏\n\n点赞\n"));
        assert_eq!(a.body, "赞赏\n\n点赞");
        let e = parse_err(&doc(META, "Text.\n\n赞赏 点赞已赞99999999999999999999\n"));
        assert_eq!(e.line, 16);
        assert!(e.message.starts_with("invalid like count"), "{e}");
    }

    #[test]
    fn header_chrome_only_at_top() {
        let body = "## T\n\n\
            [Ann](https://www.woshipm.com/u/42) 关注\n\n\
            2025-01-02\n\n\
            1 评论 10 浏览 3 收藏\n\n\
            Intro.\n\n\
            2024-12-31\n\n\
            1 评论 10 浏览 3 收藏\n\n\
            ## T\n";
        let a = parse(&doc(META, body));
        assert_eq!(a.reading_time_minutes, None);
        assert_eq!(
            a.body,
            "Intro.\n\n2024-12-31\n\n1 评论 10 浏览 3 收藏\n\n## T"
        );
    }

    #[test]
    fn ad_card_only_when_it_links_to_an_ad_host() {
        let card = |url: &str| {
            format!(
                "Before.\n\n[![](https://img.example.com/a.png)\n\nCard title\n\n查看详情 >\n\n]({url})\n\nAfter.\n"
            )
        };
        let a = parse(&doc(META, &card("https://ke.qidianla.com/courses/x")));
        assert_eq!(a.body, "Before.\n\nAfter.");
        assert_eq!(a.cover_image_url, None);
        let a = parse(&doc(META, &card("https://example.com/")));
        assert!(a.body.contains("查看详情 >\n\n](https://example.com/)"));
        assert_eq!(
            a.cover_image_url.as_deref(),
            Some("https://img.example.com/a.png")
        );
        // A single-line image link to an ad host is an ad line.
        let a = parse(&doc(
            META,
            "[![](https://img.example.com/b.png)](http://KE.qidianla.com/c)\n\nText.",
        ));
        assert_eq!(a.body, "Text.");
    }

    #[test]
    fn fenced_code_is_never_chrome() {
        let body = "```text\n分享\n\n\n\n微信扫一扫\n赞赏 收藏1 点赞1\n```\n\nText.\n";
        let a = parse(&doc(META, body));
        assert_eq!(a.likes, 0);
        assert_eq!(a.body, body.trim());
    }

    #[test]
    fn blank_runs_collapse() {
        let a = parse(&doc(META, "A\n\n\n\n  \nB\n\n\n"));
        assert_eq!(a.body, "A\n\nB");
    }

    #[test]
    fn missing_separator_tolerated() {
        let text = doc(META, "Body text.").replace("---\n", "");
        let a = parse(&text);
        assert_eq!(a.summary.as_deref(), Some("lead"));
        assert_eq!(a.body, "Body text.");
    }

    #[test]
    fn garbage_input_errors_without_panicking() {
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        for round in 0..300 {
            let len = 1 + round * 7 % 600;
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    (seed >> 24) as u8
                })
                .collect();
            let text = String::from_utf8_lossy(&bytes);
            assert!(parse_article(&text).is_err());
        }
        for text in [
            "#",
            "# ",
            "# T\n{%",
            "# T\n{% hint %}",
            "[![",
            "](",
            "\r",
            "\u{feff}#",
        ] {
            assert!(parse_article(text).is_err(), "{text:?}");
        }
    }

    #[test]
    fn truncated_and_mangled_samples_never_panic() {
        for sample in SAMPLES {
            let bounds: Vec<usize> = sample.char_indices().map(|(i, _)| i).collect();
            for &cut in bounds.iter().step_by(5) {
                let _ = parse_article(&sample[..cut]);
                let _ = parse_article(&sample[cut..]);
            }
            let lines: Vec<&str> = sample.lines().collect();
            for skip in 0..lines.len() {
                let mut mangled = lines.clone();
                mangled.remove(skip);
                let _ = parse_article(&mangled.join("\n"));
            }
        }
    }
}
