//! Colour policy: `--color auto|always|never`, `NO_COLOR`, and whether stdout is a terminal.

use owo_colors::OwoColorize;

/// `--color` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

/// Styling helpers that colour only when colour is on.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    on: bool,
}

impl Style {
    pub fn new(choice: ColorChoice) -> Style {
        let on = match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && supports_stdout()
            }
        };
        Style { on }
    }

    pub fn plain() -> Style {
        Style { on: false }
    }

    pub fn red(&self, s: &str) -> String {
        if self.on {
            s.red().bold().to_string()
        } else {
            s.to_string()
        }
    }
    pub fn yellow(&self, s: &str) -> String {
        if self.on {
            s.yellow().bold().to_string()
        } else {
            s.to_string()
        }
    }
    pub fn green(&self, s: &str) -> String {
        if self.on {
            s.green().bold().to_string()
        } else {
            s.to_string()
        }
    }
    pub fn blue(&self, s: &str) -> String {
        if self.on {
            s.blue().to_string()
        } else {
            s.to_string()
        }
    }
    pub fn bold(&self, s: &str) -> String {
        if self.on {
            s.bold().to_string()
        } else {
            s.to_string()
        }
    }
    pub fn dim(&self, s: &str) -> String {
        if self.on {
            s.dimmed().to_string()
        } else {
            s.to_string()
        }
    }
}

fn supports_stdout() -> bool {
    // FORCE_COLOR (any value but empty or 0) turns colour on; otherwise only
    // a terminal that is not TERM=dumb gets it. (owo-colors' own detection
    // took an empty NO_COLOR for a set one.)
    use std::io::IsTerminal;
    if std::env::var_os("FORCE_COLOR").is_some_and(|v| !v.is_empty() && v != "0") {
        return true;
    }
    std::io::stdout().is_terminal() && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
}
