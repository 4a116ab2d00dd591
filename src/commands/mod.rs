//! One module per command: turn parsed arguments into a [`Report`](crate::report::Report).

pub mod api;
pub mod app;
pub mod cache;
pub mod check;
pub mod consent_url;
pub mod doctor;
pub mod explain;
pub mod inspect;
pub mod probe;
pub mod scan;
pub mod token;
pub mod verify;

use crate::checks::Clock;
use crate::cli::{TimeArgs, TokenArgs};
use crate::error::{Error, Result};
use crate::input::{self, Source};
use crate::timefmt;
use crate::token::Token;

/// Read, normalise and decode the token named by the token arguments.
pub fn load_token(args: &TokenArgs) -> Result<Token> {
    // Only when it is the source: a token argument or file wins over it.
    let env = if args.token.is_none() && args.token_file.is_none() {
        crate::text::env_text("MDEAUTH_TOKEN")?
    } else {
        None
    };
    let source = Source::resolve(args.token.as_deref(), args.token_file.as_deref(), env)?;
    let raw = source.read()?;
    let compact = input::normalize(&raw)?;
    Token::decode(compact)
}

/// Build the clock from `--at` and `--leeway`.
pub fn clock(args: &TimeArgs) -> Result<Clock> {
    if !(0..=86_400).contains(&args.leeway) {
        return Err(
            Error::input(format!("--leeway {} is out of range", args.leeway))
                .with_hint("give seconds between 0 and 86400 (default 300)"),
        );
    }
    let at = args.at.as_deref().map(timefmt::parse_at).transpose()?;
    Ok(Clock {
        now: timefmt::now_or(at),
        leeway: args.leeway,
    })
}
