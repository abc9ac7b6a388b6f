//! `ApiQuery<T>`: the query-string extractor every handler uses. Like `ApiJson` for bodies, it
//! names the parameter that is wrong (422 at `/query/cursor`), where actix's `Query` answers a
//! 400 that does not say which.

use std::future::{Ready, ready};
use std::ops::Deref;

use actix_web::{FromRequest, HttpRequest, dev::Payload};
use serde::de::DeserializeOwned;

use crate::edge::json::{field_error, pointer_of};
use crate::error::ApiError;

pub struct ApiQuery<T>(pub T);

impl<T> Deref for ApiQuery<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> ApiQuery<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

/// Parses a query string into `T`; a value of the wrong type is a 422 naming its parameter.
pub fn parse<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(de)
        .map_err(|e| field_error(format!("/query{}", pointer_of(e.path())), e.into_inner().to_string()))
}

impl<T: DeserializeOwned> FromRequest for ApiQuery<T> {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(parse(req.query_string()).map(ApiQuery).map_err(Into::into))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    struct Params {
        cursor: Option<i64>,
        break_glass: Option<bool>,
    }

    fn pointer(query: &str) -> String {
        match parse::<Params>(query) {
            Err(ApiError::Validation(errors)) => errors[0].pointer.clone(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn a_value_of_the_wrong_type_names_its_parameter() {
        assert_eq!(pointer("cursor=abc"), "/query/cursor");
        assert_eq!(pointer("cursor=1&break_glass=maybe"), "/query/break_glass");
    }

    #[test]
    fn good_values_and_unknown_parameters_pass() {
        let p = parse::<Params>("cursor=7&break_glass=true&other=x").unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!((p.cursor, p.break_glass), (Some(7), Some(true)));
    }
}
