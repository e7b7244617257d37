//! Reading rows, written once for both backends: models whose columns are
//! plain values derive [`sqlx::FromRow`] (read with [`from_row`]); the rest
//! read their enum and JSON columns through [`RowExt`] instead of spelling out
//! `try_get::<String, _>` and the parse at every column.

use serde::de::DeserializeOwned;
use sqlx::{ColumnIndex, Decode, FromRow, Row, Type};

use crate::{StoreError, StoreResult};

/// A model read from a row by its derived [`FromRow`]: `rows.iter().map(from_row)`.
pub(crate) fn from_row<'r, T, R>(row: &'r R) -> StoreResult<T>
where
    R: Row,
    T: FromRow<'r, R>,
{
    Ok(T::from_row(row)?)
}

/// The conversions a row's text columns need.
pub(crate) trait RowExt {
    /// A text column holding one of an enum's string forms (`Role::parse`, …).
    fn enum_col<T>(&self, column: &str, parse: fn(&str) -> Option<T>) -> StoreResult<T>;
    /// A text column holding JSON.
    fn json_col<T: DeserializeOwned>(&self, column: &str) -> StoreResult<T>;
    /// A nullable text column holding JSON.
    fn json_opt_col<T: DeserializeOwned>(&self, column: &str) -> StoreResult<Option<T>>;
}

impl<R> RowExt for R
where
    R: Row,
    for<'c> &'c str: ColumnIndex<R>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
{
    fn enum_col<T>(&self, column: &str, parse: fn(&str) -> Option<T>) -> StoreResult<T> {
        let value: String = self.try_get(column)?;
        parse(&value).ok_or_else(|| StoreError::Invalid(format!("unknown {column} {value:?} in the database")))
    }

    fn json_col<T: DeserializeOwned>(&self, column: &str) -> StoreResult<T> {
        Ok(serde_json::from_str(&self.try_get::<String, _>(column)?)?)
    }

    fn json_opt_col<T: DeserializeOwned>(&self, column: &str) -> StoreResult<Option<T>> {
        match self.try_get::<Option<String>, _>(column)? {
            Some(s) => Ok(Some(serde_json::from_str(&s)?)),
            None => Ok(None),
        }
    }
}
