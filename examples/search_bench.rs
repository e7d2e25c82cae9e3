//! Search benchmark: generates a corpus of Chinese articles into a fresh Postgres database,
//! indexes it through the server's own segmentation, and prints p50/p99 latency of a fixed
//! list of queries, next to the same queries as an unindexed `ILIKE` scan.
//!
//! ```sh
//! cargo run --release --example search_bench -- [ARTICLES] [ADMIN_URL]
//! # defaults: 100000 postgres://postgres@127.0.0.1:5432/postgres
//! ```
//! It creates (and finally drops) the database `content_search_bench`.

use std::time::{Duration, Instant};

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
use sea_orm::{ConnectionTrait, EntityTrait, Set};

const QUERIES: &[&str] = &[
    "互联网大厂",
    "内容中台",
    "产品经理",
    "开源",
    "用户增长",
    "数据 分析",
    "大模型 应用",
    "dataloader",
];

/// The sample articles: the generator's vocabulary, so word frequencies look like the field's.
const SAMPLES: &[&str] = &[
    include_str!("../samples/woshipm-6183097.md"),
    include_str!("../samples/woshipm-6190001.md"),
    include_str!("../samples/woshipm-6200417.md"),
    include_str!("../samples/woshipm-6211950.md"),
];

/// Words of the samples with Zipf weights by frequency rank (exponent 1.3: the most frequent
/// word is drawn most often, the tail rarely), so common words match most articles and rare
/// ones few, as in real text.
struct Vocabulary {
    words: Vec<String>,
    cumulative: Vec<f64>,
}

impl Vocabulary {
    fn from_samples() -> Self {
        let seg = content_api::domain::search_text::Segmenter::new();
        let mut counts: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
        for text in SAMPLES {
            for w in seg.index_terms(text).split(' ').filter(|w| !w.is_empty()) {
                *counts.entry(w.to_owned()).or_default() += 1;
            }
        }
        let mut words: Vec<(String, usize)> = counts.into_iter().collect();
        words.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let mut total = 0.0;
        let cumulative = (0..words.len())
            .map(|rank| {
                total += (rank as f64 + 1.0).powf(-1.3);
                total
            })
            .collect();
        Self {
            words: words.into_iter().map(|(w, _)| w).collect(),
            cumulative,
        }
    }

    fn word(&self, rng: &mut Rng) -> &str {
        let max = self.cumulative.last().copied().unwrap_or(1.0);
        let x = (rng.next() as f64 / u64::MAX as f64) * max;
        let i = self.cumulative.partition_point(|c| *c < x);
        &self.words[i.min(self.words.len() - 1)]
    }

    fn text(&self, rng: &mut Rng, words: usize) -> String {
        (0..words)
            .map(|_| self.word(rng))
            .collect::<Vec<_>>()
            .join("")
    }
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
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
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
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name}"))
        .await?;
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await?;
    let base = admin_url
        .rsplit_once('/')
        .map_or(admin_url.as_str(), |(b, _)| b);
    let url = format!("{base}/{name}");
    let conn = db::connect(&url, 4).await?;
    migration::Migrator::up(&conn, None).await?;

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
    .exec(&conn)
    .await?
    .last_insert_id;
    let vocabulary = Vocabulary::from_samples();
    println!(
        "vocabulary: {} words from the samples",
        vocabulary.words.len()
    );
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let batch = 500;
    for start in (0..n).step_by(batch) {
        let rows: Vec<article::ActiveModel> = (start..(start + batch).min(n))
            .map(|i| {
                let body_words = 300 + rng.below(400);
                let title_words = 8 + rng.below(6);
                article::ActiveModel {
                    slug: Set(format!("bench-{i}")),
                    title: Set(vocabulary.text(&mut rng, title_words)),
                    summary: Set(Some(vocabulary.text(&mut rng, 20))),
                    body: Set(vocabulary.text(&mut rng, body_words)),
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
        article::Entity::insert_many(rows).exec(&conn).await?;
    }
    println!(
        "inserted in {:.1} s; indexing…",
        started.elapsed().as_secs_f64()
    );
    let indexing = Instant::now();
    let mut last_id = 0;
    loop {
        use sea_orm::{ColumnTrait, QueryFilter, QueryOrder, QuerySelect};
        let page = article::Entity::find()
            .filter(article::Column::Id.gt(last_id))
            .order_by_asc(article::Column::Id)
            .limit(1000)
            .all(&conn)
            .await?;
        let Some(last) = page.last() else { break };
        last_id = last.id;
        for a in &page {
            search::index_article(&conn, a).await?;
        }
    }
    conn.execute_unprepared("ANALYZE articles").await?;
    println!("indexed in {:.1} s", indexing.elapsed().as_secs_f64());

    let vis = Visibility::Public(Utc::now());
    let filter = ArticleFilter::default();
    let page = PageArgs {
        first: Some(20),
        ..Default::default()
    };
    println!();
    println!(
        "{:<14} {:>8} {:>10} {:>10} {:>12} {:>12}",
        "query", "hits", "p50 ms", "p99 ms", "ILIKE p50", "ILIKE p99"
    );
    for q in QUERIES {
        let hits = search::count(&conn, q, &filter, vis).await?;
        let mut times = Vec::new();
        for _ in 0..50 {
            let t = Instant::now();
            search::search(&conn, q, &filter, &page, vis, true).await?;
            times.push(t.elapsed());
        }
        times.sort();
        let mut scans = Vec::new();
        let like = format!("%{}%", q.split_whitespace().next().unwrap_or(q));
        for _ in 0..5 {
            let t = Instant::now();
            conn.query_all_raw(sea_orm::Statement::from_sql_and_values(
                sea_orm::DbBackend::Postgres,
                "SELECT id FROM articles WHERE title ILIKE $1 OR body ILIKE $1 ORDER BY published_at DESC, id DESC LIMIT 20",
                [like.clone().into()],
            ))
            .await?;
            scans.push(t.elapsed());
        }
        scans.sort();
        println!(
            "{:<14} {:>8} {:>10.2} {:>10.2} {:>12.2} {:>12.2}",
            q,
            hits,
            ms(percentile(&times, 0.5)),
            ms(percentile(&times, 0.99)),
            ms(percentile(&scans, 0.5)),
            ms(percentile(&scans, 0.99)),
        );
    }
    conn.close().await?;
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name}"))
        .await?;
    Ok(())
}
