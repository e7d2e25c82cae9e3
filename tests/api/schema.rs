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
