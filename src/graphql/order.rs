//! Response fields in the order the query asked for them. The executor resolves a selection's
//! fields concurrently and assembles them as they finish, so without this the order of a
//! response's keys would depend on timing: the spec asks for query order, and caches need the
//! same query on the same data to give the same bytes (ETag).

use async_graphql::{
    Name, Value,
    indexmap::IndexMap,
    parser::types::{DocumentOperations, ExecutableDocument, Selection, SelectionSet},
};

/// Deepest fragment nesting followed (validation refuses cycles; this only bounds the walk).
const MAX_DEPTH: usize = 64;

/// Puts the keys of `data` in the order of the operation's selections.
pub fn restore(data: &mut Value, doc: &ExecutableDocument, operation: Option<&str>) {
    let op = match (&doc.operations, operation) {
        (DocumentOperations::Single(op), _) => Some(op),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name),
        (DocumentOperations::Multiple(ops), None) => ops.values().next(),
    };
    if let Some(op) = op {
        reorder(data, &[&op.node.selection_set.node], doc);
    }
}

/// Response keys in selection order, each with the selection sets beneath it.
type Keys<'a> = IndexMap<&'a str, Vec<&'a SelectionSet>>;

fn reorder(value: &mut Value, sets: &[&SelectionSet], doc: &ExecutableDocument) {
    let mut keys = Keys::new();
    for set in sets {
        collect(set, doc, &mut keys, 0);
    }
    apply(value, &keys, doc);
}

fn apply(value: &mut Value, keys: &Keys<'_>, doc: &ExecutableDocument) {
    match value {
        Value::List(items) => {
            for item in items {
                apply(item, keys, doc);
            }
        }
        Value::Object(map) => {
            let mut old: IndexMap<Name, Value> = std::mem::take(map);
            for (key, below) in keys {
                if let Some((name, mut v)) = old.shift_remove_entry(*key) {
                    if !below.is_empty() {
                        reorder(&mut v, below, doc);
                    }
                    map.insert(name, v);
                }
            }
            // Nothing should be left; if something is, it keeps its place after the rest.
            map.extend(old);
        }
        _ => {}
    }
}

fn collect<'a>(
    set: &'a SelectionSet,
    doc: &'a ExecutableDocument,
    keys: &mut Keys<'a>,
    depth: usize,
) {
    if depth > MAX_DEPTH {
        return;
    }
    for selection in &set.items {
        match &selection.node {
            Selection::Field(field) => {
                let below = keys
                    .entry(field.node.response_key().node.as_str())
                    .or_default();
                if !field.node.selection_set.node.items.is_empty() {
                    below.push(&field.node.selection_set.node);
                }
            }
            Selection::InlineFragment(fragment) => {
                collect(&fragment.node.selection_set.node, doc, keys, depth + 1);
            }
            Selection::FragmentSpread(spread) => {
                if let Some(def) = doc.fragments.get(&spread.node.fragment_name.node) {
                    collect(&def.node.selection_set.node, doc, keys, depth + 1);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::{parser::parse_query, value};

    use super::*;

    #[test]
    fn keys_follow_the_query_through_aliases_fragments_and_lists() {
        let doc = parse_query(
            "query Q { b: article { z ...F ... on Article { y } } a { x } }
             fragment F on Article { w tags { n m } }",
        )
        .expect("parses");
        let mut data = value!({
            "a": { "x": 1 },
            "b": { "tags": [{ "m": 1, "n": 2 }, { "m": 3, "n": 4 }], "y": 0, "w": 0, "z": 0 },
        });
        restore(&mut data, &doc, Some("Q"));
        let expected = value!({
            "b": { "z": 0, "w": 0, "tags": [{ "n": 2, "m": 1 }, { "n": 4, "m": 3 }], "y": 0 },
            "a": { "x": 1 },
        });
        assert_eq!(
            serde_json::to_string(&data).ok(),
            serde_json::to_string(&expected).ok()
        );
    }
}
