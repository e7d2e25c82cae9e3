//! Keyset pagination: a page is "rows after (or before) this sort key", never an OFFSET.

use sea_orm::{
    EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select, Value,
    sea_query::{Expr, ExprTrait},
};

/// Sort direction of a listing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Smallest first.
    Asc,
    /// Largest first.
    Desc,
}

impl Direction {
    fn reversed(self) -> Self {
        match self {
            Self::Asc => Self::Desc,
            Self::Desc => Self::Asc,
        }
    }
}

/// The sort key of one row: the ordered column's value and the id that breaks ties.
#[derive(Clone, Debug, PartialEq)]
pub struct Keyset {
    /// Value of the sort column.
    pub value: Value,
    /// Row id (tie-breaker, sorted in the same direction).
    pub id: i32,
}

/// One page request, already validated.
#[derive(Clone, Debug, PartialEq)]
pub struct PageSpec {
    /// Rows wanted.
    pub limit: u64,
    /// Only rows strictly after this key (in listing order).
    pub after: Option<Keyset>,
    /// Only rows strictly before this key (in listing order).
    pub before: Option<Keyset>,
    /// Take the `limit` rows closest to `before` (Relay's `last`) instead of the first ones.
    pub from_end: bool,
}

/// How a listing is sorted: one column plus the id column as tie-breaker.
pub struct Order<C> {
    /// The sort column.
    pub column: C,
    /// The primary key column.
    pub id: C,
    /// Direction of both.
    pub direction: Direction,
}

/// Rows of one page in listing order, and whether more rows lie beyond its far end.
#[derive(Debug)]
pub struct Rows<M> {
    /// The page.
    pub rows: Vec<M>,
    /// True when the query found a row past the requested limit.
    pub has_more: bool,
}

/// Applies the cursor bounds, the order and the limit (plus one, to learn whether more rows
/// exist) to `select`. Both columns compare as one row value, which both backends serve from
/// a composite index.
pub fn apply<E, C>(mut select: Select<E>, order: &Order<C>, spec: &PageSpec) -> Select<E>
where
    E: EntityTrait<Column = C>,
    C: sea_orm::ColumnTrait,
{
    let key = |c: &C| {
        Expr::tuple([
            Expr::col((E::default(), *c)),
            Expr::col((E::default(), order.id)),
        ])
    };
    let val = |k: &Keyset| Expr::tuple([Expr::val(k.value.clone()), Expr::val(k.id)]);
    let past = |k: &Keyset, dir: Direction| match dir {
        Direction::Asc => key(&order.column).gt(val(k)),
        Direction::Desc => key(&order.column).lt(val(k)),
    };
    if let Some(after) = &spec.after {
        select = select.filter(past(after, order.direction));
    }
    if let Some(before) = &spec.before {
        select = select.filter(past(before, order.direction.reversed()));
    }
    let dir = if spec.from_end {
        order.direction.reversed()
    } else {
        order.direction
    };
    let (col, id) = (order.column, order.id);
    select = match dir {
        Direction::Asc => select.order_by_asc(col).order_by_asc(id),
        Direction::Desc => select.order_by_desc(col).order_by_desc(id),
    };
    select.limit(spec.limit + 1)
}

/// Trims the extra row that `apply` asked for and puts a `from_end` page back in listing order.
pub fn finish<M>(mut rows: Vec<M>, spec: &PageSpec) -> Rows<M> {
    let has_more = rows.len() as u64 > spec.limit;
    rows.truncate(usize::try_from(spec.limit).unwrap_or(usize::MAX));
    if spec.from_end {
        rows.reverse();
    }
    Rows { rows, has_more }
}
