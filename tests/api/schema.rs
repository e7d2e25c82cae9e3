//! `schema.graphql` is the API contract: it must equal what the server exposes.

#[test]
fn schema_graphql_is_up_to_date() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql");
    let sdl = content_api::graphql::schema_sdl();
    if std::fs::read_to_string(path).unwrap_or_default() != sdl {
        std::fs::write(path, &sdl).unwrap();
        panic!("schema.graphql was stale and has been rewritten; review the diff and commit it");
    }
}

#[test]
fn subgraph_graphql_is_up_to_date() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/subgraph.graphql");
    let sdl = content_api::graphql::subgraph_sdl();
    if std::fs::read_to_string(path).unwrap_or_default() != sdl {
        std::fs::write(path, &sdl).unwrap();
        panic!("subgraph.graphql was stale and has been rewritten; review the diff and commit it");
    }
    for key in [
        "type Article implements Node @key(fields: \"id\")",
        "type Author implements Node @key(fields: \"id\")",
        "type Tag implements Node @key(fields: \"id\")",
    ] {
        assert!(sdl.contains(key), "{key} missing from the subgraph SDL");
    }
    assert!(sdl.contains("https://specs.apollo.dev/federation/v2"));
}
