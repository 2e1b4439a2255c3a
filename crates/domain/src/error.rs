use thiserror::Error;

/// Rules of the domain that a value broke.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum DomainError {
    #[error("unknown {what} '{value}'")]
    UnknownValue { what: &'static str, value: String },
    #[error("unknown rejection label '{0}'")]
    UnknownLabel(String),
    #[error("{0}")]
    InvalidDecision(&'static str),
    #[error("{0}")]
    InvalidPolicy(&'static str),
}
