//! Search benchmark: generates a corpus of Chinese articles into a fresh Postgres database,
//! indexes it through the server's own segmentation, and prints p50/p99 latency of a fixed
//! list of queries, next to the same queries as an unindexed `ILIKE` scan.
//!
//! ```sh
//! cargo run --release --example search_bench -- [ARTICLES] [ADMIN_URL] [--reuse] [--keep]
//! # defaults: 100000 postgres://postgres@127.0.0.1:5432/postgres
//! ```
//! It creates (and finally drops) the database `content_search_bench`. `--keep` leaves it in
//! place; `--reuse` measures an existing one of the same size instead of generating it again
//! (migrations still run, so a new index layout is picked up).
//!
//! The words are real: jieba's dictionary (about 350,000 words with frequencies, read from the
//! jieba-rs crate's sources, or from `JIEBA_DICT`) plus the domain dictionary `dict/user.txt`,
//! drawn by frequency. Word frequencies in such a dictionary follow Zipf's law, so a few words
//! (我们, 发展) occur in nearly every article and most words in few: the query list below
//! spans that range. Everything is seeded, so every run generates the same corpus.

use std::{
    path::PathBuf,
    time::{Duration, Instant},
};

use anyhow::Context as _;
use chrono::{TimeZone, Utc};
use content_api::{
    db::{
        self,
        article::{ArticleFilter, Visibility},
    },
    domain::{page::PageArgs, search},
};
use entity::{article, author};
use migration::MigratorTrait;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set, Statement,
};

/// From very frequent to absent; hit counts are printed next to the timings.
const QUERIES: &[&str] = &[
    "我们",
    "发展",
    "分析",
    "数据 分析",
    "互联网大厂",
    "内容中台",
    "大模型 应用",
    "开源",
    "芯片",
    "人工智能",
    "量子 芯片",
    "kubernetes",
];

/// Dictionary words drawn from: the most frequent ones. The rest of jieba's dictionary
/// (frequencies of 1 to 3, mostly) would add a long tail of words occurring once or twice.
const VOCABULARY_WORDS: usize = 50_000;

/// The domain dictionary: its words join the vocabulary with their stated frequency.
const USER_DICT: &str = include_str!("../dict/user.txt");

/// Runs per query for the indexed search, and for the `ILIKE` scan and the count.
const SEARCH_RUNS: usize = 50;
const SCAN_RUNS: usize = 5;

struct Vocabulary {
    words: Vec<String>,
    cumulative: Vec<f64>,
}

impl Vocabulary {
    /// The `VOCABULARY_WORDS` most frequent Han-only words of jieba's dictionary, plus the
    /// domain dictionary, each weighted by its frequency.
    fn load() -> anyhow::Result<Self> {
        let path = jieba_dict_path()?;
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let parse = |line: &str| {
            let mut fields = line.split_whitespace();
            let word = fields.next()?;
            let freq: u64 = fields.next()?.parse().ok()?;
            word.chars()
                .all(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
                .then(|| (word.to_owned(), freq))
        };
        let mut words: Vec<(String, u64)> = text.lines().filter_map(parse).collect();
        words.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        words.truncate(VOCABULARY_WORDS);
        for line in USER_DICT.lines().filter(|l| !l.starts_with('#')) {
            let mut fields = line.split_whitespace();
            if let (Some(word), Some(Ok(freq))) = (fields.next(), fields.next().map(str::parse)) {
                words.push((word.to_owned(), freq));
            }
        }
        let mut total = 0.0;
        let cumulative = words
            .iter()
            .map(|(_, f)| {
                total += *f as f64;
                total
            })
            .collect();
        Ok(Self {
            words: words.into_iter().map(|(w, _)| w).collect(),
            cumulative,
        })
    }

    fn word(&self, rng: &mut Rng) -> &str {
        let max = self.cumulative.last().copied().unwrap_or(1.0);
        let x = (rng.next() as f64 / u64::MAX as f64) * max;
        let i = self.cumulative.partition_point(|c| *c < x);
        &self.words[i.min(self.words.len() - 1)]
    }

    /// Words up to at least `chars` characters, with no punctuation (titles).
    fn phrase(&self, rng: &mut Rng, chars: usize) -> String {
        let mut out = String::new();
        while out.chars().count() < chars {
            out.push_str(self.word(rng));
        }
        out
    }

    /// Prose of at least `bytes` bytes: clauses of a few words, sentences, paragraphs.
    fn prose(&self, rng: &mut Rng, bytes: usize) -> String {
        let mut out = String::with_capacity(bytes + 64);
        while out.len() < bytes {
            for sentence in 0..3 + rng.below(6) {
                for clause in 0..1 + rng.below(3) {
                    if clause > 0 {
                        out.push('，');
                    }
                    for _ in 0..3 + rng.below(8) {
                        out.push_str(self.word(rng));
                    }
                }
                out.push('。');
                if sentence > 0 && out.len() >= bytes {
                    break;
                }
            }
            out.push_str("\n\n");
        }
        out
    }
}

/// `JIEBA_DICT`, or jieba-rs's `src/data/dict.txt` in the cargo registry.
fn jieba_dict_path() -> anyhow::Result<PathBuf> {
    if let Some(path) = std::env::var_os("JIEBA_DICT") {
        return Ok(path.into());
    }
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .context("neither CARGO_HOME nor HOME is set; set JIEBA_DICT")?;
    let registry = home.join("registry").join("src");
    for index in std::fs::read_dir(&registry).with_context(|| format!("{}", registry.display()))? {
        let mut crates: Vec<PathBuf> = std::fs::read_dir(index?.path())?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("jieba-rs-"))
            })
            .collect();
        crates.sort();
        if let Some(dict) = crates
            .iter()
            .rev()
            .map(|c| c.join("src/data/dict.txt"))
            .find(|d| d.exists())
        {
            return Ok(dict);
        }
    }
    anyhow::bail!(
        "no jieba-rs sources under {}; set JIEBA_DICT",
        registry.display()
    )
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*: deterministic and dependency-free.
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn between(&mut self, low: usize, high: usize) -> usize {
        low + self.below(high - low + 1)
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn generate(conn: &DatabaseConnection, n: usize) -> anyhow::Result<()> {
    println!("generating {n} articles…");
    let started = Instant::now();
    let now = Utc::now();
    let writer = author::Entity::insert(author::ActiveModel {
        slug: Set("bench".into()),
        name: Set("Bench".into()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    })
    .exec(conn)
    .await?
    .last_insert_id;
    let vocabulary = Vocabulary::load()?;
    println!("vocabulary: {} words", vocabulary.words.len());
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let batch = 200;
    let mut bytes = 0;
    for start in (0..n).step_by(batch) {
        let rows: Vec<article::ActiveModel> = (start..(start + batch).min(n))
            .map(|i| {
                let title_chars = rng.between(10, 30);
                let summary_chars = rng.between(40, 120);
                let body_bytes = rng.between(5_000, 15_000);
                let body = vocabulary.prose(&mut rng, body_bytes);
                bytes += body.len();
                article::ActiveModel {
                    slug: Set(format!("bench-{i}")),
                    title: Set(vocabulary.phrase(&mut rng, title_chars)),
                    summary: Set(Some(vocabulary.phrase(&mut rng, summary_chars))),
                    body: Set(body),
                    body_html: Set(String::new()),
                    category: Set(Some("Bench".into())),
                    status: Set(article::Status::Published),
                    published_at: Set(Some(
                        Utc.timestamp_opt(1_600_000_000 + i as i64 * 60, 0)
                            .single()
                            .unwrap_or(now),
                    )),
                    author_id: Set(writer),
                    reading_time_minutes: Set(1),
                    word_count: Set(0),
                    view_count: Set(0),
                    like_count: Set(0),
                    collect_count: Set(0),
                    comment_count: Set(0),
                    version: Set(1),
                    created_at: Set(now),
                    updated_at: Set(now),
                    ..Default::default()
                }
            })
            .collect();
        article::Entity::insert_many(rows).exec(conn).await?;
    }
    println!(
        "inserted in {:.1} s ({:.0} MB of bodies, {:.1} KB on average); indexing…",
        started.elapsed().as_secs_f64(),
        bytes as f64 / 1e6,
        bytes as f64 / n.max(1) as f64 / 1e3,
    );

    // A bulk load: drop the GIN indexes, fill the vectors, build the indexes once (much faster
    // than n incremental GIN inserts). Their definitions come from the migrations, via pg_indexes.
    let gin = conn
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT indexname, indexdef FROM pg_indexes \
             WHERE tablename = 'articles' AND indexdef LIKE '%USING gin%'",
        ))
        .await?;
    let mut definitions = Vec::new();
    for row in gin {
        let name: String = row.try_get("", "indexname")?;
        definitions.push(row.try_get::<String>("", "indexdef")?);
        conn.execute_unprepared(&format!("DROP INDEX {name}"))
            .await?;
    }
    let indexing = Instant::now();
    let ids: Vec<i32> = article::Entity::find()
        .select_only()
        .column(article::Column::Id)
        .order_by_asc(article::Column::Id)
        .into_tuple()
        .all(conn)
        .await?;
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let chunks: Vec<Vec<i32>> = ids.chunks(500).map(<[i32]>::to_vec).collect();
    let mut tasks = Vec::new();
    for worker in 0..workers {
        let conn = conn.clone();
        let mine: Vec<Vec<i32>> = chunks
            .iter()
            .skip(worker)
            .step_by(workers)
            .cloned()
            .collect();
        tasks.push(tokio::spawn(async move {
            for chunk in mine {
                let page = article::Entity::find()
                    .filter(article::Column::Id.is_in(chunk))
                    .all(&conn)
                    .await?;
                for a in &page {
                    search::index_article(&conn, a).await?;
                }
            }
            anyhow::Ok(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    println!(
        "vectors in {:.1} s ({workers} workers); building the indexes…",
        indexing.elapsed().as_secs_f64()
    );
    let building = Instant::now();
    conn.execute_unprepared("SET maintenance_work_mem = '512MB'")
        .await?;
    for definition in definitions {
        conn.execute_unprepared(&definition).await?;
    }
    conn.execute_unprepared("VACUUM ANALYZE articles").await?;
    println!(
        "indexes built in {:.1} s; indexing took {:.1} s in all",
        building.elapsed().as_secs_f64(),
        indexing.elapsed().as_secs_f64()
    );
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (flags, args): (Vec<String>, Vec<String>) =
        std::env::args().skip(1).partition(|a| a.starts_with("--"));
    let reuse = flags.iter().any(|f| f == "--reuse");
    let keep = flags.iter().any(|f| f == "--keep");
    let mut args = args.into_iter();
    let n: usize = args
        .next()
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(100_000);
    let admin_url = args
        .next()
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let name = "content_search_bench";
    let admin = db::connect(&admin_url, 1).await?;
    let exists = !admin
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT 1 FROM pg_database WHERE datname = $1",
            [name.into()],
        ))
        .await?
        .is_empty();
    if !(reuse && exists) {
        admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name}"))
            .await?;
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await?;
    }
    let base = admin_url
        .rsplit_once('/')
        .map_or(admin_url.as_str(), |(b, _)| b);
    let url = format!("{base}/{name}");
    let conn = db::connect(&url, 4).await?;
    migration::Migrator::up(&conn, None).await?;
    let present = article::Entity::find().count(&conn).await? as usize;
    if present == n {
        println!("reusing the {n} articles of {name}");
        conn.execute_unprepared("VACUUM ANALYZE articles").await?;
    } else if present == 0 {
        generate(&conn, n).await?;
    } else {
        anyhow::bail!("{name} holds {present} articles, not {n}: run without --reuse");
    }

    let vis = Visibility::Public(Utc::now());
    let filter = ArticleFilter::default();
    let page = PageArgs {
        first: Some(20),
        ..Default::default()
    };
    // Other work on the machine shows in the figures: print the load next to them.
    let load = || std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("load average before: {}", load().trim());
    println!();
    println!(
        "| query | hits | p50 ms | p99 ms | p50 ms, no bodies | count p50 ms | ILIKE p50 ms | ILIKE p99 ms |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for q in QUERIES {
        let hits = search::count(&conn, q, &filter, vis).await?;
        let time = |runs: usize, with_bodies: bool| {
            let conn = &conn;
            let (filter, page) = (&filter, &page);
            async move {
                let mut times = Vec::with_capacity(runs);
                for _ in 0..runs {
                    let t = Instant::now();
                    search::search(conn, q, filter, page, vis, with_bodies).await?;
                    times.push(t.elapsed());
                }
                times.sort();
                anyhow::Ok(times)
            }
        };
        let full = time(SEARCH_RUNS, true).await?;
        let bare = time(SEARCH_RUNS, false).await?;
        let mut counts = Vec::new();
        for _ in 0..SCAN_RUNS {
            let t = Instant::now();
            search::count(&conn, q, &filter, vis).await?;
            counts.push(t.elapsed());
        }
        counts.sort();
        let mut scans = Vec::new();
        let like = format!("%{}%", q.split_whitespace().next().unwrap_or(q));
        for _ in 0..SCAN_RUNS {
            let t = Instant::now();
            conn.query_all_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT id FROM articles WHERE title ILIKE $1 OR body ILIKE $1 \
                 ORDER BY published_at DESC, id DESC LIMIT 20",
                [like.clone().into()],
            ))
            .await?;
            scans.push(t.elapsed());
        }
        scans.sort();
        println!(
            "| {q} | {hits} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} |",
            ms(percentile(&full, 0.5)),
            ms(percentile(&full, 0.99)),
            ms(percentile(&bare, 0.5)),
            ms(percentile(&counts, 0.5)),
            ms(percentile(&scans, 0.5)),
            ms(percentile(&scans, 0.99)),
        );
    }
    println!("load average after: {}", load().trim());
    conn.close().await?;
    if !keep {
        admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name}"))
            .await?;
    }
    Ok(())
}
