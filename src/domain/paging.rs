//! Keyset paging: `limit` and an opaque `cursor` (the last item's id), stable under inserts.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::ApiError;

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 500;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Items per page (1–500, default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl PageParams {
    pub fn limit(&self) -> Result<i64, ApiError> {
        match self.limit.unwrap_or(DEFAULT_LIMIT) {
            n @ 1..=MAX_LIMIT => Ok(i64::from(n)),
            _ => Err(ApiError::field("/query/limit", format!("must be between 1 and {MAX_LIMIT}"))),
        }
    }
}

/// One page of a listing.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T: ToSchema> {
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
