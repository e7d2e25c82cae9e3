//! Full-text search queries. Terms arrive already segmented (see domain::search_text); each
//! backend matches and ranks them with its own index (see the search migration).

use entity::article;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Statement,
    sea_query::{Expr, ExprTrait},
};

use super::article::{ArticleFilter, Visibility, condition};
use crate::error::AppResult;

/// Weights of the title, meta (summary and tags) and body columns in SQLite's bm25.
const BM25_WEIGHTS: &str = "10.0, 5.0, 1.0";

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
                "UPDATE articles SET search_vector = \
                 setweight(to_tsvector('simple', $1), 'A') || \
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

/// A match condition and a score expression for `terms` (all of which must match).
fn match_and_score(backend: DbBackend, terms: &[String]) -> (Expr, Expr) {
    match backend {
        DbBackend::Postgres => {
            // Terms are letters and digits only; quoting keeps them literal all the same.
            let tsquery = terms
                .iter()
                .map(|t| format!("'{t}'"))
                .collect::<Vec<_>>()
                .join(" & ");
            (
                Expr::cust_with_values(
                    "\"articles\".\"search_vector\" @@ to_tsquery('simple', $1)",
                    [tsquery.clone()],
                ),
                Expr::cust_with_values(
                    "ts_rank(\"articles\".\"search_vector\", to_tsquery('simple', $1))::float8",
                    [tsquery],
                ),
            )
        }
        _ => {
            let fts = terms
                .iter()
                .map(|t| format!("\"{t}\""))
                .collect::<Vec<_>>()
                .join(" AND ");
            (
                Expr::cust_with_values(
                    "\"articles\".\"id\" IN (SELECT rowid FROM article_search WHERE article_search MATCH ?)",
                    [fts.clone()],
                ),
                Expr::cust_with_values(
                    format!(
                        "(SELECT -bm25(article_search, {BM25_WEIGHTS}) FROM article_search \
                         WHERE article_search MATCH ? AND article_search.rowid = \"articles\".\"id\")"
                    ),
                    [fts],
                ),
            )
        }
    }
}

/// Ids and scores of the best matches after `after` (score, id), best first, at most `limit`.
pub async fn search(
    conn: &impl ConnectionTrait,
    terms: &[String],
    filter: &ArticleFilter,
    vis: Visibility,
    after: Option<(f64, i32)>,
    limit: u64,
) -> AppResult<Vec<(i32, f64)>> {
    let (matched, score) = match_and_score(conn.get_database_backend(), terms);
    let mut select = article::Entity::find()
        .select_only()
        .column(article::Column::Id)
        .expr_as(score.clone(), "score")
        .filter(condition(filter, vis))
        .filter(matched);
    if let Some((s, id)) = after {
        select = select.filter(
            Expr::tuple([
                score.clone(),
                Expr::col((article::Entity, article::Column::Id)),
            ])
            .lt(Expr::tuple([Expr::val(s), Expr::val(id)])),
        );
    }
    Ok(select
        .order_by_desc(score)
        .order_by_desc(article::Column::Id)
        .limit(limit)
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
    let (matched, _) = match_and_score(conn.get_database_backend(), terms);
    Ok(article::Entity::find()
        .filter(condition(filter, vis))
        .filter(matched)
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
