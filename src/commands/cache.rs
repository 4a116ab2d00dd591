//! `mdeauth cache show|clear`: the on-disk cache of discovery documents and key sets.

use crate::cache::{Cache, CacheSection, EntryInfo};
use crate::cli::{CacheAction, CacheArgs};
use crate::error::Result;
use crate::finding::Finding;
use crate::report::Report;

pub fn run(args: &CacheArgs) -> Result<Report> {
    let cache = Cache::open(args.cache_dir.as_deref())?;
    let now = chrono::Utc::now().timestamp();
    let mut report = Report::new("cache", now);
    let dir = cache.dir.display().to_string();
    report.cache = Some(match args.action {
        CacheAction::Show => {
            let (entries, damaged) = cache.entries()?;
            if damaged > 0 {
                report.findings.push(Finding::warning(
                    "cache.damaged",
                    format!("{damaged} cache entry file(s) cannot be read and are not listed; each is fetched again when next needed"),
                    "`mdeauth cache clear` removes them",
                ));
            }
            CacheSection {
                dir,
                entries: entries.iter().map(|e| EntryInfo::new(e, now)).collect(),
                removed: None,
            }
        }
        CacheAction::Clear => CacheSection {
            dir,
            entries: Vec::new(),
            removed: Some(cache.clear()?),
        },
    });
    Ok(report.finish())
}
