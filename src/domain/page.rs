//! Relay-style paging arguments and opaque keyset cursors.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use sea_orm::Value;

use crate::{
    db::page::{Keyset, PageSpec, Rows},
    error::{AppError, AppResult},
};

/// Page size when neither `first` nor `last` is given.
pub const DEFAULT_PAGE_SIZE: i32 = 20;
/// Largest `first` / `last` accepted.
pub const MAX_PAGE_SIZE: i32 = 100;

/// Relay connection arguments as the client sent them.
#[derive(Clone, Debug, Default)]
pub struct PageArgs {
    /// Rows from the start (after `after`).
    pub first: Option<i32>,
    /// Cursor to start after.
    pub after: Option<String>,
    /// Rows from the end (before `before`).
    pub last: Option<i32>,
    /// Cursor to end before.
    pub before: Option<String>,
}

/// The type of a listing's sort column, which a cursor's value must parse as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortKind {
    /// A timestamp.
    Time,
    /// An integer.
    Int,
    /// A string.
    Text,
    /// A floating-point number (a search score).
    Float,
}

/// A sort value taken from a row, to put in its cursor.
#[derive(Clone, Debug, PartialEq)]
pub enum SortValue {
    /// A timestamp.
    Time(DateTime<Utc>),
    /// An integer.
    Int(i64),
    /// A string.
    Text(String),
    /// A floating-point number.
    Float(f64),
}

impl SortValue {
    fn encode(&self) -> String {
        match self {
            Self::Time(t) => t.to_rfc3339(),
            Self::Int(i) => i.to_string(),
            Self::Text(s) => s.clone(),
            // Display prints the shortest text that parses back to the same f64.
            Self::Float(f) => f.to_string(),
        }
    }

    fn decode(kind: SortKind, raw: &str) -> Option<Value> {
        match kind {
            SortKind::Time => DateTime::parse_from_rfc3339(raw)
                .ok()
                .map(|t| Value::from(t.with_timezone(&Utc))),
            SortKind::Int => raw.parse::<i64>().ok().map(Value::from),
            SortKind::Text => Some(Value::from(raw.to_owned())),
            SortKind::Float => raw
                .parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .map(Value::from),
        }
    }
}

/// A listing's identity in its cursors: a cursor from one order is refused by another.
#[derive(Clone, Copy, Debug)]
pub struct Sort {
    /// Short stable name of the order, e.g. `pub-desc`.
    pub name: &'static str,
    /// Type of the sort column.
    pub kind: SortKind,
}

/// Encodes a row's position as an opaque cursor.
pub fn encode_cursor(sort: Sort, id: i32, value: &SortValue) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}|{}|{}", sort.name, id, value.encode()))
}

fn decode_cursor(sort: Sort, cursor: &str, arg: &str) -> AppResult<Keyset> {
    let invalid = || AppError::bad_input(format!("`{arg}` is not a valid cursor for this list"));
    let bytes = URL_SAFE_NO_PAD
        .decode(cursor.trim())
        .map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let mut parts = text.splitn(3, '|');
    let (Some(name), Some(id), Some(raw)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(invalid());
    };
    if name != sort.name {
        return Err(AppError::bad_input(format!(
            "`{arg}` is a cursor of another ordering; restart paging without it"
        )));
    }
    let id = id.parse::<i32>().map_err(|_| invalid())?;
    let value = SortValue::decode(sort.kind, raw).ok_or_else(invalid)?;
    Ok(Keyset { value, id })
}

fn check_size(value: Option<i32>, arg: &str) -> AppResult<Option<u64>> {
    match value {
        None => Ok(None),
        Some(n) if !(0..=MAX_PAGE_SIZE).contains(&n) => Err(AppError::bad_input(format!(
            "`{arg}` must be between 0 and {MAX_PAGE_SIZE}, got {n}"
        ))),
        Some(n) => Ok(Some(u64::try_from(n).unwrap_or_default())),
    }
}

/// Validates paging arguments for a listing sorted by `sort`.
pub fn spec(args: &PageArgs, sort: Sort) -> AppResult<PageSpec> {
    let first = check_size(args.first, "first")?;
    let last = check_size(args.last, "last")?;
    let (limit, from_end) = match (first, last) {
        (Some(_), Some(_)) => {
            return Err(AppError::bad_input(
                "pass either `first` or `last`, not both",
            ));
        }
        (Some(n), None) => (n, false),
        (None, Some(n)) => (n, true),
        (None, None) => (u64::try_from(DEFAULT_PAGE_SIZE).unwrap_or(20), false),
    };
    let after = args
        .after
        .as_deref()
        .map(|c| decode_cursor(sort, c, "after"))
        .transpose()?;
    let before = args
        .before
        .as_deref()
        .map(|c| decode_cursor(sort, c, "before"))
        .transpose()?;
    Ok(PageSpec {
        limit,
        after,
        before,
        from_end,
    })
}

/// One page of a listing: rows with their cursors, and whether pages lie on either side.
#[derive(Debug)]
pub struct Page<M> {
    /// Rows with their cursors, in listing order.
    pub items: Vec<(String, M)>,
    /// Rows exist before this page.
    pub has_previous: bool,
    /// Rows exist after this page.
    pub has_next: bool,
}

impl<M> Page<M> {
    /// Builds the page from fetched rows. Towards the far end, "more" is known exactly; towards
    /// the cursor the client came from it is assumed (as Relay allows) when a cursor was given.
    pub fn from_rows(
        rows: Rows<M>,
        spec: &PageSpec,
        sort: Sort,
        key: impl Fn(&M) -> (i32, SortValue),
    ) -> Self {
        let (has_previous, has_next) = if spec.from_end {
            (rows.has_more, spec.before.is_some())
        } else {
            (spec.after.is_some(), rows.has_more)
        };
        let items = rows
            .rows
            .into_iter()
            .map(|m| {
                let (id, value) = key(&m);
                (encode_cursor(sort, id, &value), m)
            })
            .collect();
        Self {
            items,
            has_previous,
            has_next,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SORT: Sort = Sort {
        name: "title-asc",
        kind: SortKind::Text,
    };

    #[test]
    fn cursor_round_trips_values_containing_the_separator() {
        let c = encode_cursor(SORT, 7, &SortValue::Text("a|b|c".into()));
        let spec = spec(
            &PageArgs {
                after: Some(c),
                ..Default::default()
            },
            SORT,
        )
        .unwrap();
        assert_eq!(
            spec.after,
            Some(Keyset {
                value: Value::from("a|b|c".to_owned()),
                id: 7
            })
        );
    }

    #[test]
    fn cursor_of_another_order_is_refused() {
        let other = Sort {
            name: "views-desc",
            kind: SortKind::Int,
        };
        let c = encode_cursor(other, 1, &SortValue::Int(5));
        let err = spec(
            &PageArgs {
                after: Some(c),
                ..Default::default()
            },
            SORT,
        )
        .unwrap_err();
        assert_eq!(err.code(), "BAD_USER_INPUT");
    }

    #[test]
    fn sizes_outside_zero_to_max_are_refused() {
        for (first, ok) in [
            (Some(-1), false),
            (Some(0), true),
            (Some(100), true),
            (Some(101), false),
        ] {
            let r = spec(
                &PageArgs {
                    first,
                    ..Default::default()
                },
                SORT,
            );
            assert_eq!(r.is_ok(), ok, "first = {first:?}");
        }
    }

    #[test]
    fn garbage_cursor_is_bad_input() {
        for c in ["", "!!!", "bm90LWEtY3Vyc29y"] {
            let r = spec(
                &PageArgs {
                    before: Some(c.into()),
                    ..Default::default()
                },
                SORT,
            );
            assert!(r.is_err(), "cursor {c:?}");
        }
    }
}
