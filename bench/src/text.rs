//! Deterministic Chinese text: a seeded generator and a vocabulary sampled by word frequency
//! from jieba's dictionary, shaped into titles, names and markdown bodies with headings.

use std::{fs, path::Path};

use anyhow::{Context, bail};

/// SplitMix64: small, fast, and the same sequence on every machine for the same seed.
pub struct Rng(u64);

impl Rng {
    /// A generator for one stream; `stream` keeps articles independent of one another, so
    /// article `i` is the same whatever else is generated.
    pub fn new(seed: u64, stream: u64) -> Self {
        let mut rng = Self(seed ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03));
        rng.next();
        rng
    }

    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `lo..=hi`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next() % (hi - lo + 1) as u64) as usize
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// Picks indexes with fixed weights (cumulative sums and a binary search).
pub struct Weighted {
    cumulative: Vec<u64>,
}

impl Weighted {
    /// Weights must not all be zero.
    pub fn new(weights: impl IntoIterator<Item = u64>) -> Self {
        let mut total = 0;
        let cumulative = weights
            .into_iter()
            .map(|w| {
                total += w;
                total
            })
            .collect();
        Self { cumulative }
    }

    /// An index, drawn by weight.
    pub fn pick(&self, rng: &mut Rng) -> usize {
        let total = self.cumulative.last().copied().unwrap_or(1).max(1);
        let x = rng.next() % total;
        self.cumulative.partition_point(|c| *c <= x)
    }
}

/// Words of the jieba dictionary: all-Chinese, one to four characters, drawn by frequency.
pub struct Vocabulary {
    words: Vec<String>,
    by_frequency: Weighted,
    /// Person names (`nr`, three characters), for authors.
    pub names: Vec<String>,
    /// Common nouns (two to four characters, most frequent first), for tags and headings.
    pub nouns: Vec<String>,
}

fn is_chinese(word: &str) -> bool {
    word.chars().all(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c))
}

impl Vocabulary {
    /// Reads `dict.txt` (`word frequency tag` per line).
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = fs::read_to_string(path)
            .with_context(|| format!("reading the dictionary {}", path.display()))?;
        let mut words = Vec::new();
        let mut weights = Vec::new();
        let mut names = Vec::new();
        let mut nouns: Vec<(u64, String)> = Vec::new();
        for line in text.lines() {
            let mut parts = line.split_whitespace();
            let (Some(word), Some(freq), tag) = (parts.next(), parts.next(), parts.next()) else {
                continue;
            };
            let Ok(freq) = freq.parse::<u64>() else {
                continue;
            };
            let chars = word.chars().count();
            if !is_chinese(word) || chars > 4 || freq < 20 {
                continue;
            }
            match tag {
                Some("nr") if chars == 3 => names.push(word.to_owned()),
                Some("n") if chars >= 2 && freq >= 500 => nouns.push((freq, word.to_owned())),
                _ => {}
            }
            if tag != Some("nr") {
                words.push(word.to_owned());
                weights.push(freq);
            }
        }
        nouns.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        if words.len() < 1000 || names.len() < 1000 || nouns.len() < 1000 {
            bail!("{} does not look like jieba's dict.txt", path.display());
        }
        Ok(Self {
            words,
            by_frequency: Weighted::new(weights),
            names,
            nouns: nouns.into_iter().map(|(_, w)| w).collect(),
        })
    }

    fn word(&self, rng: &mut Rng) -> &str {
        &self.words[self.by_frequency.pick(rng)]
    }

    /// Words joined until the text has at least `chars` characters.
    pub fn phrase(&self, rng: &mut Rng, chars: usize) -> String {
        let mut out = String::new();
        while out.chars().count() < chars {
            out.push_str(self.word(rng));
        }
        out
    }

    /// A heading: one or two nouns and a few words.
    fn heading(&self, rng: &mut Rng) -> String {
        let noun = &self.nouns[rng.range(0, 1999)];
        let chars = rng.range(3, 8);
        let rest = self.phrase(rng, chars);
        format!("{noun}{rest}")
    }

    /// A sentence of clauses separated by commas, ending with a full stop (or ？/！).
    pub fn sentence(&self, rng: &mut Rng) -> String {
        let clauses = rng.range(1, 4);
        let mut s = String::new();
        for c in 0..clauses {
            if c > 0 {
                s.push('，');
            }
            let chars = rng.range(6, 16);
            let clause = self.phrase(rng, chars);
            if rng.chance(4) {
                s.push_str(&format!("**{clause}**"));
            } else {
                s.push_str(&clause);
            }
        }
        s.push(match rng.range(0, 19) {
            0 => '？',
            1 => '！',
            _ => '。',
        });
        s
    }

    fn paragraph(&self, rng: &mut Rng) -> String {
        if rng.chance(8) {
            return (0..rng.range(3, 5))
                .map(|_| format!("- {}", self.sentence(rng)))
                .collect::<Vec<_>>()
                .join("\n");
        }
        (0..rng.range(2, 6)).map(|_| self.sentence(rng)).collect()
    }

    /// A markdown body of about `bytes` bytes: a lead paragraph, then `##` sections of
    /// paragraphs, some with `###` subsections, so the table of contents has two levels.
    pub fn body(&self, rng: &mut Rng, bytes: usize) -> String {
        let mut body = self.paragraph(rng);
        while body.len() < bytes {
            body.push_str("\n\n## ");
            body.push_str(&self.heading(rng));
            for p in 0..rng.range(2, 5) {
                if p > 0 && rng.chance(25) {
                    body.push_str("\n\n### ");
                    body.push_str(&self.heading(rng));
                }
                body.push_str("\n\n");
                body.push_str(&self.paragraph(rng));
                if body.len() >= bytes {
                    break;
                }
            }
        }
        body.push('\n');
        body
    }
}
