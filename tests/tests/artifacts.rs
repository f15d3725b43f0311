//! The Lambda zips `scripts/build.sh` makes: a `bootstrap` of the right architecture, small enough.
//! Skipped with a message when nothing is built, unless IMGRESIZE_REQUIRE_BUILD=1 (as `make test` sets).

use std::io::Read;
use std::path::PathBuf;

use imgresize_tests::repo_root;

const ELF_MACHINE_X86_64: u16 = 0x3E;
const ELF_MACHINE_AARCH64: u16 = 0xB7;
const MAX_ZIP_BYTES: u64 = 10 * 1024 * 1024;

fn zip_path(arch: &str) -> Option<PathBuf> {
    let path = repo_root().join(format!(
        "target/lambda/{arch}/imgresize-lambda/bootstrap.zip"
    ));
    if path.is_file() {
        return Some(path);
    }
    let required = std::env::var("IMGRESIZE_REQUIRE_BUILD").is_ok_and(|v| v == "1");
    assert!(
        !required,
        "{} is missing: run scripts/build.sh",
        path.display()
    );
    eprintln!(
        "SKIPPED: {} not built (scripts/build.sh {arch})",
        path.display()
    );
    None
}

fn check(arch: &str, machine: u16) {
    let Some(path) = zip_path(arch) else { return };
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    assert!(
        size > 0 && size <= MAX_ZIP_BYTES,
        "{arch} zip is {size} bytes"
    );
    let file = std::fs::File::open(&path).expect("open zip");
    let mut archive = zip::ZipArchive::new(file).expect("a zip archive");
    assert_eq!(archive.len(), 1, "the zip should hold only the bootstrap");
    let mut bootstrap = archive
        .by_name("bootstrap")
        .expect("a file named bootstrap");
    // Lambda runs the file: it must be executable once unpacked.
    let mode = bootstrap.unix_mode().unwrap_or(0);
    assert!(
        mode & 0o111 != 0,
        "bootstrap is not executable (mode {mode:o})"
    );
    let mut header = [0u8; 20];
    bootstrap.read_exact(&mut header).expect("an ELF header");
    assert_eq!(&header[..4], b"\x7fELF", "not an ELF binary");
    assert_eq!(header[4], 2, "not a 64-bit ELF");
    assert_eq!(
        u16::from_le_bytes([header[18], header[19]]),
        machine,
        "wrong architecture in {arch} zip"
    );
    eprintln!("{arch}: {} ({size} bytes)", path.display());
}

#[test]
fn the_arm64_zip_holds_an_aarch64_bootstrap() {
    check("arm64", ELF_MACHINE_AARCH64);
}

#[test]
fn the_x86_64_zip_holds_an_x86_64_bootstrap() {
    check("x86_64", ELF_MACHINE_X86_64);
}
