//! Typed errors and the exit codes they map to.
//!
//! Every failure the tool can report is one of three kinds, each with its own
//! exit code: bad input or usage (2), an environment failure such as the
//! network or the file system (3), and an internal bug (3, never expected).
//! A check that *runs* and finds a problem is not an error: it yields
//! findings and exit code 1.

use std::fmt;

/// Process exit codes shared by every command.
pub mod exit {
    /// All checks passed.
    pub const PASS: u8 = 0;
    /// The checks ran and found a problem (invalid token, missing permission, lint error).
    pub const FAIL: u8 = 1;
    /// Bad input or usage.
    pub const USAGE: u8 = 2;
    /// Environment failure: network, endpoint, file system.
    pub const ENVIRONMENT: u8 = 3;
}

/// The error type of every library entry point.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The user gave something the tool cannot use (exit 2).
    #[error("{message}")]
    Input {
        message: String,
        hint: Option<String>,
    },
    /// Something outside the tool failed: network, endpoint, disk (exit 3).
    #[error("{message}")]
    Environment {
        message: String,
        hint: Option<String>,
    },
}

impl Error {
    pub fn input(message: impl Into<String>) -> Self {
        Error::Input {
            message: message.into(),
            hint: None,
        }
    }

    pub fn environment(message: impl Into<String>) -> Self {
        Error::Environment {
            message: message.into(),
            hint: None,
        }
    }

    /// A failed read of something the user named: theirs to fix (exit 2,
    /// with `input_hint`) when it is missing, a directory or not text, else the
    /// environment's (exit 3).
    pub fn reading(e: &std::io::Error, message: String, input_hint: Option<&str>) -> Self {
        use std::io::ErrorKind;
        // Every reading error says what to do, whoever calls this.
        let hint = match e.kind() {
            ErrorKind::NotFound | ErrorKind::NotADirectory | ErrorKind::InvalidFilename => {
                "check the path"
            }
            ErrorKind::IsADirectory => "give a file, not a directory",
            ErrorKind::InvalidData => "give a text file",
            ErrorKind::PermissionDenied => {
                return Error::environment(message).with_hint(
                    "check that this user may read the file (its permissions and owner)",
                );
            }
            _ => {
                return Error::environment(message)
                    .with_hint("retry; if it persists, check the disk or file system it is on");
            }
        };
        Error::input(message).with_hint(input_hint.unwrap_or(hint))
    }

    /// Attach a "what to do" hint, shown after the message.
    pub fn with_hint(self, h: impl Into<String>) -> Self {
        match self {
            Error::Input { message, .. } => Error::Input {
                message,
                hint: Some(h.into()),
            },
            Error::Environment { message, .. } => Error::Environment {
                message,
                hint: Some(h.into()),
            },
        }
    }

    pub fn hint(&self) -> Option<&str> {
        match self {
            Error::Input { hint, .. } | Error::Environment { hint, .. } => hint.as_deref(),
        }
    }

    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Input { .. } => exit::USAGE,
            Error::Environment { .. } => exit::ENVIRONMENT,
        }
    }

    /// The one-line form printed by the binary: `message; hint`, with any
    /// control character a server or file put in it escaped (it stays one
    /// line, and cannot drive the terminal).
    pub fn one_line(&self) -> String {
        let line = match self.hint() {
            Some(h) => format!("{self}; {h}"),
            None => self.to_string(),
        };
        crate::terminal::safe(&line).into_owned()
    }
}

/// Display helper for quoting user-provided values without flooding the terminal.
pub struct Snippet<'a>(pub &'a str);

impl fmt::Display for Snippet<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const MAX: usize = 60;
        let s: String = self.0.chars().filter(|c| !c.is_control()).collect();
        if s.chars().count() > MAX {
            let head: String = s.chars().take(MAX).collect();
            write!(f, "{head}…")
        } else {
            write!(f, "{s}")
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_one_line_error_stays_one_line_and_cannot_drive_the_terminal() {
        let e = Error::environment("https://x returned \u{1b}[2J\nfake line")
            .with_hint("check \u{202e}it");
        assert_eq!(
            e.one_line(),
            "https://x returned \\u{1b}[2J\\u{a}fake line; check \\u{202e}it"
        );
        assert_eq!(Error::input("plain").one_line(), "plain");
    }
}
