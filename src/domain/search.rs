//! Chinese-aware full-text search: documents and queries are segmented here (jieba), the
//! database matches and ranks the terms (see db::search), and hits are highlighted here.

use std::{path::Path, sync::OnceLock};

use entity::{article, tag};
use sea_orm::{ConnectionTrait, TransactionTrait, Value};

use super::{
    markdown,
    page::{self, Page, PageArgs, Sort, SortKind, SortValue},
    search_text::{self, Segmenter},
};
use crate::{
    db::{
        self,
        article::{ArticleFilter, Visibility},
        page::Rows,
        search::IndexTerms,
    },
    error::{AppError, AppResult},
};

static SEGMENTER: OnceLock<Segmenter> = OnceLock::new();

const BY_SCORE: Sort = Sort {
    name: "search",
    kind: SortKind::Float,
};

/// Characters of body text around the first match in a hit's snippet.
pub const SNIPPET_CHARS: usize = 160;

/// Builds the segmenter with an extra user dictionary (one term a line). Call once at start-up;
/// without it the first search or write builds one with the built-in dictionary.
pub fn configure(user_dict: Option<&Path>) -> Result<(), String> {
    let seg = match user_dict {
        Some(path) => Segmenter::with_user_dict(path)?,
        None => Segmenter::new(),
    };
    // A segmenter built earlier (by a first request) stays; configure runs before serving.
    let _ = SEGMENTER.set(seg);
    Ok(())
}

fn segmenter() -> &'static Segmenter {
    SEGMENTER.get_or_init(Segmenter::new)
}

/// (Re)indexes one article: its title, its summary and tag names, and its body.
pub async fn index_article(conn: &impl ConnectionTrait, article: &article::Model) -> AppResult<()> {
    let seg = segmenter();
    let tags: Vec<String> = db::article::tags_of(conn, &[article.id])
        .await?
        .into_iter()
        .map(|(_, t)| t.name)
        .collect();
    let meta = format!(
        "{} {}",
        article.summary.as_deref().unwrap_or_default(),
        tags.join(" ")
    );
    let body = markdown::plain_text(&article.body);
    let title = seg.index_terms(&article.title);
    let meta = seg.index_terms(&meta);
    let body = seg.index_terms(&body);
    db::search::index(
        conn,
        article.id,
        &IndexTerms {
            title: &title,
            meta: &meta,
            body: &body,
        },
    )
    .await
}

/// Ids of the articles carrying a tag: collect them before a tag is renamed, merged or deleted,
/// and [`reindex`] them after (their index entry holds the tag's name).
pub async fn articles_tagged(conn: &impl ConnectionTrait, tag_id: i32) -> AppResult<Vec<i32>> {
    db::search::article_ids_tagged(conn, tag_id).await
}

/// Re-indexes the articles with these ids (missing ones are skipped), a few hundred at a time.
pub async fn reindex(conn: &impl ConnectionTrait, ids: &[i32]) -> AppResult<()> {
    for chunk in ids.chunks(200) {
        for a in db::search::find_articles(conn, chunk, Visibility::Everything, true).await? {
            index_article(conn, &a).await?;
        }
    }
    Ok(())
}

/// Removes an article from the index.
pub async fn unindex(conn: &impl ConnectionTrait, id: i32) -> AppResult<()> {
    db::search::remove(conn, id).await
}

/// The terms of a query; an empty or all-punctuation query is `BAD_USER_INPUT`.
pub fn query_terms(query: &str) -> AppResult<Vec<String>> {
    let terms = segmenter().query_terms(query);
    if terms.is_empty() {
        return Err(AppError::invalid(
            "query",
            "give at least one word to search for",
        ));
    }
    Ok(terms)
}

/// One search hit.
#[derive(Clone, Debug)]
pub struct Hit {
    /// The article.
    pub article: article::Model,
    /// Relevance (higher is better; comparable within one search only).
    pub score: f64,
    /// The title, HTML-escaped, with `<mark>` around matched terms.
    pub title_html: String,
    /// A piece of the body around the first match, HTML-escaped, with `<mark>`s (empty when
    /// the search ran without bodies).
    pub snippet_html: String,
}

/// One page of hits for `query`, best first; pages with stable (score, id) cursors. Ranking
/// (see db::search::search): articles with every word in the title first (score 2), then with
/// every word in the title, summary or tags (1), then the rest (0, a word only in the body);
/// within each, the most recently added first.
///
/// Without `with_bodies` the hits' bodies are not read and their snippets are empty: only ask
/// for bodies when the caller shows a snippet or the body.
pub async fn search(
    conn: &(impl ConnectionTrait + TransactionTrait),
    query: &str,
    filter: &ArticleFilter,
    args: &PageArgs,
    vis: Visibility,
    with_bodies: bool,
) -> AppResult<Page<Hit>> {
    let terms = query_terms(query)?;
    let spec = page::spec(args, BY_SCORE)?;
    if spec.from_end || spec.before.is_some() {
        return Err(AppError::bad_input(
            "search pages forwards only: use `first` and `after`",
        ));
    }
    let after = match &spec.after {
        Some(k) => match &k.value {
            Value::Double(Some(s)) => Some((*s, k.id)),
            _ => return Err(AppError::bad_input("`after` is not a search cursor")),
        },
        None => None,
    };
    let found = db::search::search(conn, &terms, filter, vis, after, spec.limit + 1).await?;
    let ids: Vec<i32> = found.iter().map(|(id, _)| *id).collect();
    let mut models = db::search::find_articles(conn, &ids, vis, with_bodies).await?;
    let mut hits = Vec::with_capacity(found.len());
    for (id, score) in found {
        if let Some(i) = models.iter().position(|m| m.id == id) {
            let article = models.swap_remove(i);
            let snippet_html = if with_bodies {
                let plain = markdown::plain_text(&article.body);
                search_text::snippet(&plain, &terms, SNIPPET_CHARS)
            } else {
                String::new()
            };
            hits.push(Hit {
                title_html: search_text::highlight(&article.title, &terms),
                snippet_html,
                article,
                score,
            });
        }
    }
    let has_more = hits.len() as u64 > spec.limit;
    hits.truncate(usize::try_from(spec.limit).unwrap_or(usize::MAX));
    Ok(Page::from_rows(
        Rows {
            rows: hits,
            has_more,
        },
        &spec,
        BY_SCORE,
        |h| (h.article.id, SortValue::Float(h.score)),
    ))
}

/// How many articles match `query`.
pub async fn count(
    db: &impl TransactionTrait,
    query: &str,
    filter: &ArticleFilter,
    vis: Visibility,
) -> AppResult<u64> {
    let terms = query_terms(query)?;
    db::search::count(db, &terms, filter, vis).await
}

/// An article related to another, with the tags they share.
#[derive(Clone, Debug)]
pub struct Related {
    /// The related article.
    pub article: article::Model,
    /// Tags both carry, in the related article's order.
    pub shared_tags: Vec<tag::Model>,
}

/// Up to `first` visible articles related to `article`: most shared tags first, then same
/// category, then title similarity (shared title terms), then recency.
pub async fn related(
    conn: &impl ConnectionTrait,
    article: &article::Model,
    first: usize,
    vis: Visibility,
) -> AppResult<Vec<Related>> {
    const CANDIDATES: u64 = 50;
    let by_tags = db::search::sharing_tags(conn, article.id, vis, CANDIDATES).await?;
    let mut ids: Vec<i32> = by_tags.iter().map(|(id, _)| *id).collect();
    let mut models = db::article::find_visible_by_ids(conn, &ids, vis).await?;
    if let Some(category) = article.category.as_deref() {
        for m in db::search::same_category(conn, article.id, category, vis, CANDIDATES).await? {
            if !ids.contains(&m.id) {
                ids.push(m.id);
                models.push(m);
            }
        }
    }
    let seg = segmenter();
    let own_terms: Vec<String> = seg.query_terms(&article.title);
    let shared_count = |id: i32| {
        by_tags
            .iter()
            .find(|(i, _)| *i == id)
            .map_or(0, |(_, n)| *n)
    };
    let mut scored: Vec<(i64, bool, usize, article::Model)> = models
        .into_iter()
        .map(|m| {
            let terms = seg.query_terms(&m.title);
            let common = terms.iter().filter(|t| own_terms.contains(t)).count();
            let same_category = m.category.is_some() && m.category == article.category;
            (shared_count(m.id), same_category, common, m)
        })
        .collect();
    scored.sort_by(|a, b| {
        (b.0, b.1, b.2, b.3.published_at, b.3.id).cmp(&(a.0, a.1, a.2, a.3.published_at, a.3.id))
    });
    scored.truncate(first);
    let mut all_ids: Vec<i32> = scored.iter().map(|s| s.3.id).collect();
    all_ids.push(article.id);
    let tags = db::article::tags_of(conn, &all_ids).await?;
    let own: Vec<i32> = tags
        .iter()
        .filter(|(a, _)| *a == article.id)
        .map(|(_, t)| t.id)
        .collect();
    Ok(scored
        .into_iter()
        .map(|(_, _, _, m)| Related {
            shared_tags: tags
                .iter()
                .filter(|(a, t)| *a == m.id && own.contains(&t.id))
                .map(|(_, t)| t.clone())
                .collect(),
            article: m,
        })
        .collect())
}
