//! Full-text search queries. Terms arrive already segmented (see domain::search_text); each
//! backend matches and ranks them with its own index (see the search migration).

use entity::article;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, Iterable, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Statement,
    sea_query::{Expr, ExprTrait},
};

use super::article::{ArticleFilter, Visibility, condition};
use crate::error::AppResult;

/// Weights of the title, meta (summary and tags) and body columns in SQLite's bm25 of a head
/// match (the body does not count, as on Postgres).
const HEAD_BM25_WEIGHTS: &str = "10.0, 5.0, 0.0";

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

/// Scores of articles matching in the title, summary or tags start here; articles matching
/// only through the body score 0.
pub const HEAD_SCORE_BASE: f64 = 1.0;

/// The SQL pieces of one query: `terms` (all of which must match) against the whole text and
/// against the head (title, summary and tags).
struct Matchers {
    /// Every term occurs somewhere in the article.
    anywhere: Expr,
    /// Every term occurs in the head.
    in_head: Expr,
    /// Not every term occurs in the head.
    not_in_head: Expr,
    /// Relevance of a head match: `HEAD_SCORE_BASE` plus the weighted rank of the head alone.
    head_score: Expr,
}

impl Matchers {
    fn new(backend: DbBackend, terms: &[String]) -> Self {
        match backend {
            DbBackend::Postgres => {
                // Terms are letters and digits only; quoting keeps them literal all the same.
                let q = terms
                    .iter()
                    .map(|t| format!("'{t}'"))
                    .collect::<Vec<_>>()
                    .join(" & ");
                let cust = |sql: &str| Expr::cust_with_values(sql.to_owned(), [q.clone()]);
                Self {
                    anywhere: cust("\"articles\".\"search_vector\" @@ to_tsquery('simple', $1)"),
                    in_head: cust("\"articles\".\"search_head\" @@ to_tsquery('simple', $1)"),
                    not_in_head: cust(
                        "NOT coalesce(\"articles\".\"search_head\" @@ to_tsquery('simple', $1), false)",
                    ),
                    // The head is small and stored inline: ranking it never reads the body's
                    // vector, which is what made ranking every hit expensive.
                    head_score: cust(&format!(
                        "({HEAD_SCORE_BASE:?}::float8 + \
                         ts_rank(\"articles\".\"search_head\", to_tsquery('simple', $1))::float8)"
                    )),
                }
            }
            _ => {
                let all = terms
                    .iter()
                    .map(|t| format!("\"{t}\""))
                    .collect::<Vec<_>>()
                    .join(" AND ");
                let head = format!("{{title meta}} : ({all})");
                let ids_matching = "\"articles\".\"id\" IN \
                    (SELECT rowid FROM article_search WHERE article_search MATCH ?)";
                Self {
                    anywhere: Expr::cust_with_values(ids_matching, [all]),
                    in_head: Expr::cust_with_values(ids_matching, [head.clone()]),
                    not_in_head: Expr::cust_with_values(
                        "\"articles\".\"id\" NOT IN \
                         (SELECT rowid FROM article_search WHERE article_search MATCH ?)",
                        [head.clone()],
                    ),
                    head_score: Expr::cust_with_values(
                        format!(
                            "(SELECT {HEAD_SCORE_BASE:?} - bm25(article_search, {HEAD_BM25_WEIGHTS}) \
                             FROM article_search WHERE article_search MATCH ? \
                             AND article_search.rowid = \"articles\".\"id\")"
                        ),
                        [head],
                    ),
                }
            }
        }
    }
}

/// Ids and scores of the best matches after `after` (score, id), best first, at most `limit`.
///
/// Two tiers, so that the cost does not grow with the number of hits: first the articles with
/// every term in the head (title, summary, tags), ranked by the head alone (title above summary
/// and tags), score `HEAD_SCORE_BASE` and up; then the articles matching only through the body,
/// score 0, most recently added (highest id) first. Both tiers order by (score, id) descending,
/// so one (score, id) cursor pages through both without skipping or repeating a hit.
pub async fn search(
    conn: &impl ConnectionTrait,
    terms: &[String],
    filter: &ArticleFilter,
    vis: Visibility,
    after: Option<(f64, i32)>,
    limit: u64,
) -> AppResult<Vec<(i32, f64)>> {
    let m = Matchers::new(conn.get_database_backend(), terms);
    let id = || Expr::col((article::Entity, article::Column::Id));
    let mut hits: Vec<(i32, f64)> = Vec::new();
    let body_after = match after {
        // A cursor in the body tier: the head tier lies behind it.
        Some((score, after_id)) if score < HEAD_SCORE_BASE => Some(after_id),
        _ => {
            let mut head = article::Entity::find()
                .select_only()
                .column(article::Column::Id)
                .expr_as(m.head_score.clone(), "score")
                .filter(condition(filter, vis))
                .filter(m.in_head);
            if let Some((s, after_id)) = after {
                head = head.filter(
                    Expr::tuple([m.head_score.clone(), id()])
                        .lt(Expr::tuple([Expr::val(s), Expr::val(after_id)])),
                );
            }
            hits = head
                .order_by_desc(m.head_score)
                .order_by_desc(article::Column::Id)
                .limit(limit)
                .into_tuple()
                .all(conn)
                .await?;
            None
        }
    };
    let missing = limit.saturating_sub(hits.len() as u64);
    if missing > 0 {
        let mut body = article::Entity::find()
            .select_only()
            .column(article::Column::Id)
            .expr_as(Expr::val(0.0_f64), "score")
            .filter(condition(filter, vis))
            .filter(m.anywhere)
            .filter(m.not_in_head);
        if let Some(after_id) = body_after {
            body = body.filter(article::Column::Id.lt(after_id));
        }
        let rest: Vec<(i32, f64)> = body
            .order_by_desc(article::Column::Id)
            .limit(missing)
            .into_tuple()
            .all(conn)
            .await?;
        hits.extend(rest);
    }
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
        select = select
            .select_only()
            .columns(
                article::Column::iter()
                    .filter(|c| !matches!(c, article::Column::Body | article::Column::BodyHtml)),
            )
            .expr_as(Expr::val(""), "body")
            .expr_as(Expr::val(""), "body_html");
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
    conn: &impl ConnectionTrait,
    terms: &[String],
    filter: &ArticleFilter,
    vis: Visibility,
) -> AppResult<u64> {
    let m = Matchers::new(conn.get_database_backend(), terms);
    Ok(article::Entity::find()
        .filter(condition(filter, vis))
        .filter(m.anywhere)
        .count(conn)
        .await?)
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
