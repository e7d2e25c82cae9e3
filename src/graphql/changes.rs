//! Which mutations change what anonymous readers see, beyond the article events their
//! resolvers announce themselves. After such a mutation the whole content is announced as
//! changed ([`Event::Changed`](crate::domain::live::Event::Changed)), so caches of responses
//! start afresh. The rule fails safe: a mutation not listed here as announcing its own events
//! (or as invisible to readers) counts as a change.

use async_graphql::{
    Value,
    parser::types::{DocumentOperations, ExecutableDocument, OperationType, Selection},
};

/// Mutations that change nothing a response cache holds beyond the events they announce
/// themselves: article changes (content, status and tags: `Published`, `Updated`, ...),
/// counters (`Stats`), and what only credentials can read (keys, webhooks, preview tokens).
const ANNOUNCED_OR_PRIVATE: &[&str] = &[
    "createArticle",
    "updateArticle",
    "publishArticle",
    "unpublishArticle",
    "archiveArticle",
    "deleteArticle",
    "setArticleTags",
    "createPreviewToken",
    "recordView",
    "likeArticle",
    "unlikeArticle",
    "collectArticle",
    "uncollectArticle",
    "createApiKey",
    "revokeApiKey",
    "createWebhook",
    "updateWebhook",
    "deleteWebhook",
    "redeliverWebhook",
];

/// Whether executing `operation` of `doc` (with the result `data`) changed content that no
/// event announced: a mutation field outside [`ANNOUNCED_OR_PRIVATE`] that produced a value.
/// A field that failed produced `null` and wrote nothing (each runs in one transaction).
pub fn content_changed(doc: &ExecutableDocument, operation: Option<&str>, data: &Value) -> bool {
    let op = match (&doc.operations, operation) {
        (DocumentOperations::Single(op), _) => op,
        (DocumentOperations::Multiple(ops), Some(name)) => match ops.get(name) {
            Some(op) => op,
            None => return false,
        },
        (DocumentOperations::Multiple(_), None) => return false,
    };
    if op.node.ty != OperationType::Mutation {
        return false;
    }
    let Value::Object(data) = data else {
        return false;
    };
    op.node
        .selection_set
        .node
        .items
        .iter()
        .any(|item| match &item.node {
            Selection::Field(field) => {
                let field = &field.node;
                let key = field.alias.as_ref().unwrap_or(&field.name);
                !ANNOUNCED_OR_PRIVATE.contains(&field.name.node.as_str())
                    && data
                        .get(key.node.as_str())
                        .is_some_and(|v| *v != Value::Null)
            }
            // Fields under a fragment are not worth resolving here: anything produced counts.
            Selection::FragmentSpread(_) | Selection::InlineFragment(_) => {
                data.values().any(|v| *v != Value::Null)
            }
        })
}

#[cfg(test)]
mod tests {
    use async_graphql::{Name, parser::parse_query};

    use super::*;

    fn data(pairs: &[(&str, Value)]) -> Value {
        Value::Object(
            pairs
                .iter()
                .map(|(k, v)| (Name::new(k), v.clone()))
                .collect(),
        )
    }

    fn changed(query: &str, operation: Option<&str>, result: &Value) -> bool {
        let doc = parse_query(query).unwrap_or_else(|e| panic!("{query}: {e}"));
        content_changed(&doc, operation, result)
    }

    #[test]
    fn unannounced_mutations_that_produced_a_value_change_content() {
        let ok = data(&[("t", Value::from("1"))]);
        assert!(changed(
            "mutation { t: updateTag(id: 1) { id } }",
            None,
            &ok
        ));
        assert!(changed(
            "mutation A { t: deleteAuthor(id: 1) } query B { x }",
            Some("A"),
            &ok
        ));
        // Failed: nothing written.
        let failed = data(&[("t", Value::Null)]);
        assert!(!changed(
            "mutation { t: updateTag(id: 1) { id } }",
            None,
            &failed
        ));
        assert!(!changed(
            "mutation { t: updateTag(id: 1) { id } }",
            None,
            &Value::Null
        ));
        // Announced by their own events, or invisible to readers.
        let counted = data(&[("recordView", Value::from(1))]);
        assert!(!changed(
            "mutation { recordView(id: 1) { views } }",
            None,
            &counted
        ));
        let article = data(&[("a", Value::from(1))]);
        assert!(!changed(
            "mutation { a: updateArticle(id: 1) { id } }",
            None,
            &article
        ));
        // Not a mutation.
        assert!(!changed("{ t: tags { id } }", None, &ok));
        assert!(!changed("mutation A { t: mergeTags }", Some("B"), &ok));
        // Under a fragment, whatever produced a value counts.
        assert!(changed(
            "mutation { ... on Mutation { recordView } }",
            None,
            &counted
        ));
    }
}
