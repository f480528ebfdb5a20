//! Errors a caller can cause: each carries a SQLSTATE, a message, and a hint, and is raised
//! before anything is written, so the data stays as it was.
use pgrx::pg_sys::panic::ErrorReport;
use pgrx::prelude::*;

/// A refusal, raised as an ERROR with its SQLSTATE, detail and hint.
pub struct Refusal {
    code: PgSqlErrorCode,
    message: String,
    detail: Option<String>,
    hint: Option<String>,
}

impl Refusal {
    /// 22023 invalid_parameter_value: the usual answer to a bad argument.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE, message)
    }

    /// 22004 null_value_not_allowed.
    pub fn null(argument: &str) -> Self {
        Self::new(
            PgSqlErrorCode::ERRCODE_NULL_VALUE_NOT_ALLOWED,
            format!("{argument} must not be NULL"),
        )
    }

    pub fn new(code: PgSqlErrorCode, message: impl Into<String>) -> Self {
        Refusal {
            code,
            message: message.into(),
            detail: None,
            hint: None,
        }
    }

    #[cfg(any(test, feature = "pg_test"))]
    pub fn message(&self) -> &str {
        &self.message
    }

    #[cfg(any(test, feature = "pg_test"))]
    pub fn detail_text(&self) -> Option<&str> {
        self.detail.as_deref()
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Raise it: an ERROR, which aborts the statement and everything it wrote.
    pub fn raise(self) -> ! {
        let mut report = ErrorReport::new(self.code, self.message, "webhook_routing");
        if let Some(detail) = self.detail {
            report = report.set_detail(detail);
        }
        if let Some(hint) = self.hint {
            report = report.set_hint(hint);
        }
        report.report(PgLogLevel::ERROR);
        unreachable!("an ERROR report does not return")
    }
}

/// Raise the refusal of a fallible admin step.
pub trait OrRaise<T> {
    fn or_raise(self) -> T;
}

impl<T> OrRaise<T> for Result<T, Refusal> {
    fn or_raise(self) -> T {
        self.unwrap_or_else(|refusal| refusal.raise())
    }
}

/// An SPI failure is not the caller's doing (the extension's own queries are fixed); report it
/// as an internal error with the query that failed rather than panicking.
pub fn spi_failed(what: &str, err: impl std::fmt::Display) -> ! {
    Refusal::new(
        PgSqlErrorCode::ERRCODE_INTERNAL_ERROR,
        format!("webhook_routing could not {what}: {err}"),
    )
    .hint("Check that the extension's tables exist and that the current role may use them.")
    .raise()
}
