//! What `scan` reads: standard input, the files named, the files under a
//! directory named (recursively, in name order), and the files a wildcard
//! pattern matches (Windows shells pass `logs\*.log` through unexpanded).
//!
//! Every input is checked before any is read, so a missing file fails
//! before any work; each is opened only when its turn comes, so a scan of
//! thousands of files never holds more than one open (macOS allows 256).

use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::{Error, Result};

/// How standard input is named in locations and messages.
pub const STDIN_NAME: &str = "<stdin>";

/// One input to scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Stdin,
    /// A file named on the command line, or matched by a pattern there:
    /// if it cannot be read, the scan stops (exit 2).
    File(PathBuf),
    /// A file found under a directory named on the command line: if it
    /// cannot be read, or is compressed in a format scan does not read, it
    /// is skipped with a note.
    Found(PathBuf),
}

/// An input opened and ready to read.
pub struct Opened {
    pub name: Arc<str>,
    pub reader: Box<dyn Read + Send>,
    /// Named `*.har` or `*.har.gz`.
    pub har_name: bool,
    /// Named by the user (or standard input), rather than found in a
    /// directory: what cannot be read stops the scan instead of being skipped.
    pub named: bool,
}

/// The inputs to scan, and what was skipped on the way to them.
#[derive(Debug, Default)]
pub struct Inputs {
    pub inputs: Vec<Input>,
    /// Total size of the regular files, for the progress bar.
    pub bytes: u64,
    /// One line per directory with skipped files, or with none to scan.
    pub notes: Vec<String>,
}

/// `*.har`, or `*.har.gz` (a compressed capture), in any case.
fn is_har_name(p: &Path) -> bool {
    let name = p
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    name.ends_with(".har") || name.ends_with(".har.gz")
}

/// An input that cannot be opened: bad input when it is missing (exit 2),
/// an environment failure when the system refuses it (exit 3).
fn unreadable(shown: &str, e: &io::Error) -> Error {
    Error::reading(e, format!("cannot read {shown}: {e}"), None)
        .with_hint("check the path and its permissions")
}

impl Input {
    /// Open the input (which [`expand`] has checked), or say why it cannot
    /// be read (exit 2).
    pub fn open(&self) -> Result<Opened> {
        let p = match self {
            Input::Stdin => {
                return Ok(Opened {
                    name: Arc::from(STDIN_NAME),
                    reader: Box::new(io::stdin()),
                    har_name: false,
                    named: true,
                });
            }
            Input::File(p) | Input::Found(p) => p,
        };
        let shown = p.display().to_string();
        let f = std::fs::File::open(p).map_err(|e| unreadable(&crate::input::shown_path(p), &e))?;
        Ok(Opened {
            name: Arc::from(shown.as_str()),
            reader: Box::new(f),
            har_name: is_har_name(p),
            named: matches!(self, Input::File(_)),
        })
    }

    /// Whether the input can be read, and its size when it is a regular
    /// file (which is opened and closed again). Anything else, a named pipe
    /// or `<(command)`, is only looked at: opening a pipe twice would wait
    /// for a second writer.
    fn check(&self) -> Result<Option<u64>> {
        let (Input::File(p) | Input::Found(p)) = self else {
            return Ok(None);
        };
        let shown = p.display().to_string();
        let meta =
            std::fs::metadata(p).map_err(|e| unreadable(&crate::input::shown_path(p), &e))?;
        if meta.is_dir() {
            return Err(
                Error::input(format!("cannot read {shown}: it is a directory"))
                    .with_hint("check the path and its permissions"),
            );
        }
        #[cfg(unix)]
        {
            // A device has no end (/dev/zero, /dev/urandom) or is a
            // terminal: either would hold the scan forever. /dev/null, an
            // empty input scripts pass, is read.
            use std::os::unix::fs::FileTypeExt;
            let t = meta.file_type();
            let null =
                std::fs::canonicalize(p).is_ok_and(|c| c == std::path::Path::new("/dev/null"));
            if (t.is_char_device() || t.is_block_device()) && !null {
                return Err(Error::input(format!(
                    "cannot read {shown}: it is a device, not a file or pipe"
                ))
                .with_hint("give files, or - to read standard input"));
            }
        }
        if !meta.is_file() {
            return Ok(None);
        }
        std::fs::File::open(p).map_err(|e| unreadable(&shown, &e))?;
        Ok(Some(meta.len()))
    }
}

/// Characters that make an argument a pattern (when no file has that name).
fn is_pattern(arg: &str) -> bool {
    arg.contains(['*', '?', '['])
}

/// The inputs the command-line arguments name, each checked. Standard
/// input when there are none.
pub fn expand(args: &[std::ffi::OsString]) -> Result<Inputs> {
    let mut out = Inputs::default();
    if args.is_empty() {
        out.inputs.push(Input::Stdin);
        return Ok(out);
    }
    for arg in args {
        // A name that is not UTF-8 is a path as given, never a pattern.
        let Some(arg) = arg.to_str() else {
            out.add_named(PathBuf::from(arg))?;
            continue;
        };
        if arg == "-" {
            out.inputs.push(Input::Stdin);
            continue;
        }
        let path = PathBuf::from(arg);
        if !path.exists() && is_pattern(arg) {
            for p in matches(arg)? {
                out.add_named(p)?;
            }
        } else {
            out.add_named(path)?;
        }
    }
    Ok(out)
}

/// The paths a pattern matches, in order; an error when it matches nothing
/// (as a shell without `nullglob` would pass the pattern on, and it names
/// no file).
fn matches(pattern: &str) -> Result<Vec<PathBuf>> {
    let paths = glob::glob(pattern).map_err(|e| {
        Error::input(format!("{pattern} is not a valid file pattern ({e})"))
            .with_hint("use * for any run of characters and ? for one, e.g. logs/*.log")
    })?;
    let mut found: Vec<PathBuf> = paths.filter_map(std::result::Result::ok).collect();
    found.sort();
    if found.is_empty() {
        return Err(Error::input(format!("no file matches {pattern}"))
            .with_hint("check the directory and the pattern"));
    }
    Ok(found)
}

impl Inputs {
    /// A path named (or matched) on the command line: a directory's files,
    /// or the file itself.
    fn add_named(&mut self, path: PathBuf) -> Result<()> {
        if path.is_dir() {
            let mut files = Vec::new();
            let mut skipped = Vec::new();
            walk(&path, &mut files, &mut skipped);
            let mut found = 0usize;
            for f in files {
                let input = Input::Found(f);
                match input.check() {
                    Ok(size) => {
                        self.bytes += size.unwrap_or(0);
                        self.inputs.push(input);
                        found += 1;
                    }
                    Err(e) => skipped.push(e.to_string()),
                }
            }
            let dir = path.display();
            if let Some(first) = skipped.first() {
                self.notes.push(format!(
                    "{dir}: skipped {} file(s) or folder(s) that cannot be read (the first: {first})",
                    skipped.len()
                ));
            } else if found == 0 {
                self.notes.push(format!("{dir}: no files in it"));
            }
            return Ok(());
        }
        let input = Input::File(path);
        self.bytes += input.check()?.unwrap_or(0);
        self.inputs.push(input);
        Ok(())
    }
}

/// Every file under `dir`, depth first in name order. Links to files are
/// followed; links to directories are not (they could loop). What cannot
/// be listed goes to `skipped`.
fn walk(dir: &Path, files: &mut Vec<PathBuf>, skipped: &mut Vec<String>) {
    let mut entries: Vec<_> = match std::fs::read_dir(dir) {
        Ok(rd) => rd.filter_map(std::result::Result::ok).collect(),
        Err(e) => {
            skipped.push(format!("cannot read {}: {e}", dir.display()));
            return;
        }
    };
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let path = entry.path();
        match entry.file_type() {
            Ok(t) if t.is_dir() => walk(&path, files, skipped),
            Ok(t) if t.is_file() => files.push(path),
            Ok(t) if t.is_symlink() && path.is_file() => files.push(path),
            // A link to nothing: named, like a file that cannot be read.
            Ok(t) if t.is_symlink() && std::fs::metadata(&path).is_err() => {
                skipped.push(format!("{} is a broken link", path.display()));
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_are_told_from_names() {
        assert!(is_pattern("logs/*.log"));
        assert!(is_pattern("app?.log"));
        assert!(is_pattern("[ab].log"));
        assert!(!is_pattern("logs/app.log"));
    }

    #[test]
    fn a_directory_gives_its_files_recursively_in_name_order() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("b/inner")).unwrap();
        for f in ["z.log", "a.log", "b/inner/x.log", "b/m.log"] {
            std::fs::write(d.join(f), "x").unwrap();
        }
        let got = expand(&[d.as_os_str().to_owned()]).unwrap();
        let want: Vec<Input> = ["a.log", "b/inner/x.log", "b/m.log", "z.log"]
            .iter()
            .map(|f| Input::Found(d.join(f)))
            .collect();
        assert_eq!(got.inputs, want);
        assert_eq!(got.bytes, 4);
        assert!(got.notes.is_empty());
    }
}
