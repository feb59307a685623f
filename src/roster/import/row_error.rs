//! The import's errors: a [`RowError`] names the line and column of one
//! problem; the collector keeps at most [`MAX_ERRORS`] of them and hands
//! them back in line order.

use serde::Serialize;

/// The most errors reported for one file.
pub const MAX_ERRORS: usize = 100;

/// One problem with the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    /// The 1-based line the record starts on; the header is line 1.
    pub line: usize,
    /// The column's name; empty when the error is about the whole record.
    pub column: String,
    pub code: &'static str,
    pub message: String,
}

/// Errors up to [`MAX_ERRORS`].
#[derive(Default)]
pub(super) struct Errors(pub(super) Vec<RowError>);

impl Errors {
    pub(super) fn add(&mut self, line: usize, column: &str, code: &'static str, message: String) {
        if self.0.len() < MAX_ERRORS {
            self.0.push(RowError {
                line,
                column: column.to_owned(),
                code,
                message,
            });
        }
    }

    pub(super) fn finish<T>(self, ok: T) -> Result<T, Vec<RowError>> {
        let mut e = self.0;
        if e.is_empty() {
            return Ok(ok);
        }
        e.sort_by_key(|a| a.line);
        Err(e)
    }
}
