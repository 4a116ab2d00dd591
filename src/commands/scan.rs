//! `mdeauth scan`: find every JWT in logs, text and HAR captures, evaluate
//! each unique token once, and summarise.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::cli::ScanArgs;
use crate::error::{Error, Result};
use crate::plan::Plan;
use crate::scan::evaluate::{FullEvaluator, MemoKeys};
use crate::scan::{self, Input, ScanReport};

/// Inputs smaller than this get no progress bar.
const PROGRESS_MIN_BYTES: u64 = 64 << 20;

pub fn run(args: &ScanArgs) -> Result<ScanReport> {
    let clock = super::clock(&args.time)?;
    super::check::context_needs_calls(args.context, args.plan.as_deref(), &args.calls)?;
    let plan = args.plan.as_deref().map(Plan::load).transpose()?;
    let calls = super::check::wanted(plan.as_ref(), &args.calls)?;
    let keys = if args.no_verify {
        None
    } else {
        super::verify::check_key_args(&args.keys)?;
        // Made before any input is read: a --jwks file that cannot be
        // read is bad input (exit 2), not a warning on every token.
        Some(MemoKeys::new(super::verify::resolver(
            &args.keys,
            plan.as_ref().and_then(|p| p.tenant_id.clone()),
        )?))
    };
    let plan_section = plan.as_ref().map(crate::report::calls::PlanSection::new);
    let evaluator = FullEvaluator {
        clock,
        keys,
        calls,
        context: args.context.or(plan.as_ref().and_then(|p| p.context)),
        plan,
    };
    if args.files.is_empty() && std::io::stdin().is_terminal() {
        return Err(Error::input("no input to scan")
            .with_hint("give one or more files or directories, or - to read standard input"));
    }
    // Every input is checked first: a missing file fails before any work.
    let found = scan::inputs::expand(&args.files)?;
    let bar = progress_bar(found.bytes);
    let tick = |n: u64| bar.inc(n);
    let report = scan::scan(
        found.inputs.iter().map(Input::open),
        &evaluator,
        clock.now,
        &tick,
    );
    bar.finish_and_clear();
    let mut report = report?;
    report.summary.notes.splice(0..0, found.notes);
    report.summary.plan = plan_section;
    let first_unverified = report
        .tokens
        .iter()
        .find_map(|t| Some(format!("{}: {}", t.fingerprint, t.unverified()?.message)));
    if let Some(example) = first_unverified {
        report.summary.notes.push(format!(
            "{} token(s) were not signature-verified (the first, {example}); give the key set with --jwks, or run once online and then use --offline. The exit code is 3 unless a token fails",
            report.summary.unverified
        ));
    }
    let expired = report.expired_only();
    if expired > 0 && args.time.at.is_none() {
        report.summary.notes.push(format!(
            "{expired} token(s) fail only because they have expired by now: a log keeps old tokens, so to judge them as of when they were used, run again with --at and the time of the log lines (RFC 3339, e.g. --at 2026-03-02T09:30:00Z)"
        ));
    }
    Ok(report)
}

fn progress_bar(total: u64) -> ProgressBar {
    if total < PROGRESS_MIN_BYTES || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(
        "scanning {bar:30} {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} eta {eta}",
    ) {
        bar.set_style(style);
    }
    bar
}
