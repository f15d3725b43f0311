//! The harness the end-to-end suites share: the emulator, AWS clients on it, test images.
//!
//! Every server is started through the project's own scripts (the ones `make demo` uses), bound to
//! 127.0.0.1 on a free port, and stopped when the test process exits, however it exits.

pub mod emulator;
pub mod images;

use std::path::{Path, PathBuf};

/// The repository root (this crate lives in `tests/`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(".."))
}

/// A name unique to this process and call site, valid as an S3 bucket name.
pub fn unique_name(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}
