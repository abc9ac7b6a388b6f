//! Keyset paging: `limit` and an opaque `cursor` (the last item's id), stable under inserts.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::ApiError;

/// Items per page when the caller does not say.
pub const DEFAULT_LIMIT: u32 = 50;
/// The most items one page may hold.
pub const MAX_LIMIT: u32 = 500;

/// The paging parameters of a listing's query string.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Items per page (1–500, default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The page size, or a 422 naming `limit`.
pub fn page_size(limit: Option<u32>) -> Result<i64, ApiError> {
    match limit.unwrap_or(DEFAULT_LIMIT) {
        n @ 1..=MAX_LIMIT => Ok(i64::from(n)),
        _ => Err(ApiError::field("/query/limit", format!("must be between 1 and {MAX_LIMIT}"))),
    }
}

/// The paging parameters of a listing whose cursor is a number (a sequence or version number).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NumberedPageParams {
    /// Items per page (1–500, default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<i64>,
}

impl NumberedPageParams {
    /// The page size, or a 422 naming `limit`.
    pub fn limit(&self) -> Result<i64, ApiError> {
        page_size(self.limit)
    }
}

impl PageParams {
    /// The page size, or a 422 naming `limit`.
    pub fn limit(&self) -> Result<i64, ApiError> {
        page_size(self.limit)
    }
}

/// One page of a listing.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T: ToSchema> {
    /// The items of this page, in the listing's order.
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

impl<T: ToSchema> Page<T> {
    /// Builds a page from `limit` items fetched in id order; a full page may have a successor.
    pub fn new(items: Vec<T>, limit: i64, last_id: impl Fn(&T) -> String) -> Self {
        let full = usize::try_from(limit).is_ok_and(|l| items.len() == l);
        let next_cursor = if full { items.last().map(last_id) } else { None };
        Self { items, next_cursor }
    }
}

/// Rows one listing request examines at most, shown or not: a caller who may see little of a
/// long listing gets bounded requests, each with a cursor past what it examined.
pub const MAX_SCAN: i64 = 5_000;
/// Rows fetched at a time while filling a page (more when the page is larger).
const CHUNK: i64 = 100;

/// Fills a page from a keyset-ordered listing whose rows are checked one by one after loading
/// (the access rule, erasure): it fetches on past hidden rows until `limit` rows are kept, the
/// listing ends or `MAX_SCAN` rows were examined, so hidden rows never end a page early. The
/// cursor is the last row examined (`None` once the listing is exhausted).
pub fn fill<C, R, K, T>(
    conn: &mut C,
    limit: i64,
    start: Option<K>,
    mut fetch: impl FnMut(&mut C, Option<&K>, i64) -> Result<Vec<R>, ApiError>,
    key: impl Fn(&R) -> K,
    mut keep: impl FnMut(&mut C, R) -> Result<Option<T>, ApiError>,
) -> Result<(Vec<T>, Option<K>), ApiError> {
    let want = usize::try_from(limit).map_err(ApiError::internal)?;
    let mut items = Vec::with_capacity(want);
    let mut cursor = start;
    let mut scanned: i64 = 0;
    loop {
        let chunk = limit.max(CHUNK).min(MAX_SCAN - scanned);
        let rows = fetch(conn, cursor.as_ref(), chunk)?;
        let count = rows.len();
        for (i, row) in rows.into_iter().enumerate() {
            cursor = Some(key(&row));
            scanned += 1;
            if let Some(item) = keep(conn, row)? {
                items.push(item);
            }
            if items.len() == want {
                // Full: a next page follows unless this was the listing's last row.
                let last = i + 1 == count && i64::try_from(count).is_ok_and(|c| c < chunk);
                return Ok((items, if last { None } else { cursor }));
            }
        }
        if i64::try_from(count).is_ok_and(|c| c < chunk) {
            return Ok((items, None));
        }
        if scanned >= MAX_SCAN {
            return Ok((items, cursor));
        }
    }
}
