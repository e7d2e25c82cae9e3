//! Relay global object identification: opaque ids and the `Node` interface.

use async_graphql::{ID, Interface};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

use super::{Article, Author, Tag};
use crate::error::{AppError, AppResult};

/// Which type a global id names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NodeKind {
    /// An article.
    Article,
    /// An author.
    Author,
    /// A tag.
    Tag,
}

impl NodeKind {
    fn name(self) -> &'static str {
        match self {
            Self::Article => "Article",
            Self::Author => "Author",
            Self::Tag => "Tag",
        }
    }
}

/// A decoded global id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NodeId {
    /// The type.
    pub kind: NodeKind,
    /// The row id.
    pub id: i32,
}

impl NodeId {
    /// The opaque id clients see.
    pub fn encode(kind: NodeKind, id: i32) -> ID {
        ID(URL_SAFE_NO_PAD.encode(format!("{}:{id}", kind.name())))
    }

    /// Decodes a global id; anything malformed is `BAD_USER_INPUT`.
    pub fn decode(id: &str) -> AppResult<Self> {
        let invalid = || AppError::bad_input(format!("`{id}` is not a valid id"));
        let bytes = URL_SAFE_NO_PAD.decode(id.trim()).map_err(|_| invalid())?;
        let text = String::from_utf8(bytes).map_err(|_| invalid())?;
        let (kind, raw) = text.split_once(':').ok_or_else(invalid)?;
        let kind = match kind {
            "Article" => NodeKind::Article,
            "Author" => NodeKind::Author,
            "Tag" => NodeKind::Tag,
            _ => return Err(invalid()),
        };
        let id = raw.parse::<i32>().map_err(|_| invalid())?;
        Ok(Self { kind, id })
    }

    /// Decodes a global id that must name a `kind`.
    pub fn decode_as(id: &str, kind: NodeKind) -> AppResult<i32> {
        let node = Self::decode(id)?;
        if node.kind != kind {
            return Err(AppError::bad_input(format!(
                "`{id}` is not an {} id",
                kind.name()
            )));
        }
        Ok(node.id)
    }
}

/// An object with a global id, fetchable with `node(id:)`.
#[derive(Interface, Clone)]
#[graphql(field(name = "id", ty = "ID", desc = "Opaque global id."))]
pub enum Node {
    /// An article.
    Article(Article),
    /// An author.
    Author(Author),
    /// A tag.
    Tag(Tag),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_reject_garbage() {
        let id = NodeId::encode(NodeKind::Tag, 42);
        assert_eq!(
            NodeId::decode(&id).unwrap(),
            NodeId {
                kind: NodeKind::Tag,
                id: 42
            }
        );
        assert!(NodeId::decode_as(&id, NodeKind::Article).is_err());
        for bad in ["", "42", "VGFnOng", "%%%"] {
            assert!(NodeId::decode(bad).is_err(), "{bad:?}");
        }
    }
}
