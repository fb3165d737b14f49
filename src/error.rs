//! One error type for the library, carrying the context a user needs and its exit code.

use std::path::PathBuf;

/// What went wrong, with enough context to fix it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or stream could not be read or written (exit 1).
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The command line or config file asks for something impossible (exit 2).
    #[error("{0}")]
    Usage(String),
    /// The input cannot be used as records (exit 3).
    #[error("{0}")]
    InvalidData(String),
    /// A runtime failure that is not the user's data (exit 1).
    #[error("{0}")]
    Runtime(String),
}

impl Error {
    /// The exit code SPEC gives this error: 1 runtime, 2 usage, 3 invalid data.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Io { .. } | Error::Runtime(_) => 1,
            Error::Usage(_) => 2,
            Error::InvalidData(_) => 3,
        }
    }

    /// What kind of failure this is, as a word for machines.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Io { .. } => "io",
            Error::Usage(_) => "usage",
            Error::InvalidData(_) => "invalid_data",
            Error::Runtime(_) => "runtime",
        }
    }

    /// `{"error": {"kind", "exit_code", "message"}}`: the failure for a pipeline that asked
    /// for JSON.
    pub fn to_json(&self) -> String {
        serde_json::json!({ "error": self.json_object() }).to_string()
    }

    /// `{"kind", "exit_code", "message"}`: what [`Error::to_json`] writes under `"error"`.
    pub fn json_object(&self) -> serde_json::Value {
        serde_json::json!({
            "kind": self.kind(),
            "exit_code": self.exit_code(),
            "message": self.to_string(),
        })
    }

    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

impl From<polars::error::PolarsError> for Error {
    fn from(e: polars::error::PolarsError) -> Error {
        Error::Runtime(format!("data engine: {e}"))
    }
}

/// The library's result type.
pub type Result<T> = std::result::Result<T, Error>;
