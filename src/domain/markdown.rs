//! Markdown processing for article bodies: sanitized HTML rendering, plain-text extraction, table of contents,
//! CJK-aware word counts, reading time, excerpts and slugs.
//!
//! Everything is built on a single pass over pulldown-cmark events (CommonMark plus tables and strikethrough).
//! One extra, deliberately narrow repair is applied to the event stream: CommonMark's flanking rules refuse to
//! close `**bold。**` when the closing run sits between CJK punctuation and a letter (very common in Chinese
//! articles, e.g. `**第一，重复建设严重。**五套后台`), leaving literal `**` in the output. Such unmatched `**`
//! pairs inside the same inline container are turned into `<strong>` (see `CjkStrongFixup`).

use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::sync::LazyLock;

use pulldown_cmark::{Event, LinkType, Options, Parser, Tag, TagEnd};

/// One heading of an article's table of contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TocEntry {
    /// Heading level, 1 (`#`) to 6 (`######`).
    pub level: u8,
    /// Plain text of the heading, inline markup stripped and whitespace collapsed.
    pub text: String,
    /// Unique anchor, equal to the `id` attribute `render_html` puts on the same heading.
    pub anchor: String,
}

/// CommonMark (+ tables, strikethrough) to sanitized HTML. Headings get `id` attributes equal to the anchors that
/// `table_of_contents` returns for the same markdown (same order, same dedup). Sanitized with ammonia:
/// no `<script>`/`<style>`/`<iframe>`/`<object>`, no `on*` event-handler attributes, no `javascript:`/`data:` URLs in
/// href/src, raw HTML in the markdown is sanitized (allowed tags kept, dangerous removed), links get
/// `rel="noopener noreferrer nofollow"`. Images, tables (incl. column alignment), code blocks (with
/// `class="language-xxx"` on `<code>`), blockquotes, lists and em/strong/del survive.
#[must_use]
pub fn render_html(markdown: &str) -> String {
    let mut html = String::with_capacity(markdown.len() + markdown.len() / 2 + 64);
    pulldown_cmark::html::push_html(&mut html, HeadingIds::new(events(markdown)));
    SANITIZER.clean(&html).to_string()
}

/// Plain text of the markdown: text content only, no markup, no URLs, image alt text dropped; paragraphs/headings/list
/// items separated by a single "\n"; trimmed; consecutive blank lines collapsed.
///
/// Runs of whitespace inside a line are collapsed to one space, a soft line break between two CJK characters joins
/// them without a space, table cells are separated by a space, code blocks keep their non-blank lines, raw HTML
/// tags are dropped (text between inline tags is kept) and autolinks (`<https://…>`) are dropped. Links whose text
/// spans several paragraphs (not links in CommonMark, but common in scraped articles) lose their literal `[` and
/// `](url)` so that no URL leaks into the text.
#[must_use]
pub fn plain_text(markdown: &str) -> String {
    let mut extractor = TextExtractor::new(false, markdown.len());
    for event in events(markdown) {
        extractor.feed(&event);
    }
    extractor.finish()
}

/// Headings h1..h6 in document order. `text` is the heading's plain text (inline markup stripped).
/// `anchor` = slugify(text); if empty use "section"; duplicates get "-1", "-2", ... suffixes (GitHub style).
#[must_use]
pub fn table_of_contents(markdown: &str) -> Vec<TocEntry> {
    let mut toc = Vec::new();
    let mut anchors = Anchors::default();
    let mut current: Option<(u8, TextExtractor)> = None;
    for event in events(markdown) {
        match &event {
            Event::Start(Tag::Heading { level, .. }) => {
                current = Some((*level as u8, TextExtractor::new(true, 32)));
            }
            Event::End(TagEnd::Heading(_)) => {
                if let Some((level, extractor)) = current.take() {
                    let text = extractor.finish();
                    let anchor = anchors.next(&text);
                    toc.push(TocEntry {
                        level,
                        text,
                        anchor,
                    });
                }
            }
            _ => {
                if let Some((_, extractor)) = current.as_mut() {
                    extractor.feed(&event);
                }
            }
        }
    }
    toc
}

/// CJK-aware word count of plain text: every Han/Hiragana/Katakana/Hangul character counts as one word;
/// every maximal run of other letters/digits (e.g. "DeepSeek", "2025", "V3", "don't") counts as one word —
/// apostrophes and hyphens between two letters/digits do not split a word, nor do `.`/`,` between two digits
/// ("3.14", "40,000"); punctuation (including full-width 。，“” etc.) and whitespace count nothing.
#[must_use]
pub fn word_count(text: &str) -> usize {
    let mut count = 0;
    let mut in_word = false;
    let mut prev_numeric = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if is_cjk_letter(c) {
            count += 1;
            in_word = false;
        } else if c.is_alphanumeric() {
            if !in_word {
                count += 1;
                in_word = true;
            }
            prev_numeric = c.is_numeric();
        } else if in_word && is_combining_mark(c) {
            // Decomposed accents etc. belong to the letter before them.
        } else if in_word && joins_word(c, prev_numeric, chars.peek().copied()) {
            prev_numeric = false;
        } else {
            in_word = false;
        }
    }
    count
}

/// Minutes to read `words` words at 400 words/minute (a typical Chinese reading speed in characters), rounded up,
/// at least 1 (saturating at `i32::MAX`).
#[must_use]
pub fn reading_time_minutes(words: usize) -> i32 {
    i32::try_from(words.div_ceil(400).max(1)).unwrap_or(i32::MAX)
}

/// At most `max_chars` characters (Unicode scalar values, not bytes) of `plain`, whitespace collapsed to single
/// spaces. If cut, cut at the last whitespace or CJK/full-width punctuation boundary within the limit when that keeps
/// at least half of it (otherwise hard-cut at a char boundary) and append "…" (the ellipsis counts toward
/// `max_chars`). Never panics on any input, including `max_chars` 0 or 1.
///
/// Closing/ending punctuation (`，`, `。`, `”`, `）` …) stays before the cut; opening punctuation (`“`, `（`, `《` …)
/// is cut off with what follows it. Only about `max_chars` characters of the input are examined.
#[must_use]
pub fn excerpt(plain: &str, max_chars: usize) -> String {
    if max_chars == 0 {
        return String::new();
    }
    // Collapse whitespace while collecting at most `max_chars + 1` characters: one more than fits tells us
    // whether a cut is needed, and what follows the cut position.
    let limit = max_chars.saturating_add(1);
    let mut chars: Vec<char> = Vec::new();
    let mut pending_space = false;
    for c in plain.chars() {
        if c.is_whitespace() {
            pending_space |= !chars.is_empty();
            continue;
        }
        if pending_space {
            pending_space = false;
            chars.push(' ');
            if chars.len() >= limit {
                break;
            }
        }
        chars.push(c);
        if chars.len() >= limit {
            break;
        }
    }
    if chars.len() <= max_chars {
        return chars.into_iter().collect();
    }

    // Room left for text once the ellipsis is accounted for.
    let keep = max_chars - 1;
    let is_boundary = |p: usize| {
        chars
            .get(p)
            .is_some_and(|&c| c.is_whitespace() || is_opening_punct(c))
            || (p > 0 && chars.get(p - 1).is_some_and(|&c| is_closing_punct(c)))
    };
    let mut cut = keep;
    let mut p = keep;
    while p > 0 && p.saturating_mul(2) >= max_chars {
        if is_boundary(p) {
            cut = p;
            break;
        }
        p -= 1;
    }
    let mut out: String = chars.get(..cut).unwrap_or_default().iter().collect();
    out.truncate(out.trim_end().len());
    out.push('…');
    out
}

/// URL/anchor slug: lowercase (Unicode-aware), letters and digits of any script kept (so "互联网大厂" stays
/// "互联网大厂", "B端产品" -> "b端产品", "Headless CMS" -> "headless-cms", "API设计" -> "api设计"), every run of
/// anything else becomes one "-", no leading/trailing "-". Combining marks directly after a letter are kept with it.
#[must_use]
pub fn slugify(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_dash = false;
    let mut after_letter = false;
    for c in text.chars() {
        if c.is_alphanumeric() {
            if pending_dash && !out.is_empty() {
                out.push('-');
            }
            pending_dash = false;
            after_letter = true;
            out.extend(c.to_lowercase().filter(|l| l.is_alphanumeric()));
        } else if after_letter && is_combining_mark(c) {
            out.push(c);
        } else {
            pending_dash = true;
            after_letter = false;
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------------------------------

/// The event stream every public function works on, so that HTML ids and TOC anchors always agree.
fn events(markdown: &str) -> CjkStrongFixup<'_, Parser<'_>> {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    CjkStrongFixup::new(Parser::new_ext(markdown, options))
}

/// Events that live inside a block's inline content.
fn is_inline_event(event: &Event<'_>) -> bool {
    match event {
        Event::Start(tag) => matches!(
            tag,
            Tag::Emphasis
                | Tag::Strong
                | Tag::Strikethrough
                | Tag::Superscript
                | Tag::Subscript
                | Tag::Link { .. }
                | Tag::Image { .. }
        ),
        Event::End(tag) => matches!(
            tag,
            TagEnd::Emphasis
                | TagEnd::Strong
                | TagEnd::Strikethrough
                | TagEnd::Superscript
                | TagEnd::Subscript
                | TagEnd::Link
                | TagEnd::Image
        ),
        Event::Text(_)
        | Event::Code(_)
        | Event::InlineMath(_)
        | Event::InlineHtml(_)
        | Event::FootnoteReference(_)
        | Event::SoftBreak
        | Event::HardBreak => true,
        _ => false,
    }
}

/// Stream adapter that repairs `**strong**` spans CommonMark leaves unmatched in CJK text.
///
/// CommonMark only lets `**` close when it is not preceded by punctuation or is followed by whitespace/punctuation,
/// so `**重复建设严重。**五套` stays literal. The adapter buffers a run of inline events (from the first literal `*`
/// up to the next block event; runs without one pass straight through) and pairs literal `**` runs that are still
/// unmatched inside the same inline container: an opener must not be followed by whitespace, a closer must not be
/// preceded by whitespace, and the span must not be empty. Runs of one or of three or more `*` are left alone, as is
/// everything inside code blocks.
struct CjkStrongFixup<'a, I> {
    inner: I,
    run: Vec<Event<'a>>,
    out: VecDeque<Event<'a>>,
    in_code_block: bool,
    done: bool,
}

/// What `CjkStrongFixup::flush_run` does with each buffered event.
#[derive(Clone, Copy)]
enum Action {
    Keep,
    /// First event of a `**` opener: becomes `Start(Strong)`.
    Open,
    /// First event of a `**` closer: becomes `End(Strong)`.
    Close,
    /// Further events of an opener or closer.
    Drop,
}

/// A literal `**` found in an inline run: the event index range it occupies.
#[derive(Clone, Copy)]
struct StarToken {
    start: usize,
    end: usize,
}

impl<'a, I: Iterator<Item = Event<'a>>> CjkStrongFixup<'a, I> {
    fn new(inner: I) -> Self {
        Self {
            inner,
            run: Vec::new(),
            out: VecDeque::new(),
            in_code_block: false,
            done: false,
        }
    }

    /// Moves the buffered inline run to the output queue, repaired if needed.
    fn flush_run(&mut self) {
        if self.run.is_empty() {
            return;
        }
        let pairs = if self.in_code_block {
            Vec::new()
        } else {
            find_strong_pairs(&self.run)
        };
        if pairs.is_empty() {
            self.out.extend(self.run.drain(..));
            return;
        }
        let mut actions = vec![Action::Keep; self.run.len()];
        let mut set = |range: std::ops::Range<usize>, first: Action| {
            for (offset, action) in actions.get_mut(range).into_iter().flatten().enumerate() {
                *action = if offset == 0 { first } else { Action::Drop };
            }
        };
        for (open, close) in pairs {
            set(open.start..open.end, Action::Open);
            set(close.start..close.end, Action::Close);
        }
        for (event, action) in self.run.drain(..).zip(actions) {
            match action {
                Action::Keep => self.out.push_back(event),
                Action::Open => self.out.push_back(Event::Start(Tag::Strong)),
                Action::Close => self.out.push_back(Event::End(TagEnd::Strong)),
                Action::Drop => {}
            }
        }
    }
}

impl<'a, I: Iterator<Item = Event<'a>>> Iterator for CjkStrongFixup<'a, I> {
    type Item = Event<'a>;

    fn next(&mut self) -> Option<Event<'a>> {
        loop {
            if let Some(event) = self.out.pop_front() {
                return Some(event);
            }
            if self.done {
                return None;
            }
            match self.inner.next() {
                Some(event) if is_inline_event(&event) => {
                    // Buffering starts at the first literal `*` of a run: nothing before it can change.
                    if self.run.is_empty() && (self.in_code_block || star_count(&event).is_none()) {
                        return Some(event);
                    }
                    self.run.push(event);
                }
                Some(event) => {
                    self.flush_run();
                    match &event {
                        Event::Start(Tag::CodeBlock(_)) => self.in_code_block = true,
                        Event::End(TagEnd::CodeBlock) => self.in_code_block = false,
                        _ => {}
                    }
                    self.out.push_back(event);
                }
                None => {
                    self.flush_run();
                    self.done = true;
                }
            }
        }
    }
}

/// `Some(n)` when the event is text made only of `n` asterisks.
fn star_count(event: &Event<'_>) -> Option<usize> {
    match event {
        Event::Text(t) if !t.is_empty() && t.bytes().all(|b| b == b'*') => Some(t.len()),
        _ => None,
    }
}

/// Pairs of still-literal `**` runs in one inline run that should become `<strong>`.
fn find_strong_pairs(run: &[Event<'_>]) -> Vec<(StarToken, StarToken)> {
    let mut pairs = Vec::new();
    // Pending opener for each open inline container (index 0 = the block itself).
    let mut pending: Vec<Option<StarToken>> = vec![None];
    let mut i = 0;
    while let Some(event) = run.get(i) {
        if let Some(first) = star_count(event) {
            let mut end = i + 1;
            let mut stars = first;
            while let Some(n) = run.get(end).and_then(star_count) {
                stars += n;
                end += 1;
            }
            if stars == 2 {
                let token = StarToken { start: i, end };
                if let Some(slot) = pending.last_mut() {
                    match *slot {
                        Some(open) if can_close(run, token) && token.start > open.end => {
                            pairs.push((open, token));
                            *slot = None;
                        }
                        _ if can_open(run, token) => *slot = Some(token),
                        _ => {}
                    }
                }
            }
            i = end;
            continue;
        }
        match event {
            Event::Start(_) => pending.push(None),
            Event::End(_) => {
                pending.pop();
                if pending.is_empty() {
                    // Unbalanced input should not happen; stay safe anyway.
                    pending.push(None);
                }
            }
            _ => {}
        }
        i += 1;
    }
    pairs
}

fn can_open(run: &[Event<'_>], token: StarToken) -> bool {
    match run.get(token.end) {
        Some(Event::Text(t)) => t.chars().next().is_some_and(|c| !c.is_whitespace()),
        Some(Event::End(_) | Event::SoftBreak | Event::HardBreak) | None => false,
        Some(_) => true,
    }
}

fn can_close(run: &[Event<'_>], token: StarToken) -> bool {
    let Some(prev) = token.start.checked_sub(1).and_then(|i| run.get(i)) else {
        return false;
    };
    match prev {
        Event::Text(t) => t.chars().next_back().is_some_and(|c| !c.is_whitespace()),
        Event::Start(_) | Event::SoftBreak | Event::HardBreak => false,
        _ => true,
    }
}

/// Stream adapter that gives every heading its unique anchor as `id`.
struct HeadingIds<'a, I> {
    inner: I,
    queue: VecDeque<Event<'a>>,
    anchors: Anchors,
}

impl<'a, I: Iterator<Item = Event<'a>>> HeadingIds<'a, I> {
    fn new(inner: I) -> Self {
        Self {
            inner,
            queue: VecDeque::new(),
            anchors: Anchors::default(),
        }
    }
}

impl<'a, I: Iterator<Item = Event<'a>>> Iterator for HeadingIds<'a, I> {
    type Item = Event<'a>;

    fn next(&mut self) -> Option<Event<'a>> {
        if let Some(event) = self.queue.pop_front() {
            return Some(event);
        }
        match self.inner.next()? {
            Event::Start(Tag::Heading {
                level,
                id: _,
                classes,
                attrs,
            }) => {
                // Buffer the heading's content to learn its text before emitting the opening tag.
                let mut extractor = TextExtractor::new(true, 32);
                for event in self.inner.by_ref() {
                    // Fed exactly like in `table_of_contents`, so both compute the same anchors.
                    let is_end = matches!(event, Event::End(TagEnd::Heading(_)));
                    if !is_end {
                        extractor.feed(&event);
                    }
                    self.queue.push_back(event);
                    if is_end {
                        break;
                    }
                }
                let anchor = self.anchors.next(&extractor.finish());
                Some(Event::Start(Tag::Heading {
                    level,
                    id: Some(anchor.into()),
                    classes,
                    attrs,
                }))
            }
            event => Some(event),
        }
    }
}

/// GitHub-style unique anchors: `x`, `x-1`, `x-2`, … (never reusing an anchor already handed out).
#[derive(Default)]
struct Anchors {
    /// Every anchor handed out, with how many duplicates of it as a base were seen.
    seen: HashMap<String, usize>,
}

impl Anchors {
    fn next(&mut self, text: &str) -> String {
        let mut base = slugify(text);
        if base.is_empty() {
            base.push_str("section");
        }
        let Some(count) = self.seen.get_mut(&base) else {
            self.seen.insert(base.clone(), 0);
            return base;
        };
        let mut n = *count;
        loop {
            n += 1;
            let candidate = format!("{base}-{n}");
            if !self.seen.contains_key(&candidate) {
                if let Some(count) = self.seen.get_mut(&base) {
                    *count = n;
                }
                self.seen.insert(candidate.clone(), 0);
                return candidate;
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Plain text
// ---------------------------------------------------------------------------------------------------------------

/// Separator owed before the next piece of text; stronger separators win.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Sep {
    None,
    /// A soft line break: a space, except between two CJK characters.
    Soft,
    Space,
    Line,
}

/// Where [`TextExtractor`] stands in a possible `](destination)` link remnant.
enum Remnant {
    None,
    /// A literal `]` was seen; a following `(` starts a destination.
    Bracket,
    /// Inside `](…`: parenthesis depth and the text read so far.
    Destination {
        depth: usize,
        consumed: String,
    },
}

/// Turns markdown events into plain text.
struct TextExtractor {
    out: String,
    sep: Sep,
    /// `true` for heading text: line breaks become spaces.
    single_line: bool,
    /// Nesting depth of content whose text is dropped (images, autolinks).
    skip: usize,
    /// For each open link: whether it is an autolink (its text is a URL).
    links: Vec<bool>,
    in_code_block: bool,
    /// Progress through a possible link remnant (see [`TextExtractor::feed`]).
    remnant: Remnant,
    /// Byte offsets in `out` of literal `[` not yet closed by a literal `]`.
    open_brackets: Vec<usize>,
    /// Byte offsets in `out` of literal `[` found to open a link remnant, removed by `finish`.
    dropped_brackets: Vec<usize>,
}

impl TextExtractor {
    fn new(single_line: bool, capacity: usize) -> Self {
        Self {
            out: String::with_capacity(capacity),
            sep: Sep::None,
            single_line,
            skip: 0,
            links: Vec::new(),
            in_code_block: false,
            remnant: Remnant::None,
            open_brackets: Vec::new(),
            dropped_brackets: Vec::new(),
        }
    }

    fn feed(&mut self, event: &Event<'_>) {
        // Link remnants: a link whose text spans several paragraphs (scraped "card" links such as
        // `[![](img)\n\nTitle\n\n](https://…)`) is not a link in CommonMark; its `[` and `](url)` come through as
        // literal text. Drop the `](url)` part together with the `[` it closes, so no URL leaks into plain text.
        match std::mem::replace(&mut self.remnant, Remnant::None) {
            Remnant::None => {}
            Remnant::Bracket => match event {
                Event::Text(text) if text.starts_with('(') => {
                    return self.scan_destination(text, 0, String::new());
                }
                _ => self.close_bracket(),
            },
            Remnant::Destination { depth, consumed } => match event {
                Event::Text(text) => return self.scan_destination(text, depth, consumed),
                _ => self.abandon_destination(&consumed),
            },
        }
        match event {
            // Image alt text and autolink URLs are dropped.
            Event::Text(_) | Event::Code(_) if self.skip > 0 => {}
            Event::Text(text) if self.in_code_block => {
                for line in text.lines() {
                    self.separate(Sep::Line);
                    self.text(line);
                }
            }
            Event::Text(text) if &**text == "[" => {
                let at = self.word("[");
                self.open_brackets.push(at);
            }
            Event::Text(text) if &**text == "]" => self.remnant = Remnant::Bracket,
            Event::Text(text) | Event::Code(text) => self.text(text),
            Event::SoftBreak => self.separate(Sep::Soft),
            Event::HardBreak | Event::Rule => self.separate(Sep::Line),
            Event::Start(Tag::Image { .. }) => self.skip += 1,
            Event::End(TagEnd::Image) => self.skip = self.skip.saturating_sub(1),
            Event::Start(Tag::Link { link_type, .. }) => {
                let autolink = *link_type == LinkType::Autolink;
                self.links.push(autolink);
                self.skip += usize::from(autolink);
            }
            Event::End(TagEnd::Link) => {
                let autolink = self.links.pop() == Some(true);
                self.skip = self.skip.saturating_sub(usize::from(autolink));
            }
            Event::Start(Tag::CodeBlock(_)) => {
                self.in_code_block = true;
                self.separate(Sep::Line);
            }
            Event::End(TagEnd::CodeBlock) => {
                self.in_code_block = false;
                self.separate(Sep::Line);
            }
            // Cells of a row stay on one line.
            Event::Start(Tag::TableCell) => {}
            Event::End(TagEnd::TableCell) => self.separate(Sep::Space),
            // Every other block starts and ends a line.
            Event::Start(_) | Event::End(_) if !is_inline_event(event) => self.separate(Sep::Line),
            // Raw HTML tags, footnote references and everything else carry no text of their own.
            _ => {}
        }
    }

    fn separate(&mut self, sep: Sep) {
        let sep = if self.single_line && sep == Sep::Line {
            Sep::Space
        } else {
            sep
        };
        self.sep = self.sep.max(sep);
    }

    /// Appends text, collapsing each run of whitespace to one space separator.
    fn text(&mut self, text: &str) {
        let mut words = text.split(char::is_whitespace);
        if let Some(first) = words.next() {
            self.word(first);
        }
        for word in words {
            self.separate(Sep::Space);
            self.word(word);
        }
    }

    /// Continues reading a `(destination)` after a literal `]`, across text events (pulldown-cmark splits text at
    /// `_`/`*`). `depth` is the parenthesis depth so far and `consumed` the destination text read so far.
    fn scan_destination(&mut self, text: &str, mut depth: usize, mut consumed: String) {
        for (i, c) in text.char_indices() {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        // A complete `](destination)`: drop it and the `[` it closes.
                        self.drop_open_bracket();
                        self.text(text.get(i + 1..).unwrap_or_default());
                        return;
                    }
                }
                c if c.is_whitespace() => {
                    self.abandon_destination(&consumed);
                    self.text(text);
                    return;
                }
                _ => {}
            }
        }
        consumed.push_str(text);
        self.remnant = Remnant::Destination { depth, consumed };
    }

    /// Emits, as ordinary text, a `]` and the destination-like text that followed it.
    fn abandon_destination(&mut self, consumed: &str) {
        self.close_bracket();
        self.text(consumed);
    }

    /// Emits a literal `]` that turned out not to start a link remnant.
    fn close_bracket(&mut self) {
        self.open_brackets.pop();
        self.word("]");
    }

    /// Marks the innermost literal `[` still open for removal (done in one pass by [`TextExtractor::finish`]).
    fn drop_open_bracket(&mut self) {
        if let Some(at) = self.open_brackets.pop()
            && self.out.as_bytes().get(at) == Some(&b'[')
        {
            self.dropped_brackets.push(at);
        }
    }

    /// Appends a whitespace-free piece, preceded by the separator owed; returns the byte offset it starts at.
    fn word(&mut self, word: &str) -> usize {
        let Some(first) = word.chars().next() else {
            return self.out.len();
        };
        if let Some(last) = self.out.chars().next_back() {
            match self.sep {
                Sep::None => {}
                Sep::Soft if is_cjk_wide(last) && is_cjk_wide(first) => {}
                Sep::Soft | Sep::Space => self.out.push(' '),
                Sep::Line => self.out.push('\n'),
            }
        }
        self.sep = Sep::None;
        let at = self.out.len();
        self.out.push_str(word);
        at
    }

    fn finish(mut self) -> String {
        match std::mem::replace(&mut self.remnant, Remnant::None) {
            Remnant::None => {}
            Remnant::Bracket => self.close_bracket(),
            Remnant::Destination { consumed, .. } => self.abandon_destination(&consumed),
        }
        if self.dropped_brackets.is_empty() {
            return self.out;
        }
        // Remove the dropped brackets and tidy the spaces and empty lines they leave behind. Elsewhere the output
        // never has leading, trailing or doubled separators, so normalizing all of them only affects those spots.
        self.dropped_brackets.sort_unstable();
        let mut dropped = self.dropped_brackets.iter().peekable();
        let mut out = String::with_capacity(self.out.len());
        let mut pending: Option<char> = None;
        for (i, c) in self.out.char_indices() {
            if dropped.next_if_eq(&&i).is_some() {
                continue;
            }
            if c == ' ' || c == '\n' {
                pending = if c == '\n' || pending == Some('\n') {
                    Some('\n')
                } else {
                    Some(' ')
                };
                continue;
            }
            if let Some(separator) = pending.take()
                && !out.is_empty()
            {
                out.push(separator);
            }
            out.push(c);
        }
        out
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Character classes
// ---------------------------------------------------------------------------------------------------------------

/// Han, Hiragana, Katakana or Hangul letter (each counts as a word of its own).
fn is_cjk_letter(c: char) -> bool {
    matches!(c,
        '\u{2E80}'..='\u{2FDF}'      // CJK radicals, Kangxi radicals
        | '\u{3005}'..='\u{3007}'    // 々 〆 〇
        | '\u{3021}'..='\u{3029}'    // Hangzhou numerals
        | '\u{3038}'..='\u{303C}'
        | '\u{3040}'..='\u{30FF}'    // Hiragana, Katakana
        | '\u{3100}'..='\u{312F}'    // Bopomofo
        | '\u{3130}'..='\u{318F}'    // Hangul compatibility jamo
        | '\u{31A0}'..='\u{31BF}'
        | '\u{31F0}'..='\u{31FF}'    // Katakana phonetic extensions
        | '\u{3400}'..='\u{4DBF}'    // CJK extension A
        | '\u{4E00}'..='\u{9FFF}'    // CJK unified ideographs
        | '\u{A960}'..='\u{A97F}'    // Hangul jamo extended A
        | '\u{AC00}'..='\u{D7FF}'    // Hangul syllables, jamo extended B
        | '\u{1100}'..='\u{11FF}'    // Hangul jamo
        | '\u{F900}'..='\u{FAFF}'    // CJK compatibility ideographs
        | '\u{FF66}'..='\u{FFDC}'    // half-width Katakana and Hangul
        | '\u{1B000}'..='\u{1B16F}'  // Kana supplement / extended
        | '\u{20000}'..='\u{3FFFF}'  // CJK extensions B..
    ) && c.is_alphanumeric()
}

/// CJK and full-width punctuation (including the curly quotes, ellipsis and dashes used in Chinese text).
fn is_cjk_punct(c: char) -> bool {
    match c {
        '\u{3001}'..='\u{303F}' | '\u{FF01}'..='\u{FF65}' => !c.is_alphanumeric(),
        '\u{FE10}'..='\u{FE1F}' | '\u{FE30}'..='\u{FE4F}' => true,
        '“' | '”' | '…' | '‥' | '—' | '\u{30FB}' => true,
        _ => false,
    }
}

/// Punctuation that opens something: a cut goes before it.
fn is_opening_punct(c: char) -> bool {
    matches!(
        c,
        '“' | '（'
            | '《'
            | '〈'
            | '「'
            | '『'
            | '【'
            | '〔'
            | '〖'
            | '〘'
            | '〚'
            | '［'
            | '｛'
            | '｟'
            | '〝'
    )
}

/// Punctuation that ends or closes something: a cut goes after it.
fn is_closing_punct(c: char) -> bool {
    is_cjk_punct(c) && !is_opening_punct(c)
}

/// Characters written full width, between which a soft line break adds no space.
fn is_cjk_wide(c: char) -> bool {
    is_cjk_letter(c) || is_cjk_punct(c)
}

/// Common combining marks (accents written as separate code points, kana voicing marks).
fn is_combining_mark(c: char) -> bool {
    matches!(c,
        '\u{0300}'..='\u{036F}'
        | '\u{1AB0}'..='\u{1AFF}'
        | '\u{1DC0}'..='\u{1DFF}'
        | '\u{20D0}'..='\u{20FF}'
        | '\u{FE20}'..='\u{FE2F}'
        | '\u{3099}'..='\u{309A}'
    )
}

/// Whether `c`, inside a Latin-style word, continues it: an apostrophe or hyphen before another letter/digit, or
/// a decimal/thousands separator between two digits.
fn joins_word(c: char, prev_numeric: bool, next: Option<char>) -> bool {
    let Some(next) = next else {
        return false;
    };
    match c {
        '\'' | '’' | '\u{02BC}' | '-' | '\u{2010}' | '\u{2011}' => {
            next.is_alphanumeric() && !is_cjk_letter(next)
        }
        '.' | ',' => prev_numeric && next.is_numeric(),
        _ => false,
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Sanitizer
// ---------------------------------------------------------------------------------------------------------------

/// The ammonia configuration, built once: ammonia's defaults plus heading ids, `language-*` classes on `<code>`,
/// `text-align` on table cells and `nofollow` links.
static SANITIZER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut builder = ammonia::Builder::default();
    builder
        .add_tag_attributes("code", &["class"])
        .add_tag_attributes("th", &["style"])
        .add_tag_attributes("td", &["style"])
        .link_rel(Some("noopener noreferrer nofollow"))
        .attribute_filter(filter_attribute);
    for heading in ["h1", "h2", "h3", "h4", "h5", "h6"] {
        builder.add_tag_attributes(heading, &["id"]);
    }
    builder
});

/// Narrows the extra attributes allowed above to the values the renderer produces.
fn filter_attribute<'u>(element: &str, attribute: &str, value: &'u str) -> Option<Cow<'u, str>> {
    match (element, attribute) {
        ("code", "class") => {
            let language = value.strip_prefix("language-")?;
            let valid = !language.is_empty()
                && language
                    .chars()
                    .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '+' | '#' | '.'));
            valid.then_some(Cow::Borrowed(value))
        }
        (_, "style") => {
            let (property, align) = value.split_once(':')?;
            let align = align.trim().trim_end_matches(';').trim();
            (property.trim().eq_ignore_ascii_case("text-align")
                && matches!(align, "left" | "center" | "right"))
            .then(|| Cow::Owned(format!("text-align: {align}")))
        }
        _ => Some(Cow::Borrowed(value)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_and_event_handlers_are_removed() {
        let html = render_html(
            "Hi <script>alert(1)</script> there\n\n<img src=\"x.png\" onerror=\"alert(2)\">\n\n\
             <a href=\"https://e.com\" onclick=\"steal()\">x</a>\n\n<style>p{}</style>\
             <iframe src=\"https://e.com\"></iframe><object data=\"x\"></object>",
        );
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("alert(1)"), "{html}");
        assert!(!html.contains("onerror"), "{html}");
        assert!(!html.contains("onclick"), "{html}");
        assert!(!html.contains("<style"), "{html}");
        assert!(!html.contains("<iframe"), "{html}");
        assert!(!html.contains("<object"), "{html}");
        assert!(html.contains("<img src=\"x.png\">"), "{html}");
        assert!(html.contains("Hi"), "{html}");
    }

    #[test]
    fn javascript_and_data_urls_are_removed() {
        let html = render_html(
            "[click](javascript:alert(1)) [raw](<JavaScript:alert(1)>) ![img](data:image/png;base64,AAAA) \
             <a href=\"javascript:void(0)\">raw</a>",
        );
        assert!(!html.to_ascii_lowercase().contains("javascript:"), "{html}");
        assert!(!html.contains("data:"), "{html}");
        assert!(html.contains("click"), "{html}");
    }

    #[test]
    fn links_get_rel() {
        let html = render_html("[产业家](https://www.woshipm.com/u/1315455)");
        assert!(
            html.contains("href=\"https://www.woshipm.com/u/1315455\""),
            "{html}"
        );
        assert!(
            html.contains("rel=\"noopener noreferrer nofollow\""),
            "{html}"
        );
    }

    #[test]
    fn markup_survives_sanitizing() {
        let md = "# 标题\n\n*em* **strong** ~~del~~\n\n> 引用\n\n- a\n- b\n\n1. one\n\n\
                  ![alt text](https://img.example/a.png \"Title\")\n\n\
                  ```rust\nfn main() {}\n```\n\n| 左 | 中 | 右 |\n|:--|:-:|--:|\n| 1 | 2 | 3 |\n";
        let html = render_html(md);
        for needle in [
            "<em>em</em>",
            "<strong>strong</strong>",
            "<del>del</del>",
            "<blockquote>",
            "<ul>",
            "<ol>",
            "<li>a</li>",
            "<img src=\"https://img.example/a.png\" alt=\"alt text\" title=\"Title\">",
            "<pre><code class=\"language-rust\">fn main() {}",
            "<table>",
            "<th style=\"text-align: left\">左</th>",
            "<td style=\"text-align: center\">2</td>",
            "<td style=\"text-align: right\">3</td>",
            "<h1 id=\"标题\">标题</h1>",
        ] {
            assert!(html.contains(needle), "missing {needle} in {html}");
        }
    }

    #[test]
    fn raw_html_attributes_are_narrowed() {
        let html = render_html(
            "<code class=\"language-js evil\">a</code> <code class=\"x\">b</code> \
             <td style=\"background:url(x)\">c</td> <p style=\"color:red\">d</p>",
        );
        assert!(!html.contains("evil"), "{html}");
        assert!(!html.contains("class=\"x\""), "{html}");
        assert!(!html.contains("style"), "{html}");
    }

    #[test]
    fn heading_ids_match_toc_anchors_including_duplicates() {
        let md = "# Intro\n\n## Setup\n\ntext\n\n## Setup\n\n### Setup\n\n## Setup-1\n\n## ！！！\n\n## \n\n\
                  Setext *heading*\n---------------\n";
        let toc = table_of_contents(md);
        let anchors: Vec<&str> = toc.iter().map(|e| e.anchor.as_str()).collect();
        assert_eq!(
            anchors,
            [
                "intro",
                "setup",
                "setup-1",
                "setup-2",
                "setup-1-1",
                "section",
                "section-1",
                "setext-heading"
            ]
        );
        let html = render_html(md);
        let mut rest = html.as_str();
        for entry in &toc {
            let needle = format!("<h{} id=\"{}\">", entry.level, entry.anchor);
            let at = rest
                .find(&needle)
                .unwrap_or_else(|| panic!("{needle} not found in order in {html}"));
            rest = &rest[at + needle.len()..];
        }
        assert_eq!(html.matches(" id=\"").count(), toc.len());
    }

    #[test]
    fn chinese_heading_gets_readable_anchor() {
        let toc = table_of_contents("## 一、DeepSeek，共识背后的“共振”\n\n正文");
        assert_eq!(
            toc,
            [TocEntry {
                level: 2,
                text: "一、DeepSeek，共识背后的“共振”".to_owned(),
                anchor: "一-deepseek-共识背后的-共振".to_owned(),
            }]
        );
        let html = render_html("## 一、DeepSeek，共识背后的“共振”");
        assert!(
            html.contains("id=\"一-deepseek-共识背后的-共振\""),
            "{html}"
        );
    }

    #[test]
    fn toc_text_strips_inline_markup() {
        let toc = table_of_contents(
            "# Title with *em*, `code` and [link](https://x.y)\n\n#### ![logo](l.png) **四级**  标题\n",
        );
        assert_eq!(toc.len(), 2);
        assert_eq!(toc[0].text, "Title with em, code and link");
        assert_eq!(toc[0].anchor, "title-with-em-code-and-link");
        assert_eq!(toc[0].level, 1);
        assert_eq!(toc[1].text, "四级 标题");
        assert_eq!(toc[1].level, 4);
        assert_eq!(toc[1].anchor, "四级-标题");
    }

    #[test]
    fn slugify_examples() {
        assert_eq!(slugify("互联网大厂"), "互联网大厂");
        assert_eq!(slugify("B端产品"), "b端产品");
        assert_eq!(slugify("Headless CMS"), "headless-cms");
        assert_eq!(slugify("API设计"), "api设计");
        assert_eq!(slugify("  --Hello,   World!--  "), "hello-world");
        assert_eq!(slugify("ÄÖÜ Straße"), "äöü-straße");
        assert_eq!(slugify("Cafe\u{301} Ω"), "cafe\u{301}-ω");
        assert_eq!(slugify("！？"), "");
        assert_eq!(slugify(""), "");
    }

    #[test]
    fn word_count_examples() {
        assert_eq!(word_count("DeepSeek开源"), 3);
        assert_eq!(word_count("Hello, world!"), 2);
        assert_eq!(word_count("中国互联网"), 5);
        assert_eq!(word_count("don't stop-motion V3 2025"), 4);
        assert_eq!(word_count("“共振”。，！"), 2);
        assert_eq!(word_count("pi is 3.14, 40,000 articles"), 5);
        assert_eq!(word_count("ひらがな カタカナ 한국어"), 11);
        assert_eq!(word_count("  \n\t "), 0);
        assert_eq!(word_count(""), 0);
        assert_eq!(word_count("a-"), 1);
        assert_eq!(word_count("DeepSeek-中国"), 3);
    }

    #[test]
    fn reading_time_rounds_up() {
        assert_eq!(reading_time_minutes(0), 1);
        assert_eq!(reading_time_minutes(1), 1);
        assert_eq!(reading_time_minutes(400), 1);
        assert_eq!(reading_time_minutes(401), 2);
        assert_eq!(reading_time_minutes(7200), 18);
        assert_eq!(reading_time_minutes(usize::MAX), i32::MAX);
    }

    #[test]
    fn excerpt_never_exceeds_limit() {
        let texts = [
            "",
            " ",
            "a",
            "中国互联网大厂的想象力还在吗？杭州和深圳的押注告诉我们，这个时间并不会太久远。",
            "When we moved our editorial site from a monolithic CMS to a headless setup, the hardest part was not.",
            "  lots   of\n\n whitespace \t here  ",
            "Supercalifragilisticexpialidocious",
            "emoji 🎉🎉🎉 and 中文“引号”（括号）",
        ];
        for text in texts {
            for max in 0..=40 {
                let out = excerpt(text, max);
                assert!(out.chars().count() <= max, "{out:?} exceeds {max}");
                assert!(!out.contains("  "), "{out:?}");
                assert_eq!(out.trim(), out, "{out:?}");
            }
            assert_eq!(
                excerpt(text, usize::MAX),
                text.split_whitespace().collect::<Vec<_>>().join(" ")
            );
        }
        assert_eq!(excerpt("hello", 0), "");
        assert_eq!(excerpt("hello", 1), "…");
        assert_eq!(excerpt("h", 1), "h");
        assert_eq!(excerpt("hello", 5), "hello");
        assert_eq!(excerpt("hello!", 5), "hell…");
    }

    #[test]
    fn excerpt_prefers_natural_boundaries() {
        assert_eq!(excerpt("the quick brown fox jumps", 13), "the quick…");
        assert_eq!(excerpt("the  quick\nbrown fox", 16), "the quick brown…");
        // Cut after ending punctuation, keep it.
        assert_eq!(
            excerpt("杭州和深圳的押注告诉我们，这个时间并不会太久远。", 16),
            "杭州和深圳的押注告诉我们，…"
        );
        // Cut before an opening quote.
        assert_eq!(
            excerpt("这个春节的焦点是“DeepSeek”模型", 12),
            "这个春节的焦点是…"
        );
        // No boundary in the second half: hard cut.
        assert_eq!(
            excerpt("Supercalifragilisticexpialidocious", 10),
            "Supercali…"
        );
        assert_eq!(excerpt("ab cdefghijklmnop", 10), "ab cdefgh…");
    }

    #[test]
    fn plain_text_of_sample_body() {
        // An excerpt of /work/shared/samples/woshipm-6183097.md (body after the `---` line) plus a line of
        // woshipm-6190001.md with the CJK bold pattern CommonMark alone leaves unmatched.
        let body = r#"## 写在DeepSeek持续发酵背后：中国互联网大厂的想象力还在吗？

[![](https://image.woshipm.com/wp-files/2021/08/JlVqJw3OtMLD2aiI6gUE.jpg!/both/72x72)](https://www.woshipm.com/u/1315455)

[产业家](https://www.woshipm.com/u/1315455) ![](https://static.woshipm.com/tag/1122_1@2x.png)![](https://static.woshipm.com/tag/2105_1@2x.png) 关注

2025-02-21

> 如果说在AI技术尚不足以构成产品内核的如今，创新的AI技术尚且很难对社交、电商、本地生活、供应链、游戏等基本盘业务构成威胁。 
> 
> 杭州和深圳的押注告诉我们，这个时间并不会太久远。 

![](https://image.woshipm.com/2023/04/13/d34ae8a8-d9e1-11ed-9d7a-00163e0b5ff3.jpg)

碎发，银框眼镜，习惯不打领结。这个春节，梁文峰和他的DeepSeek成了绝对的焦点。

如果把时间拉回今年1月，没有人能想到这个结局。**“去年我们也有关注DeepSeek，但当时没有这么惊艳。”一位投资人告诉产业家，“但一个春节后，一切都变了。”**

**从世界AI格局的视角来看，这是独属于中国AI的突破。**

[![](https://image.woshipm.com/2023/08/02/f7cafd68-30e3-11ee-9da3-00163e0b5ff3.png)

B端究竟需要什么样的产品经理？

查看详情 >

](https://ke.qidianla.com/courses/bcpm)

但DeepSeek的出现让这些布局在外界眼中似乎成了“陈旧的包袱”。其中几个被鲜明提出的问题恰是：**之前大量投入到预训练的算力布局是否被浪费了？**

## 一、DeepSeek，共识背后的“共振”

**第一，重复建设严重。**五套后台意味着五套权限、五套审核、五套数据报表。

1. 标签泛滥：上线三个月标签数从200涨到4000。
2. 统计失真：阅读量在高并发下出现丢失。
"#;
        let text = plain_text(body);
        assert!(!text.contains("**"), "{text}");
        assert!(!text.contains("]("), "{text}");
        assert!(!text.contains("http"), "{text}");
        assert!(!text.contains('#'), "{text}");
        assert!(!text.contains("\n\n"), "{text}");
        assert_eq!(text.trim(), text);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[..3],
            [
                "写在DeepSeek持续发酵背后：中国互联网大厂的想象力还在吗？",
                "产业家 关注",
                "2025-02-21"
            ]
        );
        assert!(lines.contains(&"一、DeepSeek，共识背后的“共振”"));
        assert!(
            lines.contains(&"第一，重复建设严重。五套后台意味着五套权限、五套审核、五套数据报表。")
        );
        assert!(lines.contains(&"标签泛滥：上线三个月标签数从200涨到4000。"));
        assert!(lines.contains(&"杭州和深圳的押注告诉我们，这个时间并不会太久远。"));
        assert!(lines.contains(&"B端究竟需要什么样的产品经理？"));
        assert!(lines.contains(&"查看详情 >"));
        assert!(!text.contains('['), "{text}");

        let html = render_html(body);
        assert!(
            html.contains("<strong>第一，重复建设严重。</strong>五套后台"),
            "{html}"
        );
        assert!(!html.contains("**"), "{html}");
    }

    #[test]
    fn plain_text_structure() {
        let md = "Intro line one\nline two\n\n中文第一行\n第二行\n\n\n\n- item *a*\n- item `b`\n  - nested\n\n\
                  | h1 | h2 |\n|----|----|\n| c1 | c2 |\n\n```\ncode line\n\n\n  indented\n```\n\n\
                  See <https://example.com> and <span>inline</span> html.<br>\n\n<div>\nblock html\n</div>\n\n---\n\nEnd  ";
        assert_eq!(
            plain_text(md),
            "Intro line one line two\n中文第一行第二行\nitem a\nitem b\nnested\nh1 h2\nc1 c2\ncode line\nindented\n\
             See and inline html.\nEnd"
        );
        assert_eq!(plain_text(""), "");
        assert_eq!(plain_text("   \n\n  "), "");
        assert_eq!(plain_text("![only an image](x.png)"), "");
    }

    #[test]
    fn plain_text_drops_split_link_remnants() {
        // A scraped "card" link whose text spans paragraphs (woshipm-6183097.md) is literal text in CommonMark.
        let md = "尽管如此。\n\n[![](https://image.woshipm.com/a.png)\n\nB端究竟需要什么样的产品经理？\n\n\
                  查看详情 >\n\n](https://ke.qidianla.com/courses/bcpm)\n\n但DeepSeek的出现。";
        assert_eq!(
            plain_text(md),
            "尽管如此。\nB端究竟需要什么样的产品经理？\n查看详情 >\n但DeepSeek的出现。"
        );
        assert_eq!(
            plain_text("[开头\n\n结尾](https://x.y/a_(b)) 后文"),
            "开头\n结尾 后文"
        );
        // Ordinary brackets are text and stay.
        assert_eq!(plain_text("see [1] and [x](y) [a]"), "see [1] and x [a]");
        assert_eq!(
            plain_text("[not a link](has spaces)"),
            "[not a link](has spaces)"
        );
        assert_eq!(plain_text("## [草稿]"), "[草稿]");
        assert_eq!(table_of_contents("## [草稿] 标题")[0].anchor, "草稿-标题");
        assert_eq!(plain_text("]"), "]");
        assert_eq!(plain_text("a ]"), "a ]");
    }

    #[test]
    fn cjk_strong_fixup_is_conservative() {
        // Literal asterisks that were never meant as emphasis stay literal.
        assert_eq!(plain_text("a ** b ** c"), "a ** b ** c");
        assert_eq!(plain_text("5 * 3 = 15"), "5 * 3 = 15");
        assert_eq!(plain_text("**only one。**"), "only one。");
        assert_eq!(plain_text("`**code。**五`"), "**code。**五");
        assert_eq!(plain_text("```\n**\n```"), "**");
        let html = render_html("**完成。**然后 **继续，**接着");
        assert_eq!(
            html.trim(),
            "<p><strong>完成。</strong>然后 <strong>继续，</strong>接着</p>"
        );
        // The fixup never pairs across inline containers.
        let html = render_html("**甲。*乙*丙");
        assert!(!html.contains("<strong>"), "{html}");
    }

    #[test]
    fn never_panics_on_odd_input() {
        for md in [
            "",
            "#",
            "######",
            "* * *",
            "**",
            "****",
            "<",
            "[](",
            "| a |\n|-|",
            "\u{0}",
            "#  \n##",
        ] {
            let _ = render_html(md);
            let _ = plain_text(md);
            let _ = table_of_contents(md);
        }
        assert_eq!(
            table_of_contents("#\n").first().map(|e| e.anchor.as_str()),
            Some("section")
        );
    }
}
