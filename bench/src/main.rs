//! `bench-data`: loads a deterministic corpus into a dedicated Postgres database for the HTTP
//! benchmark (`bench/run`): ~500 authors with avatars, 200 tags, and N Chinese long-form
//! articles (5–15 KB of markdown with `##`/`###` headings, 3–6 tags each, published over seven
//! years). Articles go through `domain::article::upsert_imported`, the importer's own path, so
//! the rendered HTML, word count, reading time and search index are what the server computes.
//!
//! ```sh
//! bench-data [ARTICLES] [--database content_bench] [--force]
//! ```
//! The same N gives the same data. A database that already holds this generator version's
//! corpus of N articles is left alone (see `bench_corpus`), so reruns are fast.

mod text;

use std::{
    io::Write,
    path::{Path, PathBuf},
    time::Instant,
};

use anyhow::{Context, bail};
use chrono::{TimeZone, Utc};
use clap::Parser;
use content_api::domain::{
    article::{self, ImportedArticle},
    auth::Viewer,
    author::{self, AuthorInput},
    tag,
};
use entity::api_key::Role;
use migration::MigratorTrait;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement, TransactionTrait};

use crate::text::{Rng, Vocabulary, Weighted};

/// Bump when the generated data changes, so that `bench/run` regenerates.
const GENERATOR_VERSION: i32 = 1;
const SEED: u64 = 0x00C0_4E47_BE4C_2026;
const AUTHORS: usize = 500;
const TAGS: usize = 200;
const CATEGORIES: &[&str] = &[
    "AI",
    "产品设计",
    "运营",
    "行业观察",
    "职场",
    "数据分析",
    "It",
];
/// Articles per transaction.
const CHUNK: usize = 200;
/// Publication times spread over seven years from 2019-01-01 (UTC).
const FIRST_PUBLISHED: i64 = 1_546_300_800;
const PUBLISHED_SPAN_SECS: i64 = 7 * 365 * 86_400;

/// Generates the benchmark corpus.
#[derive(Debug, Parser)]
struct Args {
    /// Number of articles.
    #[arg(default_value_t = 10_000)]
    articles: usize,
    /// A Postgres URL the database can be dropped and created through.
    #[arg(
        long,
        env = "BENCH_ADMIN_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    admin_url: String,
    /// The database to (re)create.
    #[arg(long, default_value = "content_bench")]
    database: String,
    /// jieba's `dict.txt` (default: the one in the cargo registry's jieba-rs 0.11 source).
    #[arg(long)]
    dict: Option<PathBuf>,
    /// Regenerate even when the database already holds this corpus.
    #[arg(long)]
    force: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if !args
        .database
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        bail!("--database must be a plain lower-case identifier");
    }
    let base = args
        .admin_url
        .rsplit_once('/')
        .map_or(args.admin_url.as_str(), |(b, _)| b);
    let url = format!("{base}/{}", args.database);
    let admin = content_api::db::connect(&args.admin_url, 1)
        .await
        .context("connecting to the admin database")?;
    if !args.force && holds_corpus(&admin, &url, &args.database, args.articles).await? {
        println!(
            "{} already holds the corpus of {} articles (generator v{GENERATOR_VERSION}); skipping",
            args.database, args.articles
        );
        return Ok(());
    }
    let dict = match args.dict {
        Some(p) => p,
        None => find_jieba_dict()?,
    };
    let vocabulary = Vocabulary::load(&dict)?;

    let started = Instant::now();
    let name = &args.database;
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await?;
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await?;
    let conn = content_api::db::connect(&url, 2).await?;
    migration::Migrator::up(&conn, None).await?;
    println!("created {name}; generating {} articles", args.articles);

    let cast = create_authors_and_tags(&conn, &vocabulary).await?;
    let deferred = drop_gin_indexes(&conn).await?;
    generate_articles(&conn, &vocabulary, &cast, args.articles).await?;
    let indexing = Instant::now();
    for definition in &deferred {
        conn.execute_unprepared(definition).await?;
    }
    println!(
        "search index built in {:.1} s",
        indexing.elapsed().as_secs_f64()
    );

    conn.execute_unprepared(
        "CREATE TABLE bench_corpus (generator_version integer NOT NULL, \
         articles integer NOT NULL, generated_at timestamptz NOT NULL DEFAULT now())",
    )
    .await?;
    conn.execute_raw(Statement::from_sql_and_values(
        conn.get_database_backend(),
        "INSERT INTO bench_corpus (generator_version, articles) VALUES ($1, $2)",
        [
            GENERATOR_VERSION.into(),
            i32::try_from(args.articles)?.into(),
        ],
    ))
    .await?;
    conn.execute_unprepared("VACUUM ANALYZE").await?;
    println!(
        "done: {} articles in {:.1} s",
        args.articles,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Drops the GIN (full-text) indexes on `articles` and returns their definitions, to build
/// them once after the load: adding each article's thousands of terms to a GIN index one
/// row at a time makes loading slow down as the table grows.
async fn drop_gin_indexes(conn: &DatabaseConnection) -> anyhow::Result<Vec<String>> {
    let rows = conn
        .query_all_raw(Statement::from_string(
            conn.get_database_backend(),
            "SELECT indexname, indexdef FROM pg_indexes \
             WHERE tablename = 'articles' AND indexdef LIKE '% USING gin %'",
        ))
        .await?;
    let mut definitions = Vec::new();
    for row in rows {
        let name: String = row.try_get("", "indexname")?;
        conn.execute_unprepared(&format!("DROP INDEX {name}"))
            .await?;
        definitions.push(row.try_get("", "indexdef")?);
    }
    Ok(definitions)
}

/// Whether `name` exists and records this generator version's corpus of `articles`.
async fn holds_corpus(
    admin: &DatabaseConnection,
    url: &str,
    name: &str,
    articles: usize,
) -> anyhow::Result<bool> {
    let exists = admin
        .query_one_raw(Statement::from_sql_and_values(
            admin.get_database_backend(),
            "SELECT 1 FROM pg_database WHERE datname = $1",
            [name.into()],
        ))
        .await?
        .is_some();
    if !exists {
        return Ok(false);
    }
    let conn = content_api::db::connect(url, 1).await?;
    let row = conn
        .query_one_raw(Statement::from_string(
            conn.get_database_backend(),
            "SELECT generator_version, articles FROM bench_corpus \
             WHERE to_regclass('bench_corpus') IS NOT NULL",
        ))
        .await;
    let Ok(Some(row)) = row else {
        return Ok(false);
    };
    let version: i32 = row.try_get("", "generator_version")?;
    let count: i32 = row.try_get("", "articles")?;
    Ok(version == GENERATOR_VERSION && usize::try_from(count) == Ok(articles))
}

/// jieba-rs 0.11's dictionary in the cargo registry (read at run time, never committed).
fn find_jieba_dict() -> anyhow::Result<PathBuf> {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")))
        .context("neither CARGO_HOME nor HOME is set")?;
    let mut found = Vec::new();
    for index in std::fs::read_dir(home.join("registry/src"))? {
        for krate in std::fs::read_dir(index?.path())? {
            let path = krate?.path();
            let is_jieba = path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("jieba-rs-0.11"));
            let dict = path.join("src/data/dict.txt");
            if is_jieba && dict.is_file() {
                found.push(dict);
            }
        }
    }
    found.sort();
    found
        .pop()
        .context("jieba-rs 0.11 source not found in the cargo registry; pass --dict")
}

fn admin() -> Viewer {
    Viewer::Key {
        key_id: 0,
        role: Role::Admin,
        author_id: None,
    }
}

fn author_profile(i: usize) -> String {
    format!("https://bench.example/u/{i}")
}

/// Who writes and what about: author names (index = author number) and tag names, most
/// used first.
struct Cast {
    authors: Vec<String>,
    tags: Vec<String>,
}

/// Creates the authors (through the admin mutation's domain function, with avatars) and the
/// tag pool.
async fn create_authors_and_tags(
    conn: &DatabaseConnection,
    vocabulary: &Vocabulary,
) -> anyhow::Result<Cast> {
    let mut rng = Rng::new(SEED, 1);
    let mut names: Vec<String> = Vec::with_capacity(AUTHORS);
    while names.len() < AUTHORS {
        let name = &vocabulary.names[rng.range(0, vocabulary.names.len() - 1)];
        if !names.contains(name) {
            names.push(name.clone());
        }
    }
    let txn = conn.begin().await?;
    for (i, name) in names.iter().enumerate() {
        let input = AuthorInput {
            name: Some(name.clone()),
            bio: Some(vocabulary.sentence(&mut rng)),
            avatar_url: Some(format!("https://img.bench.example/avatar/{i}.png")),
            profile_url: Some(author_profile(i)),
            ..Default::default()
        };
        author::create(&txn, admin(), &input).await?;
    }
    let mut tags: Vec<String> = Vec::with_capacity(TAGS);
    while tags.len() < TAGS {
        let noun = &vocabulary.nouns[rng.range(0, 2999)];
        if !tags.contains(noun) {
            tags.push(noun.clone());
        }
    }
    tag::ensure_all(&txn, &tags).await?;
    txn.commit().await?;
    println!("{AUTHORS} authors, {TAGS} tags");
    Ok(Cast {
        authors: names,
        tags,
    })
}

/// A few prolific authors and a few big tags, and a long tail of both (Zipf-like weights).
struct Weights {
    author: Weighted,
    tag: Weighted,
}

/// Writes the articles in chunks, one transaction each, printing progress.
async fn generate_articles(
    conn: &DatabaseConnection,
    vocabulary: &Vocabulary,
    cast: &Cast,
    n: usize,
) -> anyhow::Result<()> {
    let weights = Weights {
        author: Weighted::new((0..AUTHORS).map(|r| 1_000_000 / (r as u64 + 1))),
        tag: Weighted::new((0..TAGS).map(|r| (1e6 / (r as f64 + 1.0).powf(0.8)) as u64)),
    };
    let started = Instant::now();
    let mut bytes = 0;
    for chunk in (0..n).step_by(CHUNK) {
        let txn = conn.begin().await?;
        for i in chunk..(chunk + CHUNK).min(n) {
            let input = imported(vocabulary, cast, &weights, i, n);
            bytes += input.body.len();
            article::upsert_imported(&txn, &input).await?;
        }
        txn.commit().await?;
        let done = (chunk + CHUNK).min(n);
        let secs = started.elapsed().as_secs_f64();
        print!(
            "\r{done}/{n} articles, {:.0} MB of markdown, {secs:.0} s ({:.0}/s)",
            bytes as f64 / 1e6,
            done as f64 / secs.max(1e-3)
        );
        std::io::stdout().flush()?;
    }
    println!();
    Ok(())
}

/// Article `i` of `n`, as the importer would read it from a file; depends only on `i` and `n`.
fn imported(
    vocabulary: &Vocabulary,
    cast: &Cast,
    weights: &Weights,
    i: usize,
    n: usize,
) -> ImportedArticle {
    let mut rng = Rng::new(SEED, 1_000 + i as u64);
    let author = weights.author.pick(&mut rng);
    let mut article_tags: Vec<String> = Vec::new();
    let tag_count = rng.range(3, 6);
    while article_tags.len() < tag_count {
        let t = &cast.tags[weights.tag.pick(&mut rng)];
        if !article_tags.contains(t) {
            article_tags.push(t.clone());
        }
    }
    // Article i is published in the i-th of n equal slots, so ids follow publication order as
    // they do when articles are written as they are published. Then "a tag's newest articles"
    // is also "its highest article ids", the only order a generic schema offers on the junction.
    let slot = PUBLISHED_SPAN_SECS / n.max(1) as i64;
    let jitter = (rng.next() % slot.max(1) as u64) as i64;
    let published_at = Utc
        .timestamp_opt(FIRST_PUBLISHED + slot * i as i64 + jitter, 0)
        .single()
        .unwrap_or_default();
    let title_chars = rng.range(10, 26);
    let body_bytes = rng.range(5_000, 14_000);
    ImportedArticle {
        title: vocabulary.phrase(&mut rng, title_chars),
        category: Some(CATEGORIES[rng.range(0, CATEGORIES.len() - 1)].to_owned()),
        author_name: cast.authors[author].clone(),
        author_profile_url: author_profile(author),
        published_at,
        views: rng.range(0, 50_000) as i64,
        comments: rng.range(0, 200) as i64,
        collects: rng.range(0, 2_000) as i64,
        likes: rng.range(0, 3_000) as i64,
        reading_time_minutes: None,
        tags: article_tags,
        original_url: format!("https://bench.example/p/{i}.html"),
        summary: Some(format!(
            "{}{}",
            vocabulary.sentence(&mut rng),
            vocabulary.sentence(&mut rng)
        )),
        cover_image_url: Some(format!("https://img.bench.example/cover/{i}.jpg")),
        body: vocabulary.body(&mut rng, body_bytes),
    }
}
