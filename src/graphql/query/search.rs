//! `search`: Chinese-aware full-text search over articles.

use async_graphql::{Context, Object, SimpleObject};
use sea_orm::DatabaseConnection;

use crate::{
    domain::{self, page::PageArgs},
    graphql::{
        cache::{self, ArticleList},
        types::{Article, ArticleFilterInput, SearchConnection, TotalCount, connection},
        visibility,
    },
};

/// Search lookups.
#[derive(Default)]
pub struct SearchQuery;

/// One search result.
#[derive(SimpleObject)]
pub struct SearchHit {
    /// The matching article.
    pub article: Article,
    /// Relevance; higher is better, comparable within one search.
    pub score: f64,
    /// The title, HTML-escaped, with `<mark>` around matched terms.
    pub title_highlight: String,
    /// A passage of the body around the first match, HTML-escaped, with `<mark>`s.
    pub snippet: String,
}

#[Object]
impl SearchQuery {
    /// Articles matching every word of `query`, best first. Chinese is segmented into words
    /// (so 大厂 matches 大厂, not every 大 or 厂); Latin words match case-insensitively;
    /// punctuation and operators are plain text. Queries are cut at 100 characters.
    async fn search(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Words to find.")] query: String,
        #[graphql(desc = "Items from the start (0 to 100, default 20).")] first: Option<i32>,
        #[graphql(desc = "Cursor to start after.")] after: Option<String>,
        #[graphql(desc = "Only articles matching this.")] filter: Option<ArticleFilterInput>,
    ) -> async_graphql::Result<SearchConnection> {
        let db = ctx.data::<DatabaseConnection>()?;
        let filter = domain::article::normalize_filter(filter.unwrap_or_default().into())?;
        let page = PageArgs {
            first,
            after,
            ..Default::default()
        };
        cache::article_list(ArticleList::All);
        // Read bodies only for a snippet or a body-derived article field (the fields that
        // article listings read bodies for, see types::article::article_connection).
        let look = ctx.look_ahead();
        let needs_body = |hit: async_graphql::Lookahead<'_>| {
            let article = hit.field("article");
            hit.field("snippet").exists()
                || ["body", "excerpt", "tableOfContents"]
                    .iter()
                    .any(|f| article.field(f).exists())
        };
        let with_bodies =
            needs_body(look.field("edges").field("node")) || needs_body(look.field("nodes"));
        let hits = domain::search::search(db, &query, &filter, &page, visibility(ctx), with_bodies)
            .await?;
        Ok(connection(hits, TotalCount::Search(query, filter), |h| {
            SearchHit {
                article: h.article.into(),
                score: h.score,
                title_highlight: h.title_html,
                snippet: h.snippet_html,
            }
        }))
    }
}
