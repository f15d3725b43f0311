//! The harness the end-to-end suites share: the emulator, AWS clients on it, test images.
//!
//! Every server is started through the project's own scripts (the ones `make demo` uses), bound to
//! 127.0.0.1 on a free port, and stopped when the test process exits, however it exits.

pub mod bootstraps;
pub mod buckets;
pub mod chain;
pub mod emulator;
pub mod fault_proxy;
pub mod http;
pub mod images;
pub mod lambda;
pub mod lambda_api;
pub mod module;
pub mod similarity;
pub mod templates;
pub mod vtl;

use std::path::{Path, PathBuf};

/// The repository root (this crate lives in `tests/`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(".."))
}

/// `Some(path)` when a build output exists; otherwise `None` after saying why the caller skips, or a
/// panic when `IMGRESIZE_REQUIRE_BUILD=1` (as `make e2e` and `make test` set: there a missing build is
/// a failure, never a silent skip).
pub fn built_or_skip(path: PathBuf, build_command: &str) -> Option<PathBuf> {
    if path.is_file() {
        return Some(path);
    }
    let message = format!(
        "{} is missing: build it with `{build_command}`",
        path.display()
    );
    if std::env::var("IMGRESIZE_REQUIRE_BUILD").as_deref() == Ok("1") {
        panic!("{message} (IMGRESIZE_REQUIRE_BUILD=1)");
    }
    eprintln!("SKIPPED: {message}");
    None
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

/// Runs `cleanup` when the process exits normally (the test harness exits through `exit`, which runs
/// `atexit` hooks): for servers and folders held in statics, which are never dropped.
pub fn at_exit(cleanup: impl FnOnce() + Send + 'static) {
    use std::sync::{Mutex, Once};
    type Cleanup = Box<dyn FnOnce() + Send>;
    static CLEANUPS: Mutex<Vec<Cleanup>> = Mutex::new(Vec::new());
    static REGISTER: Once = Once::new();

    extern "C" fn run_cleanups() {
        let cleanups = match CLEANUPS.lock() {
            Ok(mut list) => std::mem::take(&mut *list),
            Err(poisoned) => std::mem::take(&mut *poisoned.into_inner()),
        };
        // Last registered, first run: like destructors.
        for cleanup in cleanups.into_iter().rev() {
            cleanup();
        }
    }

    REGISTER.call_once(|| {
        // SAFETY: registering a plain extern "C" function with no captured state.
        unsafe { libc::atexit(run_cleanups) };
    });
    match CLEANUPS.lock() {
        Ok(mut list) => list.push(Box::new(cleanup)),
        Err(poisoned) => poisoned.into_inner().push(Box::new(cleanup)),
    }
}
