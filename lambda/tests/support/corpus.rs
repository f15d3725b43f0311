//! Where ../shared/corpus is, for the suites that read it (this crate's, and tests/tests/bootstraps.rs, which
//! includes this file by path: both crates sit one level below the repository). Absent, they skip with a
//! message, not a failure.
#![allow(dead_code)] // not every includer reads files through `read`

use std::path::{Path, PathBuf};

pub fn corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("IMGRESIZE_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus"));
    if dir.join("SOURCES.md").is_file() {
        Some(dir)
    } else {
        eprintln!(
            "SKIPPED: no corpus at {} (set IMGRESIZE_CORPUS)",
            dir.display()
        );
        None
    }
}

/// A listed file's bytes. A missing one fails the test: read as empty input it would still "pass" every
/// check that expects a rejection.
pub fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
