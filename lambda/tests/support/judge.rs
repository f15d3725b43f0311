//! The judge's Python (Pillow 13 with LittleCMS and libavif, installed by `scripts/setup.sh judge`) and
//! the way the suites run a script of theirs in it: a JSON array on stdin, one JSON verdict per item on
//! stdout. Included by path by `colour.rs` and `avif.rs`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

/// The judge's interpreter. Missing, the suite skips with a message naming `what` needed it, unless the
/// run requires everything (`make test` sets IMGRESIZE_REQUIRE_BUILD).
pub fn python(what: &str) -> Option<PathBuf> {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.tools/judge/bin/python");
    if python.is_file() {
        return Some(python);
    }
    let message = format!(
        "no {what} at {} (run scripts/setup.sh judge)",
        python.display()
    );
    assert!(
        std::env::var_os("IMGRESIZE_REQUIRE_BUILD").is_none(),
        "{message}"
    );
    eprintln!("SKIPPED: {message}");
    None
}

/// Runs `tests/support/<script>` on `items`; one verdict per item, in order.
pub fn run(python: &Path, script: &str, items: Vec<Value>) -> Vec<Value> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/support")
        .join(script);
    let count = items.len();
    let mut child = Command::new(python)
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{} does not start: {e}", script.display()));
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(Value::from(items).to_string().as_bytes())
        .expect("the script reads its input");
    let output = child.wait_with_output().expect("the script runs");
    assert!(output.status.success(), "{} failed", script.display());
    let verdicts: Vec<Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON verdict"))
        .collect();
    assert_eq!(verdicts.len(), count, "one verdict per item");
    verdicts
}
