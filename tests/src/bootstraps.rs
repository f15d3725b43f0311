//! The `bootstrap`s inside the Lambda zips `scripts/build.sh` makes, ready to run on this x86_64 machine:
//! the x86_64 one as it is, the arm64 one under user-mode emulation (Debian's `qemu-user` with the aarch64
//! glibc of `libc6-arm64-cross`, both installed by `scripts/setup.sh`). Run them with
//! [`crate::lambda::LambdaFunction::start`].

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::repo_root;

/// Where Debian's libc6-arm64-cross puts the aarch64 glibc and its dynamic loader.
const AARCH64_SYSROOT: &str = "/usr/aarch64-linux-gnu";
const AARCH64_LOADER: &str = "/usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1";

/// A bootstrap unpacked from its zip into a folder of its own (removed when dropped), and the file the
/// runtime emulator should start: the bootstrap itself, or for arm64 a wrapper that runs it under qemu.
pub struct Bootstrap {
    pub arch: &'static str,
    pub executable: PathBuf,
    _dir: tempfile::TempDir,
}

fn required() -> bool {
    std::env::var("IMGRESIZE_REQUIRE_BUILD").is_ok_and(|v| v == "1")
}

/// `None` after saying why (the caller skips), or a panic where `IMGRESIZE_REQUIRE_BUILD=1` makes a
/// missing piece a failure (`make test`).
fn skip(message: String) -> Option<Bootstrap> {
    assert!(!required(), "{message} (IMGRESIZE_REQUIRE_BUILD=1)");
    eprintln!("SKIPPED: {message}");
    None
}

/// The bootstrap of `target/lambda/<arch>/imgresize-lambda/bootstrap.zip` (`arch`: "x86_64" or "arm64").
pub fn unpack(arch: &'static str) -> Option<Bootstrap> {
    let zip = repo_root().join(format!(
        "target/lambda/{arch}/imgresize-lambda/bootstrap.zip"
    ));
    if !zip.is_file() {
        return skip(format!(
            "{} is missing: build it with `bash scripts/build.sh {arch}`",
            zip.display()
        ));
    }
    let qemu = if arch == "arm64" {
        match qemu() {
            Ok(qemu) => Some(qemu),
            Err(message) => return skip(message),
        }
    } else {
        None
    };
    let dir = tempfile::Builder::new()
        .prefix(&format!("bootstrap-{arch}-"))
        .tempdir()
        .expect("temp dir");
    let bootstrap = dir.path().join("bootstrap");
    let file = std::fs::File::open(&zip).expect("open the zip");
    let mut archive = zip::ZipArchive::new(file).expect("a zip archive");
    let mut entry = archive
        .by_name("bootstrap")
        .expect("a bootstrap in the zip");
    let mut bytes = Vec::new();
    entry.read_to_end(&mut bytes).expect("unzip the bootstrap");
    std::fs::write(&bootstrap, &bytes).expect("write the bootstrap");
    std::fs::set_permissions(&bootstrap, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let executable = match qemu {
        None => bootstrap,
        Some(qemu) => {
            // `exec`, so the process the runtime emulator started is the one polling its API.
            let wrapper = dir.path().join("bootstrap-under-qemu");
            std::fs::write(
                &wrapper,
                format!(
                    "#!/bin/sh\n# The arm64 bootstrap under user-mode emulation (tests/src/bootstraps.rs).\n\
                     exec {} -L {AARCH64_SYSROOT} \"$(dirname \"$0\")/bootstrap\" \"$@\"\n",
                    qemu.display()
                ),
            )
            .expect("write the qemu wrapper");
            std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755))
                .expect("chmod");
            wrapper
        }
    };
    Some(Bootstrap {
        arch,
        executable,
        _dir: dir,
    })
}

/// `qemu-aarch64` and the aarch64 glibc, or what to install.
fn qemu() -> Result<PathBuf, String> {
    let qemu = ["/usr/bin/qemu-aarch64", "/usr/local/bin/qemu-aarch64"]
        .iter()
        .map(PathBuf::from)
        .find(|path| path.is_file())
        .ok_or(
            "qemu-aarch64 is missing: `apt-get install qemu-user` (scripts/setup.sh all does)",
        )?;
    if !Path::new(AARCH64_LOADER).is_file() {
        return Err(format!(
            "{AARCH64_LOADER} is missing: `apt-get install libc6-arm64-cross` (scripts/setup.sh all does)"
        ));
    }
    Ok(qemu)
}
