//! Full-text search queries. Terms arrive already segmented (see domain::search_text); each
//! backend matches them with its own index (see the search migrations) and ranks by where they
//! match: title, then summary and tags, then body.

use entity::article;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Statement, TransactionSession, TransactionTrait,
    sea_query::{Expr, ExprTrait},
};

use super::article::{ArticleFilter, Visibility, condition};
use crate::error::AppResult;

/// The segmented text of one article, per weighted field.
pub struct IndexTerms<'a> {
    /// Title terms (weight A).
    pub title: &'a str,
    /// Summary and tag terms (weight B).
    pub meta: &'a str,
    /// Body terms (weight C).
    pub body: &'a str,
}

/// Stores (or replaces) an article's index entry.
pub async fn index(conn: &impl ConnectionTrait, id: i32, terms: &IndexTerms<'_>) -> AppResult<()> {
    let backend = conn.get_database_backend();
    let values = |sql: &str| {
        Statement::from_sql_and_values(
            backend,
            sql,
            [
                terms.title.into(),
                terms.meta.into(),
                terms.body.into(),
                id.into(),
            ],
        )
    };
    match backend {
        DbBackend::Postgres => {
            conn.execute_raw(values(
                "UPDATE articles SET \
                 search_head = setweight(to_tsvector('simple', $1), 'A') || \
                 setweight(to_tsvector('simple', $2), 'B'), \
                 search_vector = setweight(to_tsvector('simple', $1), 'A') || \
                 setweight(to_tsvector('simple', $2), 'B') || \
                 setweight(to_tsvector('simple', $3), 'C') WHERE id = $4",
            ))
            .await?;
        }
        _ => {
            remove(conn, id).await?;
            conn.execute_raw(values(
                "INSERT INTO article_search (title, meta, body, rowid) VALUES (?, ?, ?, ?)",
            ))
            .await?;
        }
    }
    Ok(())
}

/// Drops an article's index entry (Postgres keeps it in the row, which goes with the row).
pub async fn remove(conn: &impl ConnectionTrait, id: i32) -> AppResult<()> {
    if conn.get_database_backend() != DbBackend::Postgres {
        conn.execute_raw(Statement::from_sql_and_values(
            conn.get_database_backend(),
            "DELETE FROM article_search WHERE rowid = ?",
            [id.into()],
        ))
        .await?;
    }
    Ok(())
}

/// The score of articles with every term in the title.
pub const TITLE_SCORE: f64 = 2.0;
/// The score of articles with every term in the title, summary or tags, but not all in the title.
pub const HEAD_SCORE: f64 = 1.0;
/// The score of articles that need the body to match every term.
pub const BODY_SCORE: f64 = 0.0;

/// One tier of a search: the articles matching where it says and in no better tier, all with
/// the same score.
struct Tier {
    score: f64,
    matches: Vec<Expr>,
}

/// A string as an SQL literal. The terms are letters and digits only (see
/// domain::search_text), so the quote doubling is belt and braces.
fn sql_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Where all of a query's terms occur.
struct Matches {
    /// All in the title.
    title: Expr,
    /// Not all in the title.
    not_title: Expr,
    /// All in the head: title, summary and tags.
    head: Expr,
    /// Not all in the head.
    not_head: Expr,
    /// All somewhere, the body included.
    anywhere: Expr,
}

impl Matches {
    /// The conditions for `terms`, all of which must match.
    fn new(backend: DbBackend, terms: &[String]) -> Self {
        match backend {
            DbBackend::Postgres => {
                // The tsquery is written into the SQL rather than bound: the generic plan of a
                // prepared statement cannot see how many rows a bound tsquery matches, and
                // reading in id order is right for a frequent word but slow for a rare one.
                let all = terms
                    .iter()
                    .map(|t| format!("'{t}'"))
                    .collect::<Vec<_>>()
                    .join(" & ");
                let all = format!("to_tsquery('simple', {})", sql_literal(&all));
                // The expression of the title index (see its migration): the head's A part.
                let title = format!("ts_filter(\"articles\".\"search_head\", '{{a}}') @@ {all}");
                let head = format!("\"articles\".\"search_head\" @@ {all}");
                let not = |cond: &str| Expr::cust(format!("NOT coalesce({cond}, false)"));
                Self {
                    not_title: not(&title),
                    not_head: not(&head),
                    title: Expr::cust(title),
                    head: Expr::cust(head),
                    anywhere: Expr::cust(format!("\"articles\".\"search_vector\" @@ {all}")),
                }
            }
            _ => {
                let all = terms
                    .iter()
                    .map(|t| format!("\"{t}\""))
                    .collect::<Vec<_>>()
                    .join(" AND ");
                // FTS5 column filters: every phrase of the expression in one of these columns.
                let title = format!("{{title}} : ({all})");
                let head = format!("{{title meta}} : ({all})");
                let ids = |not: &str, fts: &str| {
                    Expr::cust_with_values(
                        format!(
                            "\"articles\".\"id\" {not}IN \
                             (SELECT rowid FROM article_search WHERE article_search MATCH ?)"
                        ),
                        [fts.to_owned()],
                    )
                };
                Self {
                    title: ids("", &title),
                    not_title: ids("NOT ", &title),
                    head: ids("", &head),
                    not_head: ids("NOT ", &head),
                    anywhere: ids("", &all),
                }
            }
        }
    }

    /// The tiers, best first: each article is in the best one it qualifies for.
    fn tiers(self) -> [Tier; 3] {
        [
            Tier {
                score: TITLE_SCORE,
                matches: vec![self.title],
            },
            Tier {
                score: HEAD_SCORE,
                matches: vec![self.head, self.not_title],
            },
            Tier {
                score: BODY_SCORE,
                matches: vec![self.anywhere, self.not_head],
            },
        ]
    }
}

/// Ids and scores of the best matches after `after` (score, id), best first, at most `limit`.
///
/// Three tiers, best first: every term in the title (`TITLE_SCORE`); every term in the title,
/// summary or tags (`HEAD_SCORE`); every term somewhere, the body included (`BODY_SCORE`). Each
/// article is in the best tier it qualifies for, and within a tier the most recently added
/// (highest id) comes first. Scoring by tier rather than by a rank computed per hit keeps the
/// cost from growing with the number of hits: a tier is read in id order and stops after
/// `limit` rows, or, for a rare word, is collected from the GIN index and sorted.
/// Both cases order by (score, id) descending, so one (score, id) cursor pages through every
/// tier without skipping or repeating a hit.
pub async fn search(
    db: &impl TransactionTrait,
    terms: &[String],
    filter: &ArticleFilter,
    vis: Visibility,
    after: Option<(f64, i32)>,
    limit: u64,
) -> AppResult<Vec<(i32, f64)>> {
    let txn = db.begin().await?;
    let backend = txn.get_database_backend();
    if backend == DbBackend::Postgres {
        // After five runs of a prepared statement Postgres may switch to a generic plan, which
        // guesses that `published_at <= $now` keeps a third of the rows and ANDs in a scan of
        // the whole published_at index (6 to 14 ms per tier at 100,000 articles, against well
        // under 1 ms). Planning each tier for its values is cheap next to that.
        txn.execute_unprepared("SET LOCAL plan_cache_mode = force_custom_plan")
            .await?;
    }
    let mut hits: Vec<(i32, f64)> = Vec::new();
    for tier in Matches::new(backend, terms).tiers() {
        let missing = limit.saturating_sub(hits.len() as u64);
        if missing == 0 {
            break;
        }
        let mut select = article::Entity::find()
            .select_only()
            .column(article::Column::Id)
            .filter(condition(filter, vis));
        for m in tier.matches {
            select = select.filter(m);
        }
        match after {
            // The cursor lies in a lower tier: this one is behind it.
            Some((score, _)) if tier.score > score => continue,
            Some((score, after_id)) if tier.score == score => {
                select = select.filter(article::Column::Id.lt(after_id));
            }
            _ => {}
        }
        // Every tier asks for a whole page, even when fewer rows are missing: with a small
        // LIMIT the planner reads in id order and checks each row's out-of-line vector, which
        // it does not price (7 ms for 6 rows of a word in 0.5% of articles, against 2 ms to
        // collect all 530 matches from the GIN index and sort them).
        let ids: Vec<i32> = select
            .order_by_desc(article::Column::Id)
            .limit(limit)
            .into_tuple()
            .all(&txn)
            .await?;
        hits.extend(
            ids.into_iter()
                .take(usize::try_from(missing).unwrap_or(usize::MAX))
                .map(|id| (id, tier.score)),
        );
    }
    txn.commit().await?;
    Ok(hits)
}

/// The visible articles among `ids` (any order; hidden and missing ids are left out). Without
/// `with_bodies`, `body` and `body_html` are read as empty strings: they are most of a row.
pub async fn find_articles(
    conn: &impl ConnectionTrait,
    ids: &[i32],
    vis: Visibility,
    with_bodies: bool,
) -> AppResult<Vec<article::Model>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut select = article::Entity::find()
        .filter(vis.condition())
        .filter(article::Column::Id.is_in(ids.iter().copied()));
    if !with_bodies {
        select = super::article::without_bodies(select);
    }
    Ok(select.all(conn).await?)
}

/// Ids of the articles carrying tag `tag_id`, ascending.
pub async fn article_ids_tagged(conn: &impl ConnectionTrait, tag_id: i32) -> AppResult<Vec<i32>> {
    use entity::article_tag;

    Ok(article_tag::Entity::find()
        .select_only()
        .column(article_tag::Column::ArticleId)
        .filter(article_tag::Column::TagId.eq(tag_id))
        .order_by_asc(article_tag::Column::ArticleId)
        .into_tuple()
        .all(conn)
        .await?)
}

/// How many articles match `terms` (and the filter).
pub async fn count(
    db: &impl TransactionTrait,
    terms: &[String],
    filter: &ArticleFilter,
    vis: Visibility,
) -> AppResult<u64> {
    let txn = db.begin().await?;
    let backend = txn.get_database_backend();
    if backend == DbBackend::Postgres {
        // When most rows match, the planner prefers a sequential scan, which has to read every
        // row's out-of-line vector (about 2 s at 94,000 hits of 100,000); it does not price
        // that. The GIN bitmap answers an AND of words without reading any vector (no recheck):
        // about 0.2 s for the same count.
        txn.execute_unprepared("SET LOCAL enable_seqscan = off")
            .await?;
    }
    let count = article::Entity::find()
        .filter(condition(filter, vis))
        .filter(Matches::new(backend, terms).anywhere)
        .count(&txn)
        .await?;
    txn.commit().await?;
    Ok(count)
}

/// Visible articles sharing tags with `article_id`: `(id, number of shared tags)`, most
/// shared first.
pub async fn sharing_tags(
    conn: &impl ConnectionTrait,
    article_id: i32,
    vis: Visibility,
    limit: u64,
) -> AppResult<Vec<(i32, i64)>> {
    use entity::article_tag;
    use sea_orm::sea_query::{Alias, Query};

    let mine = Alias::new("mine");
    let own_tags = Query::select()
        .column((mine.clone(), article_tag::Column::TagId))
        .from_as(article_tag::Entity, mine.clone())
        .and_where(Expr::col((mine, article_tag::Column::ArticleId)).eq(article_id))
        .to_owned();
    let shared = Expr::col((article_tag::Entity, article_tag::Column::TagId)).count();
    Ok(article_tag::Entity::find()
        .select_only()
        .column(article_tag::Column::ArticleId)
        .expr_as(shared.clone(), "shared")
        .inner_join(article::Entity)
        .filter(vis.condition())
        .filter(article_tag::Column::TagId.in_subquery(own_tags))
        .filter(article_tag::Column::ArticleId.ne(article_id))
        .group_by(article_tag::Column::ArticleId)
        .order_by_desc(shared)
        .order_by_desc(article_tag::Column::ArticleId)
        .limit(limit)
        .into_tuple()
        .all(conn)
        .await?)
}

/// Visible articles (other than `article_id`) in `category`, newest first.
pub async fn same_category(
    conn: &impl ConnectionTrait,
    article_id: i32,
    category: &str,
    vis: Visibility,
    limit: u64,
) -> AppResult<Vec<article::Model>> {
    Ok(article::Entity::find()
        .filter(vis.condition())
        .filter(article::Column::Category.eq(category))
        .filter(article::Column::Id.ne(article_id))
        .order_by_desc(article::Column::PublishedAt)
        .order_by_desc(article::Column::Id)
        .limit(limit)
        .all(conn)
        .await?)
}
