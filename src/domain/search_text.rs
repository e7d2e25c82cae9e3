//! Chinese-aware text segmentation for full-text search.
//!
//! Neither Postgres (`to_tsvector('simple', …)`) nor SQLite FTS5 (`unicode61`)
//! can split Chinese text into words, so the server does it: every searchable
//! field is turned into a string of space-separated *index terms* before it is
//! stored, and every query is turned into a list of *query terms* the same
//! way. The database then only has to match whole space-separated tokens.
//!
//! # How text is segmented
//!
//! Both sides run the same pipeline, so that a word produces the same token
//! wherever it occurs:
//!
//! 1. **Normalise** every character on its own: full-width ASCII forms
//!    (`ＡＩ`, `２０２５`) become ASCII, then letters are lower-cased
//!    (`DeepSeek` → `deepseek`). User-dictionary words are normalised the
//!    same way when they are loaded, so dictionary matching is
//!    case-insensitive and `B端`, `b端` and `Ｂ端` are one word.
//! 2. **Split into runs of letters and digits** (`char::is_alphanumeric`, any
//!    script). Everything else — whitespace, punctuation, symbols, emoji,
//!    combining marks, and the query-syntax characters `& | ! ( ) : * ' " \ % _`
//!    — only separates runs and never reaches a term. `node.js` gives `node`
//!    and `js`; `C++` gives `c`.
//! 3. A run **without Han characters** (`dataloader`, `gpt4`, `2025`,
//!    `café`, `привет`) is one word; jieba never sees it, so an English word
//!    is never split and never yields sub-words (`email` does not contain the
//!    term `ai`).
//! 4. A run **with Han characters** is cut by jieba (`cut`, HMM on, so
//!    unknown words such as names are recognised). Adjacent pieces that
//!    contain no Han character are joined again (jieba emits non-ASCII
//!    letters such as `é` or kana one by one), so `café文化` gives `café` and
//!    `文化`.
//!
//! The **index side** ([`Segmenter::index_terms`]) then emits, for each word
//! of a Han run, the dictionary words inside it and then the word itself —
//! what jieba's `cut_for_search` does (2- and 3-character dictionary
//! sub-words of longer words), extended to longer sub-words of words of five
//! or more characters, so the index of `B端产品经理` holds `b端`, `产品`,
//! `经理`, `b端产品`, `产品经理` and `b端产品经理`. A stretch of Latin letters
//! or digits inside a Han run that is not a word of its own (the `ai` of
//! `AI应用`) is emitted too, so the query `AI` finds `AI应用`.
//!
//! The **query side** ([`Segmenter::query_terms`]) keeps only the words
//! (jieba `cut`), so a query term is always a whole word, and drops single
//! Han characters from multi-character queries: `中台` must not match a text
//! that merely contains `中` and `台`. Since the query's words are the index's
//! words (or their dictionary sub-words), requiring every query term finds
//! the documents that contain the query's words.
//!
//! # Dictionary
//!
//! [`Segmenter::new`] loads jieba's default dictionary, the entries of that
//! dictionary that contain upper-case Latin letters again in lower case (so
//! `A轮` and `IP地址` still match after normalisation), and the domain terms
//! of `dict/user.txt`, embedded at compile time. Building a segmenter is
//! expensive (about a second in a debug build, mostly jieba's 350 000-word
//! dictionary): build one at start-up and share it (it is `Send + Sync`,
//! e.g. in an `Arc`).
//!
//! Highlighting ([`highlight`], [`snippet`]) works on the original text and
//! finds the terms with the same character normalisation, case-insensitively;
//! a term that starts or ends with a Latin letter or digit only matches at a
//! word boundary on that side, as in the index.

use std::path::Path;

use jieba_rs::Jieba;

/// Longest query (in characters) that is searched; longer queries are cut to this.
pub const MAX_QUERY_CHARS: usize = 100;
/// Most terms a query keeps (after dedup).
pub const MAX_QUERY_TERMS: usize = 16;

/// The built-in domain dictionary (`dict/user.txt`).
const BUILTIN_USER_DICT: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/dict/user.txt"));

/// Single Han characters that are never a query term (particles, pronouns,
/// conjunctions and the like).
const QUERY_STOPWORDS: &[char] = &[
    '的', '了', '是', '在', '和', '与', '及', '等', '也', '就', '都', '而', '或', '被', '把', '从',
    '对', '为', '以', '之', '其', '这', '那', '个', '一', '么', '吗', '呢', '吧', '啊',
];

/// Words of jieba's default dictionary written with upper-case Latin letters
/// (with their frequency and tag there). Text is lower-cased before it is
/// segmented, so these are added again in lower case; without them `A轮`
/// would become the terms `a` and `轮`.
const DEFAULT_DICT_UPPERCASE_WORDS: &[(&str, usize, &str)] = &[
    ("4S店", 3, "n"),
    ("AA制", 3, "n"),
    ("AB型", 3, "n"),
    ("A型", 3, "n"),
    ("A座", 3, "n"),
    ("A股", 3, "n"),
    ("A轮", 3, "n"),
    ("BB机", 3, "n"),
    ("BP机", 3, "n"),
    ("B型", 3, "n"),
    ("B座", 3, "n"),
    ("B股", 3, "n"),
    ("B超", 3, "n"),
    ("B轮", 3, "n"),
    ("CALL机", 3, "n"),
    ("CD机", 3, "n"),
    ("CD盒", 3, "n"),
    ("C座", 3, "n"),
    ("C盘", 3, "n"),
    ("C语言", 3, "n"),
    ("D座", 3, "n"),
    ("D版", 3, "n"),
    ("D盘", 3, "n"),
    ("E化", 3, "n"),
    ("E座", 3, "n"),
    ("E盘", 3, "n"),
    ("E通", 3, "n"),
    ("F座", 3, "n"),
    ("F盘", 3, "n"),
    ("G盘", 3, "n"),
    ("H盘", 3, "n"),
    ("H股", 3, "n"),
    ("IC卡", 3, "n"),
    ("IP卡", 3, "n"),
    ("IP地址", 3, "n"),
    ("IP电话", 3, "n"),
    ("I盘", 3, "n"),
    ("K党", 3, "n"),
    ("K歌之王", 3, "n"),
    ("N年", 3, "n"),
    ("O型", 3, "n"),
    ("PC机", 3, "n"),
    ("PH值", 3, "n"),
    ("QQ号", 3, "n"),
    ("Q版", 3, "n"),
    ("RSS订阅", 3, "n"),
    ("SIM卡", 3, "n"),
    ("T台", 3, "n"),
    ("T型台", 3, "n"),
    ("T恤", 4, "n"),
    ("T恤衫", 3, "n"),
    ("T盘", 3, "n"),
    ("U盘", 3, "n"),
    ("VISA卡", 3, "n"),
    ("X光", 3, "n"),
    ("X光线", 3, "n"),
    ("X射线", 3, "n"),
    ("Z盘", 3, "n"),
    ("大S", 3, "nr"),
    ("小S", 3, "nr"),
    ("阿Q", 3, "n"),
];

/// Largest frequency accepted in a user dictionary (jieba adds frequencies
/// up, so an absurd one could overflow).
const MAX_DICT_FREQ: usize = 1_000_000_000;

/// Longest dictionary sub-word (in characters) looked for inside an index word.
const MAX_SUBWORD_CHARS: usize = 8;

/// A segmenter: jieba with its default dictionary plus an optional user dictionary.
///
/// Building one is expensive (jieba loads a 350 000-word dictionary: about a
/// second in a debug build), so build it once and share it; it is
/// `Send + Sync` and every method takes `&self`.
#[derive(Clone)]
pub struct Segmenter {
    jieba: Jieba,
}

impl std::fmt::Debug for Segmenter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Segmenter").finish_non_exhaustive()
    }
}

impl Default for Segmenter {
    fn default() -> Self {
        Self::new()
    }
}

/// One parsed user-dictionary line.
#[derive(Debug, PartialEq, Eq)]
struct DictEntry {
    /// The word, normalised like text is.
    word: String,
    freq: Option<usize>,
    tag: Option<String>,
}

impl Segmenter {
    /// Jieba's default dictionary plus the built-in domain terms (the contents
    /// of `dict/user.txt`, embedded at compile time).
    ///
    /// Expensive (about a second in a debug build): build one segmenter and
    /// share it. A malformed line of the embedded dictionary is skipped, never
    /// a panic (a unit test checks that it has none).
    pub fn new() -> Self {
        let mut jieba = Jieba::new();
        for &(word, freq, tag) in DEFAULT_DICT_UPPERCASE_WORDS {
            jieba.add_word(&normalize(word), Some(freq), Some(tag));
        }
        let mut segmenter = Segmenter { jieba };
        for (_, entry) in parse_dict(BUILTIN_USER_DICT) {
            if let Ok(entry) = entry {
                segmenter.add_entry(&entry);
            }
        }
        segmenter
    }

    /// Additionally loads a user dictionary file: one term a line (optionally
    /// followed by a frequency and a POS tag, jieba format), blank lines and
    /// lines starting with '#' ignored. Errors as String naming the file and line.
    ///
    /// A term may only contain letters and digits (text is split at anything
    /// else before it is segmented, so any other character could never match);
    /// its Latin letters are lower-cased. Without a frequency, jieba suggests
    /// one that keeps the term whole.
    pub fn with_user_dict(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read user dictionary {}: {e}", path.display()))?;
        let mut entries = Vec::new();
        for (line_no, entry) in parse_dict(&text) {
            match entry {
                Ok(entry) => entries.push(entry),
                Err(msg) => {
                    return Err(format!(
                        "user dictionary {}, line {line_no}: {msg}",
                        path.display()
                    ));
                }
            }
        }
        let mut segmenter = Self::new();
        for entry in &entries {
            segmenter.add_entry(entry);
        }
        Ok(segmenter)
    }

    fn add_entry(&mut self, entry: &DictEntry) {
        self.jieba
            .add_word(&entry.word, entry.freq, entry.tag.as_deref());
    }

    /// Index terms of a document field: jieba cut_for_search (HMM on), Latin
    /// words lower-cased, punctuation/whitespace/symbols dropped, tokens joined
    /// by single spaces.
    ///
    /// For every word, the dictionary words inside it come first and then the
    /// word itself (`互联网大厂` gives `互联 联网 大厂 互联网 互联网大厂`), as
    /// jieba's `cut_for_search` does, extended to sub-words longer than three
    /// characters. Mixed text such as `DeepSeek开源` gives `deepseek 开源`;
    /// a Latin stretch inside a mixed word is emitted too (`AI应用` gives
    /// `应用 ai应用 ai`). Terms repeat as often as they occur (ranking counts
    /// them). Deterministic: the same text always gives the same string.
    pub fn index_terms(&self, text: &str) -> String {
        let norm = normalize(text);
        let mut out = String::with_capacity(norm.len() + norm.len() / 2);
        for run in alphanumeric_runs(&norm) {
            if !run.chars().any(is_han) {
                push_term(&mut out, run);
                continue;
            }
            let words = self.run_words(run);
            for &(start, end) in &words {
                let word = &run[start..end];
                self.push_subwords(&mut out, word);
                push_term(&mut out, word);
            }
            // Latin/digit stretches that are not a word of their own.
            for (start, end) in non_han_stretches(run) {
                if !words.contains(&(start, end)) {
                    push_term(&mut out, &run[start..end]);
                }
            }
        }
        out
    }

    /// Query terms: cut the query to MAX_QUERY_CHARS, segment with jieba `cut`
    /// (HMM on) so that a query term is a whole word, lower-case Latin, drop
    /// punctuation/whitespace/symbols and single-character stopword particles,
    /// dedup keeping order, keep at most MAX_QUERY_TERMS.
    ///
    /// Single Han characters are dropped whenever the query has another term,
    /// so a query longer than one character only has words as terms; only a
    /// query made of nothing but single Han characters (`猫`, or `猫 狗`) keeps
    /// them. Stopword particles (`的 了 是 在 和 …`) are always dropped.
    ///
    /// Every returned term consists only of letters/digits (any script), so it
    /// is safe in a tsquery or an FTS5 query after quoting: none of
    /// `& | ! ( ) : * ' " \ % _` survives. Returns an empty `Vec` for an empty
    /// or all-punctuation (or all-stopword) query.
    pub fn query_terms(&self, query: &str) -> Vec<String> {
        let query: String = query.chars().take(MAX_QUERY_CHARS).collect();
        let norm = normalize(&query);
        let mut terms: Vec<String> = Vec::new();
        let mut single_hans: Vec<String> = Vec::new();
        for run in alphanumeric_runs(&norm) {
            for (start, end) in self.run_words(run) {
                let word = &run[start..end];
                let mut chars = word.chars();
                let single_han = match (chars.next(), chars.next()) {
                    (Some(c), None) if is_han(c) => Some(c),
                    _ => None,
                };
                match single_han {
                    Some(c) if QUERY_STOPWORDS.contains(&c) => {}
                    Some(_) => push_unique(&mut single_hans, word),
                    None => push_unique(&mut terms, word),
                }
            }
        }
        if terms.is_empty() {
            terms = single_hans;
        }
        terms.truncate(MAX_QUERY_TERMS);
        terms
    }

    /// The words of one run of letters and digits, as byte ranges of `run`:
    /// the run itself when it has no Han character, otherwise jieba's `cut`
    /// (HMM on) with adjacent Han-free pieces joined.
    fn run_words(&self, run: &str) -> Vec<(usize, usize)> {
        if !run.chars().any(is_han) {
            return vec![(0, run.len())];
        }
        let mut words: Vec<(usize, usize, bool)> = Vec::new();
        for token in self.jieba.cut(run, true) {
            let (start, end) = (token.byte_start, token.byte_end);
            if start >= end || end > run.len() {
                continue;
            }
            let has_han = token.word.chars().any(is_han);
            match words.last_mut() {
                Some(last) if !last.2 && !has_han && last.1 == start => last.1 = end,
                _ => words.push((start, end, has_han)),
            }
        }
        words
            .into_iter()
            .map(|(start, end, _)| (start, end))
            .collect()
    }

    /// Pushes the dictionary words inside `word` (shorter than it, at most
    /// [`MAX_SUBWORD_CHARS`]), shortest first and left to right, like
    /// `cut_for_search`. Only words with a Han character have sub-words.
    fn push_subwords(&self, out: &mut String, word: &str) {
        if !word.chars().any(is_han) {
            return;
        }
        let bounds: Vec<usize> = word
            .char_indices()
            .map(|(i, _)| i)
            .chain([word.len()])
            .collect();
        let chars = bounds.len() - 1;
        for len in 2..chars.min(MAX_SUBWORD_CHARS + 1) {
            for start in 0..=chars - len {
                let sub = &word[bounds[start]..bounds[start + len]];
                if self.jieba.has_word(sub) {
                    push_term(out, sub);
                }
            }
        }
    }
}

/// Parses a jieba-format dictionary, yielding each non-blank, non-comment
/// line's number (1-based) and entry or error message.
fn parse_dict(text: &str) -> impl Iterator<Item = (usize, Result<DictEntry, String>)> + '_ {
    text.lines().enumerate().filter_map(|(i, line)| {
        let line = line.trim_start_matches('\u{feff}').trim();
        if line.is_empty() || line.starts_with('#') {
            None
        } else {
            Some((i + 1, parse_dict_line(line)))
        }
    })
}

fn parse_dict_line(line: &str) -> Result<DictEntry, String> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    let (word, rest) = match fields.split_first() {
        Some((word, rest)) => (*word, rest),
        None => return Err("empty entry".to_owned()),
    };
    if let Some(bad) = word.chars().find(|&c| !fold_char(c).is_alphanumeric()) {
        return Err(format!(
            "term {word:?} contains {bad:?}; a term may only contain letters and digits"
        ));
    }
    let is_tag = |s: &str| s.chars().all(|c| c.is_ascii_alphabetic());
    let (freq, tag) = match rest {
        [] => (None, None),
        [one] if is_tag(one) => (None, Some(*one)),
        [freq] => (Some(parse_freq(freq)?), None),
        [freq, tag] if is_tag(tag) => (Some(parse_freq(freq)?), Some(*tag)),
        [_, tag] => return Err(format!("POS tag {tag:?} is not made of ASCII letters")),
        _ => {
            return Err(format!(
                "expected `term [frequency] [tag]`, found {} fields",
                fields.len()
            ));
        }
    };
    Ok(DictEntry {
        word: normalize(word),
        freq,
        tag: tag.map(str::to_owned),
    })
}

fn parse_freq(field: &str) -> Result<usize, String> {
    match field.parse::<usize>() {
        Ok(freq) if freq <= MAX_DICT_FREQ => Ok(freq),
        Ok(_) => Err(format!("frequency {field} is larger than {MAX_DICT_FREQ}")),
        Err(_) => Err(format!("frequency {field:?} is not a non-negative integer")),
    }
}

/// Normalises one character: full-width ASCII forms to ASCII, the ideographic
/// space to a space, then to lower case (the first character of the lower
/// case, so every character maps to exactly one: `İ` → `i`).
fn fold_char(c: char) -> char {
    let c = match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        _ => c,
    };
    if c.is_ascii() {
        c.to_ascii_lowercase()
    } else {
        c.to_lowercase().next().unwrap_or(c)
    }
}

fn normalize(text: &str) -> String {
    text.chars().map(fold_char).collect()
}

/// A Han character, by the CJK Unified Ideograph ranges jieba segments
/// (the main block, extensions A–F and the compatibility ideographs).
fn is_han(c: char) -> bool {
    matches!(c,
        '\u{4E00}'..='\u{9FFF}'
        | '\u{3400}'..='\u{4DBF}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{2A6DF}'
        | '\u{2A700}'..='\u{2EBEF}'
        | '\u{2F800}'..='\u{2FA1F}'
    )
}

/// Maximal runs of letters and digits.
fn alphanumeric_runs(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|run| !run.is_empty())
}

/// Byte ranges of the maximal stretches of `run` without Han characters.
fn non_han_stretches(run: &str) -> Vec<(usize, usize)> {
    let mut stretches = Vec::new();
    let mut start = None;
    for (i, c) in run.char_indices() {
        match (is_han(c), start) {
            (true, Some(s)) => {
                stretches.push((s, i));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        stretches.push((s, run.len()));
    }
    stretches
}

fn push_term(out: &mut String, term: &str) {
    if term.is_empty() {
        return;
    }
    if !out.is_empty() {
        out.push(' ');
    }
    out.push_str(term);
}

fn push_unique(terms: &mut Vec<String>, term: &str) {
    if !terms.iter().any(|t| t == term) {
        terms.push(term.to_owned());
    }
}

/// Terms to find in a text, normalised, longest first.
struct Matcher {
    terms: Vec<Vec<char>>,
}

impl Matcher {
    fn new(terms: &[String]) -> Self {
        let mut folded: Vec<Vec<char>> = terms
            .iter()
            .map(|t| t.chars().map(fold_char).collect::<Vec<char>>())
            .filter(|t| !t.is_empty())
            .collect();
        // Longest first; ties in a fixed order so the result is deterministic.
        folded.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        folded.dedup();
        Matcher { terms: folded }
    }

    /// Length (in chars) of the longest term occurring at `pos` of the
    /// normalised text. A term that starts (ends) with a Latin letter or
    /// digit must not be preceded (followed) by one, as in the index.
    fn longest_at(&self, folded: &[char], pos: usize) -> Option<usize> {
        let rest = folded.get(pos..)?;
        self.terms
            .iter()
            .find(|term| {
                rest.starts_with(term)
                    && term.first().is_none_or(|&c| {
                        !is_word_char(c)
                            || pos == 0
                            || !folded.get(pos - 1).is_some_and(|&p| is_word_char(p))
                    })
                    && term.last().is_none_or(|&c| {
                        !is_word_char(c)
                            || !folded
                                .get(pos + term.len())
                                .is_some_and(|&n| is_word_char(n))
                    })
            })
            .map(Vec::len)
    }

    /// The first occurrence of any term: position and length in chars.
    fn first(&self, folded: &[char]) -> Option<(usize, usize)> {
        if self.terms.is_empty() {
            return None;
        }
        (0..folded.len()).find_map(|pos| self.longest_at(folded, pos).map(|len| (pos, len)))
    }
}

/// A letter or digit that is not Han: part of a space-delimited word.
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() && !is_han(c)
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '&' => out.push_str("&amp;"),
        '<' => out.push_str("&lt;"),
        '>' => out.push_str("&gt;"),
        '"' => out.push_str("&quot;"),
        '\'' => out.push_str("&#39;"),
        _ => out.push(c),
    }
}

fn highlight_chars(chars: &[char], folded: &[char], matcher: &Matcher) -> String {
    let mut out = String::with_capacity(chars.len() * 3 + 16);
    let mut pos = 0;
    while pos < chars.len() {
        match matcher.longest_at(folded, pos) {
            Some(len) if len > 0 => {
                let end = (pos + len).min(chars.len());
                out.push_str("<mark>");
                for &c in &chars[pos..end] {
                    push_escaped(&mut out, c);
                }
                out.push_str("</mark>");
                pos = end;
            }
            _ => {
                push_escaped(&mut out, chars[pos]);
                pos += 1;
            }
        }
    }
    out
}

/// HTML-escapes `text` and wraps every case-insensitive occurrence of any term
/// in `<mark>…</mark>` (longest term first at each position, non-overlapping).
/// Output is safe to insert as HTML: & < > " ' escaped.
///
/// Terms are compared after the same normalisation as the index (case,
/// full-width forms). A term that starts or ends with a Latin letter or digit
/// only matches at a word boundary on that side, so `ai` is marked in `AI应用`
/// but not in `email`. Empty terms are ignored.
pub fn highlight(text: &str, terms: &[String]) -> String {
    let chars: Vec<char> = text.chars().collect();
    let folded: Vec<char> = chars.iter().map(|&c| fold_char(c)).collect();
    highlight_chars(&chars, &folded, &Matcher::new(terms))
}

/// Characters that end a sentence: a snippet prefers to start after one.
fn is_sentence_end(c: char) -> bool {
    matches!(
        c,
        '。' | '！' | '？' | '；' | '!' | '?' | ';' | '.' | '…' | '\n'
    )
}

/// Characters after which a snippet may start when no sentence ends near.
fn is_soft_break(c: char) -> bool {
    c.is_whitespace() || matches!(c, '，' | ',' | '、' | '：' | ':')
}

/// Where a snippet of at most `max` chars around the match at `pos` (of
/// `len` chars) starts and ends, as char indices into `chars`.
fn snippet_window(chars: &[char], pos: usize, len: usize, max: usize) -> (usize, usize) {
    let n = chars.len();
    let lead = max / 3;
    let earliest = pos.saturating_sub(lead);
    // The sentence that holds the match, or else the earliest clause or word
    // start within reach that leaves some lead, or else a fixed lead.
    let mut start = if let Some(b) = (earliest..pos).rev().find(|&i| is_sentence_end(chars[i])) {
        b + 1
    } else if let Some(b) =
        (earliest..pos.saturating_sub(max / 10)).find(|&i| is_soft_break(chars[i]))
    {
        b + 1
    } else {
        pos.saturating_sub(max / 5)
    };
    // Near the end of the text, use the room left over for more lead.
    if start + max > n {
        let fill = n.saturating_sub(max);
        if fill < start {
            start = match (fill..start)
                .find(|&i| is_sentence_end(chars[i]) || is_soft_break(chars[i]))
            {
                Some(b) => b + 1,
                None => fill,
            };
        }
    }
    while start < pos && chars[start].is_whitespace() {
        start += 1;
    }
    let end = snap_end(chars, start, (start + max).min(n), pos + len);
    (start, end)
}

/// Moves a cut that would split a Latin word back to the preceding space,
/// when one is near and after `keep`.
fn snap_end(chars: &[char], start: usize, end: usize, keep: usize) -> usize {
    let cuts_word = end < chars.len()
        && end > start
        && is_word_char(chars[end])
        && is_word_char(chars[end - 1]);
    if !cuts_word {
        return end;
    }
    let floor = keep.max(start + 1).max(end.saturating_sub(15));
    match (floor..end).rev().find(|&i| chars[i].is_whitespace()) {
        Some(space) => space,
        None => end,
    }
}

/// A snippet of plain `text` around the first occurrence of any term: about
/// `max_chars` characters (Unicode chars), starting a little before the match
/// (at a sentence/whitespace boundary when one is near), with "…" at either
/// end when cut, highlighted with `highlight`. When no term occurs, the first
/// max_chars characters (highlighted, i.e. just escaped). Never panics (char
/// boundaries!).
///
/// The snippet's text (before escaping and marking) is at most `max_chars`
/// characters plus the two ellipses; `max_chars == 0` gives an empty string.
pub fn snippet(text: &str, terms: &[String], max_chars: usize) -> String {
    if max_chars == 0 {
        return String::new();
    }
    let chars: Vec<char> = text.chars().collect();
    let folded: Vec<char> = chars.iter().map(|&c| fold_char(c)).collect();
    let matcher = Matcher::new(terms);
    let n = chars.len();
    if n <= max_chars {
        return highlight_chars(&chars, &folded, &matcher);
    }
    let (start, mut end) = match matcher.first(&folded) {
        Some((pos, len)) => snippet_window(&chars, pos, len, max_chars),
        None => (0, snap_end(&chars, 0, max_chars, 0)),
    };
    while end > start && chars[end - 1].is_whitespace() {
        end -= 1;
    }
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    out.push_str(&highlight_chars(
        &chars[start..end],
        &folded[start..end],
        &matcher,
    ));
    if end < n {
        out.push('…');
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::sync::LazyLock;

    /// One segmenter for all tests: building one takes about a second in debug.
    static SEG: LazyLock<Segmenter> = LazyLock::new(Segmenter::new);

    const DEEPSEEK_TITLE: &str = "写在DeepSeek持续发酵背后：中国互联网大厂的想象力还在吗？";
    const DEEPSEEK_BODY: &str = "但这个在短短几个月内让国内AI玩家达成共识的命题如今也更带来着一些新的思考，\
        即如果技术实力上DeepSeek的能力最强，那么中国各大互联网大厂，在过去两年的布局等于什么？\
        过去两年时间里，在中国的AI版图里，互联网大厂是足够重要的一环。\
        尽管其中的策略有快有慢，有投资激进派，也有开源、闭源派。\
        此外，DeepSeek的“强大”之处不仅在于模型单体能力，其如今有足够强的影响力的最核心关键在于DeepSeek采取的全面开源路线。";
    const CONTENT_TITLE: &str = "从0到1搭建内容中台：一个B端产品经理的复盘";
    const CONTENT_BODY: &str = "内容中台不是一个系统，而是一套让内容被生产、管理、分发和度量的能力。\
        本文复盘了我们团队用九个月时间从零搭建内容中台的过程。\
        去年三月，公司决定把分散在五个业务线的内容生产统一起来。\
        同一篇行业观察，在资讯频道和会员频道需要编辑手动复制两次，标签体系也对不上。";
    const AI_TITLE: &str = "DeepSeek开源之后，AI应用创业者的三个机会";
    const AI_BODY: &str = "DeepSeek把推理成本降低了一个数量级，这意味着很多过去算不过账的AI应用，如今有了商业化的可能。\
        法律、医疗、教育等行业拥有大量非结构化文本，基于开源模型做私有化部署，可以在数据不出本地的前提下提供问答服务。";
    const GRAPHQL_BODY: &str = "Our first prototype issued one query per author per article. \
        A page of 50 articles made 101 database round trips. \
        A request-scoped dataloader brought that down to three.";

    fn terms_of(text: &str) -> Vec<String> {
        SEG.index_terms(text)
            .split(' ')
            .map(str::to_owned)
            .collect()
    }

    /// Whether every query term is among the index terms of `text`, i.e.
    /// whether a search requiring all terms finds `text`.
    fn matches(query: &str, text: &str) -> bool {
        let index = terms_of(text);
        let terms = SEG.query_terms(query);
        !terms.is_empty() && terms.iter().all(|t| index.contains(t))
    }

    fn is_safe_term(term: &str) -> bool {
        !term.is_empty() && term.chars().all(char::is_alphanumeric)
    }

    /// Plain-text length of highlighted output: tags removed, entities counted as one char.
    fn visible_len(html: &str) -> usize {
        let stripped = html.replace("<mark>", "").replace("</mark>", "");
        let unescaped = stripped
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&amp;", "&");
        unescaped.chars().count()
    }

    fn strings(terms: &[&str]) -> Vec<String> {
        terms.iter().map(|t| (*t).to_owned()).collect()
    }

    #[test]
    fn segmenter_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Segmenter>();
    }

    #[test]
    fn index_terms_lowercases_and_drops_punctuation() {
        assert_eq!(SEG.index_terms("Hello, WORLD!"), "hello world");
        assert_eq!(SEG.index_terms(""), "");
        assert_eq!(SEG.index_terms(" ，。！？…—\n\t🙂 "), "");
        assert_eq!(SEG.index_terms("ＨＥＬＬＯ　２０２５"), "hello 2025");
    }

    #[test]
    fn mixed_text_splits_latin_from_han() {
        assert_eq!(SEG.index_terms("DeepSeek开源"), "deepseek 开源");
        assert_eq!(SEG.query_terms("DeepSeek开源"), ["deepseek", "开源"]);
        assert_eq!(SEG.query_terms("deepseek开源"), ["deepseek", "开源"]);
        assert_eq!(
            SEG.query_terms("ＤＥＥＰＳＥＥＫ 开源"),
            ["deepseek", "开源"]
        );
    }

    #[test]
    fn index_terms_are_safe_and_single_spaced() {
        for text in [
            DEEPSEEK_TITLE,
            DEEPSEEK_BODY,
            CONTENT_BODY,
            AI_BODY,
            GRAPHQL_BODY,
            "a&&b || c:* 'x' \"y\" \\ 50% foo_bar",
        ] {
            let index = SEG.index_terms(text);
            assert!(!index.starts_with(' ') && !index.ends_with(' ') && !index.contains("  "));
            assert!(index.split(' ').all(is_safe_term), "{index}");
        }
    }

    #[test]
    fn index_terms_are_deterministic() {
        let other = Segmenter::new();
        for text in [DEEPSEEK_BODY, CONTENT_BODY, AI_BODY, GRAPHQL_BODY] {
            assert_eq!(SEG.index_terms(text), SEG.index_terms(text));
            assert_eq!(SEG.index_terms(text), other.index_terms(text));
        }
    }

    #[test]
    fn index_contains_what_cut_for_search_gives() {
        for text in [
            DEEPSEEK_TITLE,
            DEEPSEEK_BODY,
            CONTENT_TITLE,
            CONTENT_BODY,
            AI_BODY,
        ] {
            let norm = normalize(text);
            let index = terms_of(text);
            for token in SEG.jieba.cut_for_search(&norm, true) {
                for part in alphanumeric_runs(token.word) {
                    assert!(
                        index.iter().any(|t| t == part),
                        "{part:?} missing from the index of {text}"
                    );
                }
            }
        }
    }

    #[test]
    fn compound_words_are_indexed_with_their_parts() {
        let index = terms_of("中国互联网大厂的想象力");
        for term in ["互联网大厂", "互联网", "大厂"] {
            assert!(
                index.iter().any(|t| t == term),
                "{term} missing from {index:?}"
            );
        }
        let index = terms_of(CONTENT_TITLE);
        for term in [
            "b端产品经理",
            "b端产品",
            "b端",
            "产品经理",
            "产品",
            "经理",
            "内容中台",
            "中台",
        ] {
            assert!(
                index.iter().any(|t| t == term),
                "{term} missing from {index:?}"
            );
        }
    }

    #[test]
    fn query_hulianwang_dachang_matches_the_deepseek_article() {
        let terms = SEG.query_terms("互联网大厂");
        assert_eq!(terms, ["互联网大厂"]);
        assert!(matches("互联网大厂", DEEPSEEK_TITLE));
        assert!(matches("互联网大厂", DEEPSEEK_BODY));
        assert!(!matches("互联网大厂", CONTENT_BODY));
    }

    #[test]
    fn query_neirong_zhongtai_matches_the_content_article() {
        assert_eq!(SEG.query_terms("内容中台"), ["内容中台"]);
        assert!(matches("内容中台", CONTENT_TITLE));
        assert!(matches("内容中台", CONTENT_BODY));
        assert!(!matches("内容中台", DEEPSEEK_BODY));
        assert!(matches("中台", CONTENT_TITLE));
    }

    #[test]
    fn query_dataloader_matches_the_english_article() {
        assert_eq!(SEG.query_terms("DataLoader"), ["dataloader"]);
        assert!(matches("dataloader", GRAPHQL_BODY));
        assert!(matches("Database round trips", GRAPHQL_BODY));
        assert!(!matches("dataloader", CONTENT_BODY));
    }

    #[test]
    fn short_words_find_what_contains_them() {
        assert!(matches("大厂", DEEPSEEK_TITLE));
        assert!(matches("大厂", DEEPSEEK_BODY));
        assert!(matches("开源", AI_TITLE));
        assert!(matches("开源", AI_BODY));
        assert!(matches("开源", DEEPSEEK_BODY));
        assert!(matches("DeepSeek", AI_TITLE));
        assert!(matches("DeepSeek开源", AI_TITLE));
        assert!(!matches("开源", CONTENT_BODY));
    }

    #[test]
    fn b_duan_product_agrees_on_both_sides() {
        assert_eq!(SEG.query_terms("B端产品"), ["b端产品"]);
        assert!(matches("B端产品", CONTENT_TITLE));
        assert!(matches("b端产品", "B端产品的设计"));
        assert!(matches("产品经理", CONTENT_TITLE));
        assert!(matches("B端", CONTENT_TITLE));
        assert!(matches("C端产品经理", "而C端产品经理需要进行活动策划"));
    }

    #[test]
    fn latin_part_of_a_mixed_word_is_findable() {
        assert!(matches("AI", AI_TITLE));
        assert!(matches("AI应用", AI_TITLE));
        assert!(matches("ai 应用", AI_TITLE));
        assert!(!matches("ai", "Send an email to maintain the detail"));
    }

    #[test]
    fn words_sharing_only_single_characters_do_not_match() {
        // Every character of these queries occurs in the content article,
        // but none of their words does.
        for query in ["中国台风", "内容管家", "台内容"] {
            let terms = SEG.query_terms(query);
            assert!(!terms.is_empty());
            assert!(
                terms.iter().all(|t| t.chars().count() > 1),
                "{query}: {terms:?}"
            );
        }
        assert!(!matches("中国台风", CONTENT_BODY));
        assert!(!matches("台风天气", CONTENT_BODY));
        assert!(!matches("管家年份", CONTENT_BODY));
    }

    #[test]
    fn single_han_characters_only_for_single_character_queries() {
        assert_eq!(SEG.query_terms("猫"), ["猫"]);
        assert_eq!(SEG.query_terms(" 猫！"), ["猫"]);
        assert!(SEG.query_terms("的").is_empty());
        assert!(SEG.query_terms("的了吗呢").is_empty());
        let terms = SEG.query_terms("我的互联网大厂梦想");
        assert!(terms.iter().all(|t| t.chars().count() > 1), "{terms:?}");
        assert!(terms.contains(&"互联网大厂".to_owned()));
        let terms = SEG.query_terms("做产品的人");
        assert!(terms.iter().all(|t| t.chars().count() > 1), "{terms:?}");
        assert!(terms.contains(&"产品".to_owned()));
    }

    #[test]
    fn special_characters_never_survive() {
        assert!(SEG.query_terms("&|!():*'\"\\%_").is_empty());
        assert!(SEG.query_terms("").is_empty());
        assert!(SEG.query_terms("   ，。！？、 ").is_empty());
        for query in [
            "C++ & Rust_lang: 100%",
            "a|b!c(d)e:f*g'h\"i\\j%k_l",
            "foo:* & !bar | (baz)",
            "DeepSeek-R1 vs. GPT-4o",
            "e\u{301}te\u{301} İstanbul 🙂 ∑ ＠＃",
            "'; DROP TABLE articles; --",
            "\u{0}\u{7}\u{202e}控制字符",
        ] {
            let terms = SEG.query_terms(query);
            assert!(!terms.is_empty(), "{query}");
            assert!(terms.iter().all(|t| is_safe_term(t)), "{query}: {terms:?}");
        }
        assert_eq!(
            SEG.query_terms("DeepSeek-R1 vs. GPT-4o"),
            ["deepseek", "r1", "vs", "gpt", "4o"]
        );
    }

    #[test]
    fn query_terms_are_deduplicated_and_limited() {
        assert_eq!(
            SEG.query_terms("开源 开源 OPEN open Open"),
            ["开源", "open"]
        );
        let many: String = (0..40).map(|i| format!("w{i} ")).collect();
        let terms = SEG.query_terms(&many);
        assert_eq!(terms.len(), MAX_QUERY_TERMS);
        assert_eq!(terms[0], "w0");
        // Only the first MAX_QUERY_CHARS characters are searched.
        let long = format!("{}dataloader", "中".repeat(MAX_QUERY_CHARS));
        assert!(!SEG.query_terms(&long).contains(&"dataloader".to_owned()));
        let long = format!("{}dataloader", " ".repeat(MAX_QUERY_CHARS - 7));
        assert_eq!(SEG.query_terms(&long), ["dataloa"]);
    }

    #[test]
    fn builtin_dictionary_is_well_formed_and_kept_whole() {
        let entries: Vec<_> = parse_dict(BUILTIN_USER_DICT).collect();
        assert!(
            (40..=80).contains(&entries.len()),
            "{} terms",
            entries.len()
        );
        assert!(BUILTIN_USER_DICT.starts_with('#'));
        for (line, entry) in entries {
            let entry = entry.unwrap_or_else(|e| panic!("dict/user.txt line {line}: {e}"));
            assert_eq!(
                SEG.query_terms(&entry.word),
                std::slice::from_ref(&entry.word),
                "line {line}"
            );
            assert!(terms_of(&entry.word).contains(&entry.word), "line {line}");
        }
        assert!(SEG.jieba.has_word("b端产品"));
        assert!(SEG.jieba.has_word("a轮"));
    }

    #[test]
    fn dict_lines_parse_like_jieba() {
        let ok = |line: &str| parse_dict_line(line);
        assert_eq!(
            ok("B端 2000 n"),
            Ok(DictEntry {
                word: "b端".into(),
                freq: Some(2000),
                tag: Some("n".into())
            })
        );
        assert_eq!(
            ok("飞书"),
            Ok(DictEntry {
                word: "飞书".into(),
                freq: None,
                tag: None
            })
        );
        assert_eq!(
            ok("飞书 nz"),
            Ok(DictEntry {
                word: "飞书".into(),
                freq: None,
                tag: Some("nz".into())
            })
        );
        assert_eq!(
            ok("飞书 12"),
            Ok(DictEntry {
                word: "飞书".into(),
                freq: Some(12),
                tag: None
            })
        );
        assert!(ok("飞书 lots n").is_err());
        assert!(ok("飞书 -1 n").is_err());
        assert!(ok("飞书 99999999999999999999999 n").is_err());
        assert!(ok("飞书 12 n extra").is_err());
        assert!(ok("C++ 3 nz").is_err());
    }

    #[test]
    fn user_dict_file_adds_terms() {
        let dir = std::env::temp_dir().join(format!("search_text_test_{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let good = dir.join("good.txt");
        std::fs::write(
            &good,
            "\u{feff}# comment\n\n飞书多维表格 5000 n\n  # indented comment\n灰度发布\n",
        )
        .unwrap();
        let seg = Segmenter::with_user_dict(&good).unwrap();
        assert_eq!(seg.query_terms("飞书多维表格"), ["飞书多维表格"]);
        assert!(
            seg.index_terms("用飞书多维表格管理需求")
                .split(' ')
                .any(|t| t == "飞书多维表格")
        );
        assert_eq!(seg.query_terms("内容中台"), ["内容中台"]);

        let bad = dir.join("bad.txt");
        std::fs::write(&bad, "# comment\n飞书 100 n\n灰度发布 many n\n").unwrap();
        let err = Segmenter::with_user_dict(&bad).unwrap_err();
        assert!(err.contains("bad.txt") && err.contains("line 3"), "{err}");

        let missing = dir.join("missing.txt");
        let err = Segmenter::with_user_dict(&missing).unwrap_err();
        assert!(err.contains("missing.txt"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn non_ascii_letters_stay_words() {
        assert_eq!(SEG.index_terms("Café au lait"), "café au lait");
        assert_eq!(SEG.query_terms("café文化"), ["café", "文化"]);
        assert!(matches("café", "café文化"));
        assert_eq!(SEG.query_terms("İSTANBUL"), ["istanbul"]);
    }

    #[test]
    fn uppercase_default_dictionary_words_survive_lowercasing() {
        assert_eq!(SEG.query_terms("A轮融资"), ["a轮", "融资"]);
        assert!(matches("A轮", "公司完成了A轮融资"));
    }

    #[test]
    fn highlight_escapes_and_marks() {
        let terms = strings(&["deepseek"]);
        assert_eq!(
            highlight("<script>alert('DeepSeek & co')</script>", &terms),
            "&lt;script&gt;alert(&#39;<mark>DeepSeek</mark> &amp; co&#39;)&lt;/script&gt;"
        );
        assert_eq!(highlight("a \"b\"", &[]), "a &quot;b&quot;");
        assert_eq!(highlight("abc", &strings(&[""])), "abc");
        assert_eq!(highlight("", &terms), "");
    }

    #[test]
    fn highlight_prefers_the_longest_term() {
        let terms = strings(&["互联网", "大厂", "互联网大厂"]);
        assert_eq!(
            highlight("中国互联网大厂的大厂", &terms),
            "中国<mark>互联网大厂</mark>的<mark>大厂</mark>"
        );
        let terms = SEG.query_terms("DeepSeek开源");
        assert_eq!(
            highlight("DeepSeek开源之后，deepseek依然开源", &terms),
            "<mark>DeepSeek</mark><mark>开源</mark>之后，<mark>deepseek</mark>依然<mark>开源</mark>"
        );
    }

    #[test]
    fn highlight_respects_latin_word_boundaries() {
        let terms = strings(&["ai"]);
        assert_eq!(
            highlight("AI应用 and email", &terms),
            "<mark>AI</mark>应用 and email"
        );
        assert_eq!(highlight("ＡＩ", &terms), "<mark>ＡＩ</mark>");
    }

    #[test]
    fn snippet_around_the_first_match() {
        let text = format!("{CONTENT_BODY}{DEEPSEEK_BODY}");
        let terms = SEG.query_terms("互联网大厂");
        let s = snippet(&text, &terms, 60);
        assert!(s.starts_with('…') && s.ends_with('…'), "{s}");
        assert!(s.contains("<mark>互联网大厂</mark>"), "{s}");
        assert!(visible_len(&s) <= 62, "{s}");
        // Starts after the clause break before the match.
        assert!(s.starts_with("…那么中国各大"), "{s}");
    }

    #[test]
    fn snippet_without_match_is_the_start() {
        let terms = strings(&["不存在的词"]);
        let s = snippet(CONTENT_BODY, &terms, 10);
        assert_eq!(s, "内容中台不是一个系统…");
        assert_eq!(snippet("short <b>", &terms, 100), "short &lt;b&gt;");
        let s = snippet("The quick brown fox jumps over the lazy dog", &[], 18);
        assert_eq!(s, "The quick brown…");
    }

    #[test]
    fn snippet_never_exceeds_the_limit_or_panics() {
        let texts = [
            String::new(),
            "a".to_owned(),
            "🙂".repeat(50),
            "e\u{301}".repeat(40),
            format!("{DEEPSEEK_BODY}{GRAPHQL_BODY}"),
            "<&>\"'".repeat(30),
            "   \n\n  ".repeat(10),
            format!("{}DeepSeek", "。".repeat(200)),
            format!("DeepSeek{}", "x".repeat(300)),
            "word ".repeat(100),
        ];
        let term_sets = [
            vec![],
            strings(&["deepseek"]),
            strings(&["🙂", "e"]),
            SEG.query_terms("互联网大厂 dataloader"),
            strings(&["x"]),
        ];
        for text in &texts {
            for terms in &term_sets {
                for max in [0, 1, 2, 3, 5, 10, 37, 80, 200, 1000] {
                    let s = snippet(text, terms, max);
                    assert!(visible_len(&s) <= max + 2, "{max}: {s}");
                    assert!(
                        max == 0
                            || text.trim().is_empty()
                            || !s.is_empty()
                            || text.chars().count() <= max
                    );
                }
            }
        }
        assert_eq!(snippet("anything", &[], 0), "");
    }

    /// Throughput of `index_terms` on about 1 MB of article-like Chinese text.
    /// Run with `cargo test --release -- --ignored --nocapture index_throughput`.
    #[test]
    #[ignore]
    fn index_throughput() {
        let paragraph = format!(
            "{DEEPSEEK_TITLE}\n{DEEPSEEK_BODY}\n{CONTENT_TITLE}\n{CONTENT_BODY}\n{AI_TITLE}\n{AI_BODY}\n"
        );
        let mut text = String::new();
        let mut i = 0;
        while text.len() < 1_000_000 {
            text.push_str(&paragraph);
            text.push_str(&format!("第{i}段。\n"));
            i += 1;
        }
        let seg = Segmenter::new();
        let _ = seg.index_terms(&paragraph);
        let started = std::time::Instant::now();
        let index = seg.index_terms(&text);
        let secs = started.elapsed().as_secs_f64();
        let mb = text.len() as f64 / 1e6;
        println!(
            "index_terms: {mb:.2} MB in {secs:.3} s = {:.2} MB/s ({} terms, {:.2} MB of terms)",
            mb / secs,
            index.split(' ').count(),
            index.len() as f64 / 1e6
        );
    }
}
