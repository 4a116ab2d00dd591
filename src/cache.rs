//! The on-disk cache of discovery documents and key sets: one JSON file per
//! URL, written atomically (temporary file in the same directory, then
//! rename) so concurrent runs never see a half-written entry.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Environment variable that overrides the cache directory.
pub const ENV_DIR: &str = "MDEAUTH_CACHE_DIR";
/// Entries older than this are refreshed.
pub const MAX_AGE: i64 = 24 * 3600;
/// An unknown kid refreshes a key set at most this often.
pub const MIN_REFRESH_INTERVAL: i64 = 5 * 60;

/// One cached response.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    pub url: String,
    /// Unix seconds (real clock) when the body was fetched.
    pub fetched_at: i64,
    pub body: String,
}

impl Entry {
    pub fn age(&self, now: i64) -> i64 {
        now - self.fetched_at
    }
}

#[derive(Debug, Clone)]
pub struct Cache {
    pub dir: PathBuf,
}

impl Cache {
    /// The cache directory: `--cache-dir`, else `MDEAUTH_CACHE_DIR`, else the
    /// platform cache directory.
    pub fn open(explicit: Option<&Path>) -> Result<Cache> {
        if let Some(p) = explicit {
            return Ok(Cache {
                dir: p.to_path_buf(),
            });
        }
        if let Some(p) = std::env::var_os(ENV_DIR).filter(|v| !v.is_empty()) {
            return Ok(Cache {
                dir: PathBuf::from(p),
            });
        }
        let dirs = directories::ProjectDirs::from("", "", "mdeauth").ok_or_else(|| {
            Error::environment("cannot find a cache directory for this user")
                .with_hint("give one with --cache-dir or MDEAUTH_CACHE_DIR")
        })?;
        Ok(Cache {
            dir: dirs.cache_dir().join("keys"),
        })
    }

    fn path_for(&self, url: &str) -> PathBuf {
        let d = crate::digest::sha256(url.as_bytes());
        let hex: String = d.iter().take(16).map(|b| format!("{b:02x}")).collect();
        self.dir.join(format!("{hex}.json"))
    }

    /// The cached entry for a URL; a missing or unreadable entry is `None`.
    /// Files are named by the hash of the whole URL, and record it as
    /// [`crate::http::shown_url`] shows it: a credential in its query (a
    /// storage SAS) is never written to disk.
    pub fn get(&self, url: &str) -> Option<Entry> {
        let text = crate::text::read_file(&self.path_for(url)).ok()?;
        let mut e: Entry = serde_json::from_str(&text).ok()?;
        if e.url != crate::http::shown_url(url) {
            return None;
        }
        e.url = url.to_string();
        Some(e)
    }

    /// True when a file for `url` exists, readable or not: tells a
    /// corrupted entry from a missing one.
    pub fn has_file(&self, url: &str) -> bool {
        self.path_for(url).exists()
    }

    /// Store an entry atomically.
    pub fn put(&self, entry: &Entry) -> Result<()> {
        let fail = |what: &str, e: std::io::Error| {
            Error::environment(format!(
                "cannot {what} the cache in {}: {e}",
                self.dir.display()
            ))
            .with_hint("check the directory's permissions, or choose another with --cache-dir")
        };
        std::fs::create_dir_all(&self.dir).map_err(|e| fail("create", e))?;
        let target = self.path_for(&entry.url);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let tmp = self
            .dir
            .join(format!(".tmp-{}-{nanos}.part", std::process::id()));
        let stored = Entry {
            url: crate::http::shown_url(&entry.url).into_owned(),
            ..entry.clone()
        };
        let text = serde_json::to_string(&stored)
            .map_err(|e| Error::environment(format!("cannot serialise a cache entry: {e}")))?;
        std::fs::write(&tmp, text).map_err(|e| fail("write", e))?;
        std::fs::rename(&tmp, &target).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            fail("write", e)
        })
    }

    /// Every readable entry, oldest URL first by name, and how many entry
    /// files cannot be read as entries (damaged, or written by something
    /// else), which are left out.
    pub fn entries(&self) -> Result<(Vec<Entry>, usize)> {
        let rd = match std::fs::read_dir(&self.dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), 0)),
            Err(e) => {
                return Err(Error::environment(format!(
                    "cannot read the cache directory {}: {e}",
                    self.dir.display()
                )));
            }
        };
        let read: Vec<Option<Entry>> = rd
            .filter_map(|d| d.ok())
            .filter(|d| is_entry_name(&d.file_name().to_string_lossy()))
            .map(|d| {
                crate::text::read_file(&d.path())
                    .ok()
                    .and_then(|t| serde_json::from_str::<Entry>(&t).ok())
            })
            .collect();
        let damaged = read.iter().filter(|e| e.is_none()).count();
        let mut out: Vec<Entry> = read.into_iter().flatten().collect();
        out.sort_by(|a, b| a.url.cmp(&b.url));
        Ok((out, damaged))
    }

    /// Remove every entry (and stray temporary files); returns how many entries went.
    pub fn clear(&self) -> Result<usize> {
        let rd = match std::fs::read_dir(&self.dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => {
                return Err(Error::environment(format!(
                    "cannot read the cache directory {}: {e}",
                    self.dir.display()
                )));
            }
        };
        let mut n = 0;
        for d in rd.filter_map(|d| d.ok()) {
            let name = d.file_name().to_string_lossy().into_owned();
            let entry = is_entry_name(&name);
            if entry || (name.starts_with(".tmp-") && name.ends_with(".part")) {
                let removed = remove_if_present(&d.path()).map_err(|e| {
                    Error::environment(format!("cannot remove {}: {e}", d.path().display()))
                })?;
                n += usize::from(entry && removed);
            }
        }
        Ok(n)
    }
}

/// Remove a file; false when it was already gone. A run writing the cache
/// at the same time renames its temporary file into place, so a file the
/// listing showed may have moved or gone by now: that is not a failure.
fn remove_if_present(p: &Path) -> std::io::Result<bool> {
    match std::fs::remove_file(p) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// The `cache` section of the JSON report (`cache show|clear`).
#[derive(Debug, Clone, Serialize)]
pub struct CacheSection {
    pub dir: String,
    pub entries: Vec<EntryInfo>,
    /// `cache clear`: how many entries were removed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub removed: Option<usize>,
}

/// One entry as `cache show` lists it.
#[derive(Debug, Clone, Serialize)]
pub struct EntryInfo {
    /// Without the credentials it may carry ([`crate::http::shown_url`]).
    pub url: String,
    /// RFC 3339 UTC.
    pub fetched_at: String,
    pub age_seconds: i64,
    /// Size of the cached body in bytes.
    pub size: usize,
    /// Key ids when the entry is a key set; empty for discovery documents.
    pub key_ids: Vec<String>,
}

impl EntryInfo {
    pub fn new(e: &Entry, now: i64) -> EntryInfo {
        let key_ids = crate::jwks::KeySet::parse(&e.url, e.body.as_bytes())
            .map(|s| s.ids())
            .unwrap_or_default();
        EntryInfo {
            url: crate::http::shown_url(&e.url).into_owned(),
            fetched_at: crate::timefmt::rfc3339(e.fetched_at),
            age_seconds: e.age(now),
            size: e.body.len(),
            key_ids,
        }
    }
}

/// Cache entry files are 32 hex digits + `.json`; nothing else is touched.
fn is_entry_name(name: &str) -> bool {
    name.strip_suffix(".json")
        .is_some_and(|h| h.len() == 32 && h.chars().all(|c| c.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_get_entries_clear() {
        let dir = tempfile::tempdir().unwrap();
        let c = Cache::open(Some(dir.path())).unwrap();
        assert!(c.get("https://x/keys").is_none());
        let e = Entry {
            url: "https://x/keys".into(),
            fetched_at: 100,
            body: "{}".into(),
        };
        c.put(&e).unwrap();
        assert_eq!(c.get("https://x/keys").unwrap().fetched_at, 100);
        std::fs::write(dir.path().join("unrelated.txt"), "keep").unwrap();
        assert_eq!(c.entries().unwrap().0.len(), 1);
        assert_eq!(c.clear().unwrap(), 1);
        assert!(c.entries().unwrap().0.is_empty());
        assert!(dir.path().join("unrelated.txt").exists());
    }

    #[test]
    fn a_file_gone_before_clear_reaches_it_is_not_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(".tmp-1.part");
        std::fs::write(&p, "x").unwrap();
        assert!(remove_if_present(&p).unwrap());
        assert!(!remove_if_present(&p).unwrap());
        // Anything else still is.
        assert!(remove_if_present(dir.path()).is_err());
    }
}
