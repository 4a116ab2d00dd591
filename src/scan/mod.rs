//! `scan` engine: read inputs as streams, find tokens, de-duplicate them,
//! evaluate each unique token once on a worker pool, and summarise.
//!
//! Evaluation is pluggable through [`Evaluator`]: the engine decodes each
//! unique token and hands it to the evaluator on a worker thread. The
//! [`OfflineChecks`] evaluator runs the same offline checks as `inspect`;
//! [`evaluate::FullEvaluator`] (what `mdeauth scan` uses) adds signature
//! verification and planned-call checks.

pub mod bounded;
pub mod compressed;
pub mod evaluate;
pub mod find;
pub mod har;
pub mod inputs;
pub mod surrogates;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{self, BufReader, Read};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use flate2::read::MultiGzDecoder;
use serde::Serialize;

use crate::checks::{self, Clock};
use crate::error::{Error, Result};
use crate::finding::{Finding, Severity};
use crate::input::Compact;
use crate::input::is_token_byte;
use crate::report::Verdict;
use crate::token::{Context, Fingerprint, Kind, Token};
use compressed::Encoding;
use find::{Candidate, Finder, MAX_TOKEN, Shape};
pub use inputs::{Input, Opened, STDIN_NAME};

/// Locations kept per unique token; the count of all sightings is kept too.
pub const MAX_LOCATIONS: usize = 20;
/// Bytes searched per read of a plain-text input.
const BLOCK: usize = 1 << 20;

/// What an evaluator says about one token.
#[derive(Debug, Clone)]
pub struct TokenVerdict {
    pub verdict: Verdict,
    pub findings: Vec<Finding>,
}

impl TokenVerdict {
    /// Fail when any finding is an error; findings sorted errors first.
    pub fn from_findings(mut findings: Vec<Finding>) -> TokenVerdict {
        crate::finding::sort(&mut findings);
        let verdict = if findings.iter().any(Finding::is_error) {
            Verdict::Fail
        } else {
            Verdict::Pass
        };
        TokenVerdict { verdict, findings }
    }
}

/// Judges one decoded token. Called from several worker threads at once,
/// once per distinct token; the token's claims are always a JSON object
/// (tokens that do not decode are failed by the engine with
/// `scan.undecodable` before an evaluator sees them).
///
/// To add signature verification or permission checks, write an evaluator
/// that holds what it needs (key sets fetched up front, a catalogue, the
/// clock), runs [`OfflineChecks`] and adds its own findings, and pass it
/// to [`scan`] from `commands::scan`:
///
/// ```ignore
/// struct Verified { offline: OfflineChecks, keys: KeyCache }
/// impl Evaluator for Verified {
///     fn evaluate(&self, t: &Token) -> TokenVerdict {
///         let mut f = self.offline.evaluate(t).findings;
///         f.extend(self.keys.verify(t));
///         TokenVerdict::from_findings(f)
///     }
///     fn label(&self) -> String { "offline checks and signature verification".into() }
/// }
/// ```
pub trait Evaluator: Sync {
    fn evaluate(&self, token: &Token) -> TokenVerdict;
    /// What the evaluation covers, shown in the summary (be honest: say
    /// what is *not* checked).
    fn label(&self) -> String;
}

/// The offline checks `inspect` runs: header and claims, no keys.
pub struct OfflineChecks {
    pub clock: Clock,
}

impl Evaluator for OfflineChecks {
    fn evaluate(&self, token: &Token) -> TokenVerdict {
        let mut f = checks::header(&token.header);
        if let Ok(c) = &token.claims {
            let cls = c.classify();
            f.extend(checks::claims(&token.header, c, &cls, self.clock));
        }
        TokenVerdict::from_findings(f)
    }

    fn label(&self) -> String {
        "offline checks (header and claims; signatures not verified)".to_string()
    }
}

/// Where a token was seen.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Location {
    /// A line of a plain-text input (1-based).
    Line {
        #[serde(serialize_with = "ser_arc")]
        file: Arc<str>,
        line: u64,
    },
    /// A field of a HAR entry (boxed: most scans are of text, and a
    /// location is kept per sighting).
    Har(Box<HarPlace>),
}

/// Where in a HAR capture a token was seen.
#[derive(Debug, Clone, Serialize)]
pub struct HarPlace {
    #[serde(serialize_with = "ser_arc")]
    pub file: Arc<str>,
    /// The 0-based index in `log.entries`.
    pub entry: u64,
    pub method: String,
    /// The request URL without query or fragment.
    pub url: String,
    pub part: String,
}

fn ser_arc<S: serde::Serializer>(v: &Arc<str>, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(v)
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Line { file, line } => write!(f, "{file}:{line}"),
            Location::Har(h) => {
                write!(f, "{} entry {}", h.file, h.entry)?;
                // An entry that is no request (a bare string) has neither.
                for s in [&h.method, &h.url] {
                    if !s.is_empty() {
                        write!(f, " {s}")?;
                    }
                }
                write!(f, " ({})", h.part)
            }
        }
    }
}

/// How a unique token came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Fail,
    /// A JWE: encrypted for its resource, not inspectable.
    Encrypted,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Encrypted => "encrypted",
        }
    }
}

/// One unique token and everything found about it. A scan keeps one per
/// unique token until the end, so it is small: values many tokens share
/// (audiences, app and tenant IDs, findings' messages and fixes) are kept
/// once and shared, and a token that passes and was seen once owns no heap
/// memory of its own.
#[derive(Debug, Clone)]
pub struct TokenResult {
    pub fingerprint: Fingerprint,
    pub status: Status,
    pub kind: Option<Kind>,
    /// `mde`, `graph`, ... (see `data/resources.json`); `unknown` when not decodable.
    pub resource: &'static str,
    pub audience: Arc<[String]>,
    pub app_id: Option<Arc<str>>,
    pub tenant_id: Option<Arc<str>>,
    pub context: Option<Context>,
    /// Every sighting, including those past the location cap.
    pub occurrences: u64,
    /// The first [`MAX_LOCATIONS`] sightings.
    pub locations: Locations,
    pub findings: Vec<Finding>,
}

/// The first [`MAX_LOCATIONS`] places a token was seen, in order. The first
/// is kept inline, so a token seen once needs no list.
#[derive(Debug, Clone)]
pub struct Locations {
    first: Location,
    more: Vec<Location>,
}

impl Locations {
    fn new(first: Location) -> Locations {
        Locations {
            first,
            more: Vec::new(),
        }
    }

    /// Keep `at` unless [`MAX_LOCATIONS`] are kept already.
    fn push(&mut self, at: impl FnOnce() -> Location) {
        if self.len() < MAX_LOCATIONS {
            self.more.push(at());
        }
    }

    pub fn first(&self) -> &Location {
        &self.first
    }

    pub fn len(&self) -> usize {
        1 + self.more.len()
    }

    /// Never empty: a token is kept from its first sighting.
    pub fn is_empty(&self) -> bool {
        false
    }

    pub fn iter(&self) -> impl Iterator<Item = &Location> {
        std::iter::once(&self.first).chain(&self.more)
    }
}

impl Serialize for Locations {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

/// Values many unique tokens share, each kept once: app and tenant IDs,
/// audience lists, and the texts of findings. A log of one app's tokens
/// keeps one copy of each however many tokens it holds.
struct Shared {
    texts: HashSet<Arc<str>>,
    lists: HashSet<Arc<[String]>>,
    /// The empty list: no audience (yet).
    none: Arc<[String]>,
}

impl Shared {
    fn new() -> Shared {
        Shared {
            texts: HashSet::new(),
            lists: HashSet::new(),
            none: Arc::from(Vec::new()),
        }
    }

    /// The kept copy of `s`; `s` itself becomes it when it is new (a
    /// `String` is moved into an `Arc`, an `Arc` is kept as it is).
    fn text(&mut self, s: impl AsRef<str> + Into<Arc<str>>) -> Arc<str> {
        if let Some(kept) = self.texts.get(s.as_ref()) {
            return kept.clone();
        }
        let kept: Arc<str> = s.into();
        self.texts.insert(kept.clone());
        kept
    }

    /// The kept copy of `l`; `l` itself becomes it when it is new.
    fn list(&mut self, l: Arc<[String]>) -> Arc<[String]> {
        if l.is_empty() {
            return self.none.clone();
        }
        if let Some(kept) = self.lists.get(&*l) {
            return kept.clone();
        }
        self.lists.insert(l.clone());
        l
    }
}

/// Totals over the whole scan.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub inputs: u64,
    pub bytes: u64,
    /// Token sightings, duplicates included.
    pub occurrences: u64,
    pub unique: u64,
    /// Unique tokens per resource / app / tenant / status.
    pub by_resource: BTreeMap<String, u64>,
    /// Unique tokens per `aud` value, exactly as written (a token with
    /// several audiences counts under each; `(encrypted)` for a JWE).
    pub by_audience: BTreeMap<String, u64>,
    pub by_app: BTreeMap<String, u64>,
    pub by_tenant: BTreeMap<String, u64>,
    pub by_status: BTreeMap<Status, u64>,
    /// Failing tokens per error code (a token counts once under each of
    /// its codes): what went wrong, at a glance, however many tokens fail.
    pub by_error: BTreeMap<String, u64>,
    pub evaluator: String,
    pub evaluated_at: i64,
    /// Things the reader noticed that are not findings (skipped runs, broken HAR).
    pub notes: Vec<String>,
    /// Unique tokens whose signature was not verified because their keys
    /// could not be reached (`signature.unverified`).
    pub unverified: u64,
    /// The plan whose calls were checked (`--plan`), as other commands'
    /// reports give it.
    pub plan: Option<crate::report::calls::PlanSection>,
}

/// The result of a scan: unique tokens in order of first sighting, and totals.
#[derive(Debug, Clone)]
pub struct ScanReport {
    pub tokens: Vec<TokenResult>,
    pub summary: Summary,
}

impl ScanReport {
    pub fn count(&self, s: Status) -> u64 {
        self.summary.by_status.get(&s).copied().unwrap_or(0)
    }

    /// Failing tokens whose only error is that they have expired: in a log,
    /// tokens that were likely fine when they were used.
    pub fn expired_only(&self) -> u64 {
        let only_expired = |t: &TokenResult| {
            t.status == Status::Fail
                && t.codes(Severity::Error)
                    .iter()
                    .all(|c| *c == "token.expired")
        };
        self.tokens.iter().filter(|t| only_expired(t)).count() as u64
    }

    /// Fail when any token fails; else unverified when the signature of
    /// any could not be verified (its keys were out of reach); else pass
    /// (also when none was found).
    pub fn verdict(&self) -> Verdict {
        if self.count(Status::Fail) > 0 {
            Verdict::Fail
        } else if self.summary.unverified > 0 {
            Verdict::Unverified
        } else {
            Verdict::Pass
        }
    }

    /// 1 fail, 3 unverified, 0 pass: see [`Verdict::exit_code`].
    pub fn exit_code(&self) -> u8 {
        self.verdict().exit_code()
    }
}

/// Progress hook: called with the number of bytes just read.
pub type Progress<'a> = &'a (dyn Fn(u64) + Sync);

/// Scan the inputs with `evaluator`. Each input is opened when its turn
/// comes (pass `inputs.iter().map(Input::open)`), so one file is open at a
/// time; one that cannot be opened stops the scan with its error. Read
/// errors mid-stream are environment errors.
pub fn scan(
    inputs: impl IntoIterator<Item = Result<Opened>>,
    evaluator: &dyn Evaluator,
    now: i64,
    progress: Progress<'_>,
) -> Result<ScanReport> {
    // The reader evaluates too (when the workers' queue is full), so it
    // starts one worker fewer than there are cores: every core stays busy
    // without a thread more than cores, and on one core no worker runs and
    // nothing is handed between threads.
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        - 1;
    scan_with(inputs, evaluator, now, progress, workers)
}

/// [`scan`] with `workers` worker threads besides the reader.
fn scan_with(
    inputs: impl IntoIterator<Item = Result<Opened>>,
    evaluator: &dyn Evaluator,
    now: i64,
    progress: Progress<'_>,
    workers: usize,
) -> Result<ScanReport> {
    crate::input::expect_many_tokens();
    // Bounded: when the workers fall behind, the reader evaluates the batch
    // itself, so queued token texts never pile up in memory.
    let (job_tx, job_rx) = mpsc::sync_channel::<Batch>(2 * workers);
    let (res_tx, res_rx) = mpsc::channel::<Batch>();
    let job_rx = Mutex::new(job_rx);

    let (read, col) = std::thread::scope(|s| {
        for _ in 0..workers {
            let res_tx = res_tx.clone();
            let job_rx = &job_rx;
            s.spawn(move || {
                let mut state = Evaluating::default();
                loop {
                    let batch = match job_rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => return,
                    };
                    let Ok(mut batch) = batch else { return };
                    batch.evaluate(evaluator, &mut state);
                    let _ = res_tx.send(batch);
                }
            });
        }
        drop(res_tx);
        // Owned here, so a panic on this thread drops the job sender and
        // lets the workers end instead of waiting for jobs forever.
        let mut col = Collector::new(job_tx, res_rx, evaluator);
        let mut result = Ok(());
        // Each input is opened when its turn comes: one open file at a time.
        for input in inputs {
            col.summary.inputs += 1;
            let read = input.and_then(|i| {
                let (named, name) = (i.named, i.name.clone());
                col.read_input(i, progress).or_else(|e| match e {
                    // A file found in a folder that fails mid-read is skipped
                    // with a note, as one that cannot be opened is.
                    Error::Environment { .. } if !named => {
                        col.summary.notes.push(format!(
                            "{name}: reading stopped ({}); what was read before it, and the other files, were scanned",
                            e.one_line()
                        ));
                        Ok(())
                    }
                    e => Err(e),
                })
            });
            if let Err(e) = read {
                result = Err(e);
                break;
            }
        }
        col.flush();
        // Closing the job channel lets the workers finish; then take the
        // rest of their results.
        col.jobs = None;
        while let Ok(done) = col.results.recv() {
            col.record(done);
        }
        (result, col)
    });
    read?;

    let mut summary = col.summary;
    summary.evaluator = evaluator.label();
    summary.evaluated_at = now;
    summary.unique = col.found.len() as u64;
    for t in &col.found {
        *summary.by_status.entry(t.status).or_default() += 1;
        count(&mut summary.by_resource, Some(t.resource));
        if t.audience.is_empty() {
            let none = (t.status == Status::Encrypted).then_some("(encrypted)");
            count(&mut summary.by_audience, none);
        }
        for aud in t.audience.iter() {
            count(&mut summary.by_audience, Some(aud));
        }
        count(&mut summary.by_app, t.app_id.as_deref());
        count(&mut summary.by_tenant, t.tenant_id.as_deref());
        if t.unverified().is_some() {
            summary.unverified += 1;
        }
        let mut codes = t.codes(Severity::Error);
        codes.sort_unstable();
        codes.dedup();
        for code in codes {
            count(&mut summary.by_error, Some(code));
        }
    }
    Ok(ScanReport {
        tokens: col.found,
        summary,
    })
}

/// Add one to `key`'s count (`(none)` when there is no key).
fn count(map: &mut BTreeMap<String, u64>, key: Option<&str>) {
    let key = key.unwrap_or("(none)");
    match map.get_mut(key) {
        Some(n) => *n += 1,
        None => {
            map.insert(key.to_string(), 1);
        }
    }
}

/// New unique tokens for a worker, and, on the way back, its results.
/// Their texts share one buffer, so the reader makes one allocation per
/// batch, not one per token. A batch goes back to the reader with its
/// results and is used again, so after the first few batches its buffers
/// are neither grown nor freed (with glibc, a free from another thread takes
/// the allocating thread's allocator lock, and a large one merges its free
/// lists).
#[derive(Default)]
struct Batch {
    jobs: Vec<Job>,
    texts: String,
    results: Vec<(usize, Evaluated)>,
}

impl Batch {
    /// Evaluate its tokens into `results`, with what the evaluating thread
    /// keeps from token to token.
    fn evaluate(&mut self, evaluator: &dyn Evaluator, state: &mut Evaluating) {
        let Batch {
            jobs,
            texts,
            results,
        } = self;
        results.extend(jobs.iter().map(|job| {
            // The last token's buffer, back from `evaluate`.
            let mut token = std::mem::take(&mut state.text);
            token.clear();
            token.push_str(&texts[job.text.clone()]);
            let compact = Compact {
                token,
                found_in: "scan",
                signing_sha256: job.signing_sha256,
            };
            // A bug that panics on one token fails that token; it must not
            // stop the worker (the reader would wait for it forever) or the
            // reader.
            let ev = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                evaluate(compact, evaluator, state)
            }))
            .unwrap_or_else(|_| Evaluated::internal_error());
            (job.index, ev)
        }));
    }

    /// Empty, keeping its buffers' room.
    fn clear(&mut self) {
        self.jobs.clear();
        self.texts.clear();
        self.results.clear();
    }
}

/// One unique token to evaluate.
struct Job {
    /// Its index in `found` (order of first sighting).
    index: usize,
    /// Where its text is in [`Batch::texts`].
    text: std::ops::Range<usize>,
    /// SHA-256 of its signing input, from the reader's de-duplication hash.
    signing_sha256: Option<[u8; 32]>,
}

/// Jobs handed to the workers at a time (one channel message and one lock
/// per batch rather than per token). 256 was timed too: no less CPU, and
/// 2 MiB more peak memory for the queued batches' text.
const BATCH: usize = 64;

/// A batch whose text buffer grew past this (a few very long tokens) is
/// freed, not kept for the next: spare batches stay small.
const SPARE_TEXT_MAX: usize = 512 * 1024;

/// What a worker works out for one unique token.
struct Evaluated {
    status: Status,
    kind: Option<Kind>,
    resource: &'static str,
    /// From the evaluating thread's [`Last`]: a run of tokens of one app
    /// shares one copy, so the reader, which keeps one copy of each value,
    /// does not free a worker's copy of these for every token (with glibc,
    /// such a free takes that thread's allocator lock).
    audience: Option<Arc<[String]>>,
    app_id: Option<Arc<str>>,
    tenant_id: Option<Arc<str>>,
    context: Option<Context>,
    findings: Vec<Finding>,
}

impl Evaluated {
    /// A token that fails with one finding and nothing else known about it.
    fn failed(finding: Finding) -> Evaluated {
        Evaluated {
            status: Status::Fail,
            kind: None,
            resource: "unknown",
            audience: None,
            app_id: None,
            tenant_id: None,
            context: None,
            findings: vec![finding],
        }
    }

    fn internal_error() -> Evaluated {
        Evaluated::failed(Finding::error(
            "scan.internal_error",
            "mdeauth failed while evaluating this token (a bug)",
            "check this token with `mdeauth verify`, and report the bug with the message printed above",
        ))
    }

    fn undecodable(why: String) -> Evaluated {
        Evaluated::failed(Finding::error(
            "scan.undecodable",
            format!("looks like a JWT but cannot be decoded: {why}"),
            "check what writes this value; it may be cut or altered",
        ))
    }
}

impl TokenResult {
    /// Its `signature.unverified` finding: its keys could not be reached.
    pub fn unverified(&self) -> Option<&Finding> {
        self.findings
            .iter()
            .find(|f| crate::checks::is_signature_unverified(f))
    }

    /// The codes of its findings of severity `s`, in the findings' order.
    pub fn codes(&self, s: Severity) -> Vec<&'static str> {
        self.findings
            .iter()
            .filter(|f| f.severity == s)
            .map(|f| f.code)
            .collect()
    }

    /// A token as first seen: counted as encrypted until a worker's
    /// evaluation (signed tokens only) replaces that.
    fn first_seen(fingerprint: Fingerprint, at: Location, none: Arc<[String]>) -> TokenResult {
        TokenResult {
            fingerprint,
            status: Status::Encrypted,
            kind: None,
            resource: "encrypted",
            audience: none,
            app_id: None,
            tenant_id: None,
            context: None,
            occurrences: 1,
            locations: Locations::new(at),
            findings: Vec::new(),
        }
    }

    fn set(&mut self, ev: Evaluated, shared: &mut Shared) {
        self.status = ev.status;
        self.kind = ev.kind;
        self.resource = ev.resource;
        self.audience = match ev.audience {
            Some(l) => shared.list(l),
            None => shared.none.clone(),
        };
        self.app_id = ev.app_id.map(|s| shared.text(s));
        self.tenant_id = ev.tenant_id.map(|s| shared.text(s));
        self.context = ev.context;
        self.findings = ev.findings;
        // Kept to the end: no room for findings that will never come, and
        // one copy of each text (most fixes, and many messages, repeat).
        self.findings.shrink_to_fit();
        for f in &mut self.findings {
            f.message = shared.text(f.message.clone());
            f.fix = shared.text(f.fix.clone());
        }
    }
}

/// What an evaluating thread keeps from token to token.
#[derive(Default)]
struct Evaluating {
    /// The token text buffer, used token after token (no allocation of a
    /// kilobyte or more per token).
    text: String,
    last: Last,
    /// The last header decoded, reused for the next token of the same one.
    header: Option<crate::token::LastHeader>,
}

/// The last app, tenant and audience list an evaluating thread saw.
#[derive(Default)]
struct Last {
    app: LastOne<str>,
    tenant: LastOne<str>,
    audience: LastOne<[String]>,
}

/// The last value of one kind, shared with the results that hold it.
struct LastOne<T: ?Sized>(Option<Arc<T>>);

impl<T: ?Sized> Default for LastOne<T> {
    fn default() -> Self {
        LastOne(None)
    }
}

impl<T: ?Sized + PartialEq> LastOne<T> {
    /// `v` as an `Arc`: the last one when it is equal, else a new one that
    /// becomes the last.
    fn keep<V: std::borrow::Borrow<T> + Into<Arc<T>>>(&mut self, v: V) -> Arc<T> {
        match &self.0 {
            Some(last) if **last == *v.borrow() => last.clone(),
            _ => self.0.insert(v.into()).clone(),
        }
    }
}

/// Decode and evaluate one token. Its text buffer is handed back in
/// `state.text` for the next token (left empty when decoding failed).
fn evaluate(compact: Compact, evaluator: &dyn Evaluator, state: &mut Evaluating) -> Evaluated {
    let Evaluating {
        text: spare,
        last,
        header,
    } = state;
    let token = match Token::decode_sharing(compact, header) {
        Ok(t) => t,
        Err(e) => return Evaluated::undecodable(e.to_string()),
    };
    let cls = match &token.claims {
        Ok(c) => c.classify(),
        Err(why) => return Evaluated::undecodable(why.clone()),
    };
    let v = evaluator.evaluate(&token);
    // The token is done with: move its values into the result.
    *spare = token.compact.token;
    let claims = token.claims.unwrap_or_default();
    Evaluated {
        status: match v.verdict {
            Verdict::Pass | Verdict::Unverified => Status::Pass,
            Verdict::Fail => Status::Fail,
        },
        kind: Some(cls.kind),
        resource: cls.resource.as_str(),
        app_id: claims.appid.or(claims.azp).map(|a| last.app.keep(a)),
        audience: Some(last.audience.keep(claims.aud)),
        tenant_id: claims.tid.map(|t| last.tenant.keep(t)),
        context: Some(cls.context),
        findings: v.findings,
    }
}

/// A small direct-mapped cache of token texts seen at least twice and
/// their index in `found`. A slot is chosen by the token's length and last
/// bytes (signature bytes, which differ between tokens); a hit compares the
/// whole text, so it never merges two tokens. Bounded: at most
/// `RECENT_SLOTS` texts of at most `RECENT_MAX` bytes each.
#[derive(Default)]
struct Recent {
    slots: Vec<Option<(Box<str>, usize)>>,
}

const RECENT_SLOTS: usize = 256;
const RECENT_MAX: usize = 8 * 1024;

impl Recent {
    fn slot(text: &str) -> usize {
        let b = text.as_bytes();
        let mut tail = [0u8; 8];
        let n = b.len().min(8);
        tail[..n].copy_from_slice(&b[b.len() - n..]);
        let h = u64::from_le_bytes(tail) ^ (b.len() as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        (h.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 56) as usize % RECENT_SLOTS
    }

    fn get(&self, text: &str) -> Option<usize> {
        match self.slots.get(Self::slot(text)) {
            Some(Some((t, i))) if **t == *text => Some(*i),
            _ => None,
        }
    }

    fn put(&mut self, text: &str, index: usize) {
        if text.len() > RECENT_MAX {
            return;
        }
        if self.slots.is_empty() {
            self.slots.resize(RECENT_SLOTS, None);
        }
        self.slots[Self::slot(text)] = Some((text.into(), index));
    }
}

/// De-duplicates sightings and feeds new tokens to the workers, or
/// evaluates them itself when the workers are busy.
struct Collector<'e> {
    evaluator: &'e dyn Evaluator,
    /// What it keeps from token to token when it evaluates.
    evaluating: Evaluating,
    finder: Finder,
    /// SHA-256 of each unique token → its index in `found`. The digest
    /// stands for the text (no two tokens share one), so no token text is
    /// kept: memory grows by a few dozen bytes per unique token, not its size.
    seen: HashMap<[u8; 32], usize>,
    /// Tokens seen more than once lately, so a token a log repeats on many
    /// lines is matched by comparing text, without hashing it each time.
    recent: Recent,
    /// Unique tokens in order of first sighting; workers' evaluations are
    /// written into them as they arrive.
    found: Vec<TokenResult>,
    /// What their results share.
    shared: Shared,
    jobs: Option<mpsc::SyncSender<Batch>>,
    results: mpsc::Receiver<Batch>,
    /// New unique tokens not yet handed to the workers.
    batch: Batch,
    /// Batches back from the workers, emptied, to fill again.
    spare: Vec<Batch>,
    summary: Summary,
    oversize: u64,
    /// Tokens the input cut short or redacted, left out.
    cut: u64,
    /// Set when the input being read ended early (damaged gzip data): its
    /// last run of token characters is cut off, not a token.
    cut_short: std::rc::Rc<std::cell::Cell<bool>>,
}

impl<'e> Collector<'e> {
    fn new(
        jobs: mpsc::SyncSender<Batch>,
        results: mpsc::Receiver<Batch>,
        evaluator: &'e dyn Evaluator,
    ) -> Collector<'e> {
        Collector {
            evaluator,
            evaluating: Evaluating::default(),
            finder: Finder::for_scan(),
            seen: HashMap::new(),
            recent: Recent::default(),
            found: Vec::new(),
            shared: Shared::new(),
            jobs: Some(jobs),
            results,
            batch: Batch::default(),
            spare: Vec::new(),
            summary: Summary::default(),
            oversize: 0,
            cut: 0,
            cut_short: Default::default(),
        }
    }

    fn sighting(&mut self, c: &Candidate<'_>, loc: impl FnOnce() -> Location) {
        self.summary.occurrences += 1;
        let i = match self.recent.get(c.text) {
            Some(i) => i,
            None => {
                let (digest, signing) = crate::digest::sha256_token(c.text.as_bytes());
                let Some(&i) = self.seen.get(&digest) else {
                    self.first_sighting(c, digest, signing, loc());
                    return;
                };
                self.recent.put(c.text, i);
                i
            }
        };
        let f = &mut self.found[i];
        f.occurrences += 1;
        f.locations.push(loc);
    }

    /// A new unique token: its result slot, and a job when it is signed.
    fn first_sighting(
        &mut self,
        c: &Candidate<'_>,
        digest: [u8; 32],
        signing: Option<[u8; 32]>,
        at: Location,
    ) {
        let i = self.found.len();
        self.seen.insert(digest, i);
        self.found.push(TokenResult::first_seen(
            Fingerprint::of_digest(&digest),
            at,
            self.shared.none.clone(),
        ));
        if c.shape == Shape::Signed {
            let b = &mut self.batch;
            let start = b.texts.len();
            b.texts.push_str(c.text);
            b.jobs.push(Job {
                index: i,
                text: start..b.texts.len(),
                signing_sha256: signing,
            });
            if b.jobs.len() >= BATCH {
                self.flush();
            }
        }
    }

    /// Hand the pending new tokens to the workers, and record whatever
    /// they have finished meanwhile (so finished results do not queue up).
    fn flush(&mut self) {
        if !self.batch.jobs.is_empty() {
            let next = self.spare.pop().unwrap_or_default();
            let batch = std::mem::replace(&mut self.batch, next);
            // The workers' queue is full (or there are none): evaluate it
            // here rather than wait.
            let mine = match &self.jobs {
                Some(tx) => match tx.try_send(batch) {
                    Ok(()) => None,
                    Err(mpsc::TrySendError::Full(b) | mpsc::TrySendError::Disconnected(b)) => {
                        Some(b)
                    }
                },
                None => Some(batch),
            };
            if let Some(mut batch) = mine {
                batch.evaluate(self.evaluator, &mut self.evaluating);
                self.record(batch);
            }
        }
        while let Ok(done) = self.results.try_recv() {
            self.record(done);
        }
    }

    fn record(&mut self, mut done: Batch) {
        for (i, ev) in done.results.drain(..) {
            if let Some(t) = self.found.get_mut(i) {
                t.set(ev, &mut self.shared);
            }
        }
        // Kept for the next batch unless an outsized token grew it.
        if done.texts.capacity() <= SPARE_TEXT_MAX {
            done.clear();
            self.spare.push(done);
        }
    }

    /// Compressed data scan does not read: named on the command line, an
    /// input error; found in a directory, a note (the rest is still scanned).
    fn not_searched(&mut self, named: bool, name: &str, what: &str, hint: String) -> Result<()> {
        if named {
            return Err(Error::input(format!("{name} {what}")).with_hint(hint));
        }
        self.summary
            .notes
            .push(format!("{name}: skipped, it {what} ({hint})"));
        Ok(())
    }

    fn read_input(&mut self, input: Opened, progress: Progress<'_>) -> Result<()> {
        let name = input.name.clone();
        let read_err = |e: io::Error| Error::environment(format!("cannot read {name}: {e}"));
        let mut reader = Counted {
            inner: input.reader,
            progress,
            bytes: 0,
        };
        // Look at the start to tell compressed input from the rest.
        let prefix = read_prefix(&mut reader).map_err(read_err)?;
        let before = self.oversize;
        let cut_before = self.cut;
        self.cut_short.set(false);
        match compressed::sniff(&prefix) {
            Encoding::Plain => self
                .read_stream(prefix, &mut reader, &input.name, input.har_name)
                .map_err(read_err)?,
            Encoding::Gzip => {
                let whole = io::Cursor::new(prefix).chain(&mut reader);
                let mut gz = Counted {
                    inner: compressed::UntilDamaged::new(
                        MultiGzDecoder::new(whole),
                        self.cut_short.clone(),
                    ),
                    progress: &|_| {},
                    bytes: 0,
                };
                let text_prefix = read_prefix(&mut gz).map_err(read_err)?;
                // Compressed twice (a gzip of a gzip, an xz file gzipped):
                // its bytes would be searched as text and yield nothing.
                if let Some((format, to_text)) = match compressed::sniff(&text_prefix) {
                    Encoding::Plain => None,
                    Encoding::Gzip => Some(("gzip", "zcat")),
                    Encoding::Unsupported { format, to_text } => Some((format, to_text)),
                } {
                    let what =
                        format!("holds gzip-compressed {format} data, which scan does not read");
                    let hint = if &*name == STDIN_NAME {
                        "decompress both layers before piping it in".to_string()
                    } else {
                        format!(
                            "decompress both layers: zcat {name} > inner.bin, then {to_text} inner.bin | mdeauth scan -"
                        )
                    };
                    return self.not_searched(input.named, &name, &what, hint);
                }
                self.read_stream(text_prefix, &mut gz, &input.name, input.har_name)
                    .map_err(read_err)?;
                if let Some(e) = gz.inner.damage() {
                    self.summary.notes.push(format!(
                        "{name}: the gzip data is damaged or cut short ({e}); the {} bytes of text before that point were scanned (a token cut off there is left out)",
                        gz.bytes
                    ));
                }
            }
            Encoding::Unsupported { format, to_text } => {
                let what = format!("holds {format} data, which scan does not decompress");
                let hint = pipe_hint(&name, to_text);
                return self.not_searched(input.named, &name, &what, hint);
            }
        }
        self.flush();
        self.summary.bytes += reader.bytes;
        let skipped = self.oversize - before;
        if skipped > 0 {
            self.summary.notes.push(format!(
                "{}: skipped {skipped} token-like run(s) longer than {} KB",
                input.name,
                MAX_TOKEN / 1024
            ));
        }
        let cut = self.cut - cut_before;
        if cut > 0 {
            self.summary.notes.push(format!(
                "{}: left out {cut} token(s) the input cut short or redacted (ending in `...` or `…`, or with `[REDACTED]` or the like for a signature): there is nothing to verify",
                input.name
            ));
        }
        Ok(())
    }

    /// An uncompressed stream whose first bytes, already read, are `prefix`:
    /// a HAR document when it is named `.har` or starts like one, else text.
    /// UTF-16, by its byte-order mark or by its first bytes (a log cut from
    /// a longer UTF-16 file has no mark), is transcoded to UTF-8 as it is
    /// read; any other stream is searched byte for byte.
    fn read_stream(
        &mut self,
        prefix: Vec<u8>,
        rest: &mut dyn Read,
        file: &Arc<str>,
        har_name: bool,
    ) -> io::Result<()> {
        let mut utf8;
        let (prefix, rest): (Vec<u8>, &mut dyn Read) = match crate::text::utf16_log(&prefix) {
            Some(enc) => {
                utf8 = crate::text::utf16_reader(enc, io::Cursor::new(prefix).chain(rest));
                (read_prefix(&mut utf8)?, &mut utf8)
            }
            None => (prefix, rest),
        };
        // A `.har` name is trusted only for a JSON object: text saved under
        // that name (a log, a copied header) is read as text, not as a HAR
        // document of no entries.
        let json_object = prefix
            .strip_prefix(b"\xef\xbb\xbf")
            .unwrap_or(&prefix)
            .iter()
            .find(|c| !c.is_ascii_whitespace())
            .is_some_and(|&c| c == b'{');
        // A `.har` name counts for nothing more than the content: a JSON-lines
        // log saved under it (Docker's `{"log":"..."}`) is text.
        let is_har = har::sniff(&prefix) || (har_name && prefix.is_empty());
        if har_name && !is_har {
            self.summary.notes.push(if json_object {
                format!("{file}: named .har but not a HAR document (JSON that does not start as one, with a log object of HAR's members); read as text")
            } else {
                format!("{file}: named .har but not a JSON document; read as text")
            });
        }
        let mut prefix = prefix;
        if is_har && prefix.starts_with(b"\xef\xbb\xbf") {
            // A UTF-8 byte-order mark, as Windows tools write: not JSON.
            prefix.drain(..3);
        }
        let chained = io::Cursor::new(prefix).chain(rest);
        if is_har {
            let mut mended = surrogates::MendSurrogates::new(chained);
            let res = self.read_har(&mut mended, file);
            if mended.mended > 0 {
                self.summary.notes.push(format!(
                    "{file}: {} lone UTF-16 surrogate escape(s) (\\udc.., as Python and JavaScript write undecodable text) read as U+FFFD",
                    mended.mended
                ));
            }
            res
        } else {
            self.read_text(chained, file)
        }
    }

    /// Plain text, block by block: memory stays at about one block however
    /// long the input or its lines are.
    fn read_text(&mut self, r: impl Read, file: &Arc<str>) -> io::Result<()> {
        self.read_text_at(r, &|line| Location::Line {
            file: file.clone(),
            line,
        })
    }

    /// [`Collector::read_text`], each sighting placed by `place` from its line.
    fn read_text_at(
        &mut self,
        mut r: impl Read,
        place: &dyn Fn(u64) -> Location,
    ) -> io::Result<()> {
        let mut buf = vec![0u8; BLOCK + MAX_TOKEN];
        let mut len = 0usize;
        let mut line = 1u64;
        let mut eof = false;
        // The block starts inside an oversize run that was already skipped.
        let mut in_run = false;
        while !(eof && len == 0) {
            while len < buf.len() && !eof {
                match r.read(&mut buf[len..]) {
                    Ok(0) => eof = true,
                    Ok(n) => len += n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            // Search only up to the last byte that cannot be inside a token,
            // so no token is cut at the block edge; the rest is carried over.
            // At the end of a stream cut short, the rest is dropped.
            let cut_end = eof && self.cut_short.get();
            let mut end = if eof && !cut_end {
                len
            } else {
                buf[..len]
                    .iter()
                    .rposition(|b| !is_token_byte(*b))
                    .map_or(0, |i| i + 1)
            };
            let mut next_in_run = false;
            if len - end > MAX_TOKEN {
                end = len;
                next_in_run = true;
            } else if !eof {
                let natural = end;
                // A character cut by the block edge (the `…` after a token
                // a log cut short) goes to the next block, and the token
                // run it follows with it, so the finder sees what follows
                // the token.
                if end == len {
                    let cont = buf[..len]
                        .iter()
                        .rev()
                        .take(3)
                        .take_while(|b| (**b & 0xC0) == 0x80)
                        .count();
                    if len > cont {
                        let lead = buf[len - cont - 1];
                        let need = match lead {
                            0xF0.. => 4,
                            0xE0.. => 3,
                            0xC0.. => 2,
                            _ => 0,
                        };
                        if need > cont + 1 {
                            end = len - cont - 1;
                            end -= buf[..end]
                                .iter()
                                .rev()
                                .take(MAX_TOKEN)
                                .take_while(|b| is_token_byte(**b))
                                .count();
                        }
                    }
                }
                // The start of an escape at the very end (a colour code's
                // ESC or `\u001b`, a JSON escape's backslash, a `%`) goes to
                // the next block, which may begin with the token it comes
                // before.
                if end == len {
                    let from = len.saturating_sub(7);
                    if let Some(k) = buf[from..len]
                        .iter()
                        .position(|b| matches!(*b, 0x1b | b'\\' | b'%'))
                    {
                        end = from + k;
                    }
                }
                // A colour code before the carried run goes with it: the
                // finder reads `ESC[1;33meyJ...` as a boundary only when it
                // sees the whole code (its last digits and `m` are token
                // bytes, already carried). So does a JSON-escaped ESC
                // (`\u001b[`), and the backslashes before it, below. A
                // code's parameters are a few characters: no more are
                // looked at.
                let params = buf[..end]
                    .iter()
                    .rev()
                    .take(64)
                    .take_while(|c| c.is_ascii_digit() || **c == b';')
                    .count();
                let open = end - params;
                if open >= 1 && buf[open - 1] == b'[' {
                    let esc = find::escape_before(&buf[..open], open - 1);
                    if esc > 0 {
                        end = open - 1 - esc;
                    }
                }
                // The backslashes before the carried run go with it: the
                // finder reads `\neyJ...` as a JSON escape before a token
                // only when it sees them. So does a `%` (`%3DeyJ...`: a
                // percent escape before a token).
                end -= buf[..end]
                    .iter()
                    .rev()
                    .take(16)
                    .take_while(|b| **b == b'\\')
                    .count();
                if end > 0 && buf[end - 1] == b'%' {
                    end -= 1;
                }
                // Something is always searched, so the read moves on.
                if end == 0 {
                    end = natural;
                }
            }
            let start = if in_run {
                buf[..end]
                    .iter()
                    .position(|b| !is_token_byte(*b))
                    .unwrap_or(end)
            } else {
                0
            };
            // A block wholly inside the skipped run: so is the next one.
            if in_run && start == len && !eof {
                next_in_run = true;
            }
            let mut counted = 0usize;
            let finder = std::mem::take(&mut self.finder);
            let block = &buf[..end];
            let skipped = finder.each(&block[start..], |c| {
                let at = start + c.offset;
                line += find::count_newlines(&block[counted..at]);
                counted = at;
                let l = line;
                self.sighting(&c, || place(l));
            });
            self.finder = finder;
            self.oversize += skipped.oversize;
            self.cut += skipped.cut;
            line += find::count_newlines(&block[counted..]);
            buf.copy_within(end..len, 0);
            len -= end;
            if cut_end {
                len = 0;
            }
            in_run = next_in_run;
        }
        Ok(())
    }

    /// A HAR document, entry by entry; an entry too large to parse in memory
    /// is searched as text as it is read ([`bounded`]).
    fn read_har(&mut self, r: impl Read, file: &Arc<str>) -> io::Result<()> {
        // The parser's reader searches large entries, the entry callback
        // the others: one at a time, never both at once.
        let me = std::cell::RefCell::new(self);
        // Large entries: how many, and the largest in bytes.
        let large = std::cell::Cell::new((0u64, 0u64));
        let part = format!(
            "entry over {} MiB, searched as text",
            bounded::MAX_ENTRY >> 20
        );
        let reader = bounded::Bounded::new(r, bounded::MAX_ENTRY, |text: &mut dyn Read, l| {
            let place = HarPlace {
                file: file.clone(),
                entry: l.index,
                method: har::shown_method(l.method.as_deref()).to_string(),
                url: l.url.as_deref().map(har::shown_url).unwrap_or_default(),
                part: part.clone(),
            };
            let mut counted = Counted {
                inner: text,
                progress: &|_| {},
                bytes: 0,
            };
            me.borrow_mut()
                .read_text_at(&mut counted, &|_| Location::Har(Box::new(place.clone())))?;
            let (n, largest) = large.get();
            large.set((n + 1, largest.max(counted.bytes)));
            Ok(())
        });
        // Whether the last entry handed out was a large one the input ended in.
        let cut_large = std::cell::Cell::new(false);
        let res = har::each_entry(BufReader::with_capacity(256 * 1024, reader), |entry| {
            let large = entry.large();
            cut_large.set(large == Some(false));
            if large.is_some() {
                return;
            }
            let this = &mut **me.borrow_mut();
            let finder = std::mem::take(&mut this.finder);
            let url = entry.url();
            let method = entry.method().to_string();
            for field in entry.fields() {
                let skipped = finder.each(field.text.as_bytes(), |c| {
                    this.sighting(&c, || {
                        Location::Har(Box::new(HarPlace {
                            file: file.clone(),
                            entry: entry.index,
                            method: method.clone(),
                            url: url.clone(),
                            part: field.part.to_string(),
                        }))
                    });
                });
                this.oversize += skipped.oversize;
                this.cut += skipped.cut;
            }
            this.finder = finder;
        });
        let this = me.into_inner();
        let (large, largest) = large.get();
        if large > 0 {
            this.summary.notes.push(format!(
                "{file}: {large} HAR {} over {} MiB (the largest {:.1} MiB) searched as text, not field by field: a token there is placed by its entry, not by header or body, and a base64-encoded body there is not decoded",
                if large == 1 { "entry" } else { "entries" },
                bounded::MAX_ENTRY >> 20,
                largest as f64 / f64::from(1 << 20)
            ));
        }
        match res {
            Ok(_) => Ok(()),
            // The reader's own error, with its kind (a damaged gzip stream
            // is told apart from a failed read by it).
            Err((_, e)) if e.is_io() => Err(io::Error::from(e)),
            Err((n, e)) => {
                let mut why = har::quiet_error(&e);
                // The parser's line and column count a large entry as its
                // placeholder: not where the input went wrong.
                if large > 0
                    && let Some(at) = why.rfind(" at line ")
                {
                    why.truncate(at);
                }
                let last = if cut_large.get() {
                    ", the last of them as far as the input goes"
                } else {
                    ""
                };
                this.summary.notes.push(format!(
                    "{file}: not a complete HAR document ({why}); the {n} {} before that point {} scanned{last}; to scan the rest, save the capture again (a HAR file is one JSON document)",
                    if n == 1 { "entry" } else { "entries" },
                    if n == 1 { "was" } else { "were" }
                ));
                Ok(())
            }
        }
    }
}

/// The first bytes of a stream (fewer at its end), to tell formats apart.
fn read_prefix(r: &mut impl Read) -> io::Result<Vec<u8>> {
    let mut prefix = Vec::with_capacity(512);
    r.take(512).read_to_end(&mut prefix)?;
    Ok(prefix)
}

/// How to feed a compressed input to `scan` as text: pipe the output of
/// `to_text` in (for standard input, decompress before piping).
fn pipe_hint(name: &str, to_text: &str) -> String {
    if name == STDIN_NAME {
        format!("decompress it before piping it in: ... | {to_text} | mdeauth scan -")
    } else {
        format!("decompress it and pipe it in: {to_text} {name} | mdeauth scan -")
    }
}

/// Counts bytes read and reports them to the progress hook.
struct Counted<'a, R> {
    inner: R,
    progress: Progress<'a>,
    bytes: u64,
}

impl<R: Read> Read for Counted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes += n as u64;
        (self.progress)(n as u64);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Always(Verdict);
    impl Evaluator for Always {
        fn evaluate(&self, _: &Token) -> TokenVerdict {
            TokenVerdict {
                verdict: self.0,
                findings: Vec::new(),
            }
        }
        fn label(&self) -> String {
            "test".into()
        }
    }

    fn tok(aud: &str) -> String {
        use base64::Engine;
        let e = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        format!(
            "{}.{}.c2ln",
            e(r#"{"typ":"JWT","alg":"RS256"}"#),
            e(&format!(r#"{{"aud":"{aud}","tid":"t"}}"#))
        )
    }

    fn run(text: String, ev: &dyn Evaluator) -> ScanReport {
        let input = Opened {
            name: Arc::from("mem.log"),
            reader: Box::new(io::Cursor::new(text.into_bytes())),
            har_name: false,
            named: true,
        };
        scan([Ok(input)], ev, 0, &|_| {}).unwrap()
    }

    #[test]
    fn the_reader_alone_and_with_workers_give_the_same_results() {
        // 1,000 distinct tokens (16 batches) of two audiences, each twice.
        let mut text = String::new();
        for i in 0..1000 {
            let t = tok(&format!("aud-{}-{i:04}", i % 2));
            text.push_str(&format!("a {t}\nb {t}\n"));
        }
        let results = |workers| {
            let input = Opened {
                name: Arc::from("mem.log"),
                reader: Box::new(io::Cursor::new(text.clone().into_bytes())),
                har_name: false,
                named: true,
            };
            let r = scan_with([Ok(input)], &Always(Verdict::Pass), 0, &|_| {}, workers).unwrap();
            r.tokens
                .iter()
                .map(|t| {
                    (
                        t.fingerprint.to_string(),
                        t.audience.to_vec(),
                        t.occurrences,
                        t.status,
                        t.locations
                            .iter()
                            .map(|l| l.to_string())
                            .collect::<Vec<_>>(),
                    )
                })
                .collect::<Vec<_>>()
        };
        let alone = results(0);
        assert_eq!(alone.len(), 1000);
        assert_eq!(alone[3].1, ["aud-1-0003"]);
        assert_eq!(alone[3].2, 2);
        assert_eq!(alone[3].4, ["mem.log:7", "mem.log:8"]);
        for workers in [1, 3] {
            assert_eq!(results(workers), alone, "{workers} worker(s)");
        }
    }

    #[test]
    fn repeated_tokens_sharing_a_recent_slot_stay_apart() {
        // Same length and same signature: every one of these lands in the
        // same slot of the recent-token cache, which must compare the text.
        let toks: Vec<String> = (0..600).map(|i| tok(&format!("a{i:04}"))).collect();
        let mut text = String::new();
        for _ in 0..3 {
            for t in &toks {
                text.push_str(t);
                text.push('\n');
            }
        }
        let r = run(text, &Always(Verdict::Pass));
        assert_eq!(r.summary.unique, 600);
        assert_eq!(r.summary.occurrences, 1800);
        for (i, t) in r.tokens.iter().enumerate() {
            assert_eq!(t.occurrences, 3, "token {i}");
            let lines: Vec<u64> = t
                .locations
                .iter()
                .map(|l| match l {
                    Location::Line { line, .. } => *line,
                    Location::Har(_) => 0,
                })
                .collect();
            let first = i as u64 + 1;
            assert_eq!(lines, [first, first + 600, first + 1200], "token {i}");
        }
    }

    #[test]
    fn dedups_and_keeps_line_numbers_across_blocks() {
        let a = tok("https://api.securitycenter.microsoft.com");
        let b = tok("https://graph.microsoft.com");
        // Push the later sightings past the first block edge.
        let filler = "x".repeat(100) + "\n";
        let mut text = format!("{a}\n");
        let lines_of_filler = (BLOCK / filler.len()) + 5;
        text.push_str(&filler.repeat(lines_of_filler));
        text.push_str(&format!("Bearer {a} and {b}\n"));
        let r = run(text, &Always(Verdict::Pass));
        assert_eq!(r.summary.occurrences, 3);
        assert_eq!(r.tokens.len(), 2);
        assert_eq!(r.tokens[0].occurrences, 2);
        let want_line = 2 + lines_of_filler as u64;
        match r.tokens[0].locations.iter().nth(1).unwrap() {
            Location::Line { line, .. } => assert_eq!(*line, want_line),
            other => panic!("{other:?}"),
        }
        assert_eq!(r.tokens[0].resource, "mde");
        assert_eq!(r.tokens[1].resource, "graph");
        assert_eq!(r.summary.by_resource.get("mde"), Some(&1));
        assert_eq!(
            r.summary.by_audience.get("https://graph.microsoft.com"),
            Some(&1)
        );
        assert_eq!(r.exit_code(), 0);
    }

    #[test]
    fn token_straddling_a_block_edge_is_found_once() {
        let a = tok("https://api.securitycenter.microsoft.com");
        // Place the token so that it crosses the BLOCK + MAX_TOKEN buffer end.
        let pad = BLOCK + MAX_TOKEN - 10;
        let text = format!("{}\n{a}\n", "y".repeat(pad));
        let r = run(text, &Always(Verdict::Fail));
        assert_eq!(r.summary.occurrences, 1);
        assert_eq!(r.count(Status::Fail), 1);
        assert_eq!(r.exit_code(), 1);
        match r.tokens[0].locations.first() {
            Location::Line { line, .. } => assert_eq!(*line, 2),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_escape_before_a_token_at_a_block_edge_goes_with_it() {
        let a = tok("https://api.securitycenter.microsoft.com");
        for before in [
            "q%3D",
            r"\u0022",
            r"\n",
            r"\\n",
            "\x1b[32m",
            "\x1b[1;33m",
            r"\u001b[32m",
            r"\\u001b[32m",
            "\x1b[0;1;38;2;255;255;255m",
        ] {
            // The block ends inside the token: the search stops at the last
            // byte that cannot be in one, the `%`, the backslash or the `[`.
            for edge in [1, 2, 3, 4, 10, 40, 60] {
                let pad = BLOCK + MAX_TOKEN - edge;
                let text = format!("{}\n{before}{a}\n", "y".repeat(pad));
                let r = run(text, &Always(Verdict::Fail));
                assert_eq!(r.summary.occurrences, 1, "{before:?} {edge}");
            }
        }
    }

    #[test]
    fn a_colour_code_with_a_block_of_parameters_does_not_stop_the_read() {
        // Digits and `;` after `ESC[` for more than a block: the carry
        // looks at a few of them only, so the read moves on.
        for esc in ["\x1b[", r"\u001b["] {
            let text = format!("{esc}{}\nend\n", "1;".repeat(600_000));
            let r = run(text, &Always(Verdict::Fail));
            assert_eq!(r.summary.occurrences, 0, "{esc:?}");
        }
    }

    #[test]
    fn a_cut_token_whose_ellipsis_straddles_a_block_edge_is_left_out() {
        let a = tok("https://api.securitycenter.microsoft.com");
        let (head, _) = a.rsplit_once('.').unwrap();
        let cut = format!("Bearer {head}.{}", "c2ln".repeat(5));
        for split in 1..=2 {
            // The block ends `split` bytes into the three-byte `…`.
            let pad = BLOCK + MAX_TOKEN - 1 - cut.len() - split;
            let text = format!("{}\n{cut}… (truncated)\n", "y".repeat(pad));
            let r = run(text, &Always(Verdict::Fail));
            assert_eq!(r.summary.occurrences, 0, "split {split}");
            assert!(
                r.summary
                    .notes
                    .iter()
                    .any(|n| n.contains("left out 1 token(s)")),
                "split {split}: {:?}",
                r.summary.notes
            );
        }
    }

    #[test]
    fn one_run_longer_than_several_blocks_is_skipped_once() {
        // ".eyJ" inside the run looks like a token start to a block that
        // does not know it begins inside the run.
        let a = tok("https://api.securitycenter.microsoft.com");
        let filler = "QUFB.eyJB".repeat(4 * BLOCK / 9);
        let text = format!("x eyJ{filler} y\n{a}\n");
        let r = run(text, &Always(Verdict::Fail));
        assert_eq!(
            r.summary.notes,
            [format!(
                "mem.log: skipped 1 token-like run(s) longer than {} KB",
                MAX_TOKEN / 1024
            )]
        );
        assert_eq!(r.summary.occurrences, 1);
        match r.tokens[0].locations.first() {
            Location::Line { line, .. } => assert_eq!(*line, 2),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn results_share_audiences_and_tenants_and_keep_their_first_location_inline() {
        // 300 distinct tokens: two audiences, one tenant.
        let text: String = (0..300)
            .map(|i| {
                format!("{}\n", tok(if i % 2 == 0 { "even" } else { "odd" }))
                    .replace(".c2ln", &format!(".c2ln{i:04}"))
            })
            .collect();
        let r = run(text, &Always(Verdict::Pass));
        assert_eq!(r.tokens.len(), 300);
        let (a, b, c) = (&r.tokens[0], &r.tokens[2], &r.tokens[1]);
        assert_eq!(&*a.audience, ["even".to_string()]);
        assert_eq!(&*c.audience, ["odd".to_string()]);
        assert!(
            Arc::ptr_eq(&a.audience, &b.audience),
            "one copy per audience list"
        );
        let tid = |t: &TokenResult| t.tenant_id.clone().unwrap();
        assert_eq!(&*tid(a), "t");
        assert!(Arc::ptr_eq(&tid(a), &tid(c)), "one copy per tenant");
        assert_eq!(a.locations.len(), 1);
        assert!(
            a.locations.more.capacity() == 0,
            "seen once: no location list"
        );
        assert_eq!(a.fingerprint.to_string().len(), "sha256:".len() + 12);
    }

    #[test]
    fn findings_texts_are_kept_once_and_their_lists_hold_no_spare_room() {
        struct Expired;
        impl Evaluator for Expired {
            fn evaluate(&self, t: &Token) -> TokenVerdict {
                let aud = t.claims.as_ref().unwrap().aud[0].clone();
                // Fresh strings per token, in a list with spare room (a
                // Vec grown by push holds four), as real checks make them.
                let mut findings = Vec::with_capacity(4);
                findings.push(Finding::error(
                    "token.expired",
                    format!("{aud} expired"),
                    "acquire a new token".to_string(),
                ));
                TokenVerdict::from_findings(findings)
            }
            fn label(&self) -> String {
                "test".into()
            }
        }
        let text: String = (0..200)
            .map(|i| {
                format!("{}\n", tok(&format!("aud-{}", i % 2)))
                    .replace(".c2ln", &format!(".c2ln{i:04}"))
            })
            .collect();
        let r = run(text, &Expired);
        assert_eq!(r.count(Status::Fail), 200);
        let (a, b, c) = (
            &r.tokens[0].findings,
            &r.tokens[2].findings,
            &r.tokens[1].findings,
        );
        assert_eq!(
            (&*a[0].message, &*c[0].message),
            ("aud-0 expired", "aud-1 expired")
        );
        assert!(Arc::ptr_eq(&a[0].message, &b[0].message));
        assert!(Arc::ptr_eq(&a[0].fix, &c[0].fix));
        assert!(r.tokens.iter().all(|t| t.findings.capacity() == 1));
    }

    #[test]
    fn an_evaluator_panic_fails_that_token_and_the_scan_finishes() {
        struct Panics;
        impl Evaluator for Panics {
            fn evaluate(&self, t: &Token) -> TokenVerdict {
                let c = t.claims.as_ref().ok();
                if c.and_then(|c| c.aud.first())
                    .is_some_and(|a| a.ends_with("7"))
                {
                    panic!("test panic");
                }
                TokenVerdict::from_findings(Vec::new())
            }
            fn label(&self) -> String {
                "test".into()
            }
        }
        // Enough distinct tokens to fill the bounded job queue several times.
        let text: String = (0..1000)
            .map(|i| format!("{}\n", tok(&format!("aud-{i}"))))
            .collect();
        let r = run(text, &Panics);
        assert_eq!(r.tokens.len(), 1000);
        assert_eq!(r.count(Status::Fail), 100);
        let failed = r.tokens.iter().find(|t| t.status == Status::Fail).unwrap();
        assert_eq!(failed.findings[0].code, "scan.internal_error");
        assert_eq!(r.count(Status::Pass), 900);
    }

    #[test]
    fn locations_are_capped_but_counted() {
        let a = tok("x");
        let text = format!("{a}\n").repeat(MAX_LOCATIONS + 7);
        let r = run(text, &Always(Verdict::Pass));
        assert_eq!(r.tokens[0].occurrences, (MAX_LOCATIONS + 7) as u64);
        assert_eq!(r.tokens[0].locations.len(), MAX_LOCATIONS);
    }
}
