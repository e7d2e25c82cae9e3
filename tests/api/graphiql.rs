//! GraphiQL: the page a browser gets at `GET /graphql` and the assets it loads, all served by
//! the binary itself.

use axum::{
    body::Body,
    http::{HeaderMap, Request, StatusCode},
};

use crate::helpers::TestApp;

fn get(path: &str, accept: &str) -> Request<Body> {
    Request::get(path)
        .header("accept", accept)
        .body(Body::empty())
        .unwrap()
}

/// The values of every `src="…"` and `href="…"` attribute in `html`.
fn linked_urls(html: &str) -> Vec<String> {
    ["src=\"", "href=\""]
        .iter()
        .flat_map(|attr| html.split(attr).skip(1))
        .filter_map(|rest| rest.split('"').next())
        .map(str::to_owned)
        .collect()
}

/// The linked URLs that the browser fetches from the server (not inline `data:` ones).
fn asset_urls(html: &str) -> Vec<String> {
    linked_urls(html)
        .into_iter()
        .filter(|u| !u.starts_with("data:"))
        .collect()
}

async fn page(app: &TestApp) -> (HeaderMap, String) {
    let (status, headers, body) = app.send(get("/graphql", "text/html,*/*;q=0.8")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    (headers, body)
}

#[tokio::test]
async fn graphiql_page_links_only_assets_of_this_server() {
    // Arrange
    let app = TestApp::sqlite().await;

    // Act
    let (headers, html) = page(&app).await;

    // Assert
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    assert!(html.contains("<div id=\"graphiql\">"), "{html}");
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "{html}"
    );
    for url in linked_urls(&html) {
        assert!(
            url.starts_with("/graphiql/") || url.starts_with("data:"),
            "{url} is not one of ours"
        );
    }
    let assets = asset_urls(&html);
    assert_eq!(assets.len(), 5, "a stylesheet and four scripts: {assets:?}");
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(csp.contains("connect-src 'self'"), "{csp}");
}

#[tokio::test]
async fn graphiql_assets_are_served_with_their_content_type_and_cached_by_digest() {
    // Arrange
    let app = TestApp::sqlite().await;
    let (_, html) = page(&app).await;

    for url in asset_urls(&html) {
        // Act
        let (status, headers, body) = app.send(get(&url, "*/*")).await;

        // Assert
        assert_eq!(status, StatusCode::OK, "{url}");
        let expected = if url.ends_with(".css") {
            "text/css; charset=utf-8"
        } else {
            "text/javascript; charset=utf-8"
        };
        assert_eq!(headers["content-type"], expected, "{url}");
        assert!(body.len() > 100, "{url} has a {}-byte body", body.len());
        assert_eq!(
            headers["cache-control"], "public, max-age=31536000, immutable",
            "{url}"
        );
        // The URL's digest segment is the ETag, and a revalidation with it is a 304.
        let digest = url.split('/').nth(2).unwrap();
        let etag = headers["etag"].to_str().unwrap();
        assert_eq!(etag, format!("\"{digest}\""), "{url}");
        let revalidate = Request::get(&url)
            .header("if-none-match", etag)
            .body(Body::empty())
            .unwrap();
        let (status, _, body) = app.send(revalidate).await;
        assert_eq!(status, StatusCode::NOT_MODIFIED, "{url}");
        assert!(body.is_empty(), "{url}");
    }
}

#[tokio::test]
async fn unknown_graphiql_assets_are_404() {
    // Arrange
    let app = TestApp::sqlite().await;
    let (_, html) = page(&app).await;
    let known = asset_urls(&html).into_iter().next().unwrap();
    let digest = known.split('/').nth(2).unwrap();
    let stale = known.replacen(digest, "0000000000000000", 1);

    for path in [
        format!("/graphiql/{digest}/nope.js"),
        stale,
        "/graphiql/graphiql.min.js".to_owned(),
        "/graphiql/".to_owned(),
    ] {
        // Act
        let (status, _, _) = app.send(get(&path, "*/*")).await;

        // Assert
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
}

#[tokio::test]
async fn graphiql_page_is_served_even_when_introspection_is_off() {
    // Arrange
    let mut app = TestApp::sqlite().await;
    app.reconfigure(|c| c.introspection = Some(false));

    // Act
    let (_, html) = page(&app).await;

    // Assert: GraphiQL still runs queries; it shows the refused schema query itself.
    assert_eq!(asset_urls(&html).len(), 5);
}
