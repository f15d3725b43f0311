//! The Lambda zips `scripts/build.sh` makes: a `bootstrap` of the right architecture, small enough, that
//! starts on the `provided.al2023` runtime's glibc; and the build settings every build sees.
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
    let mut elf = Vec::new();
    bootstrap
        .read_to_end(&mut elf)
        .expect("the bootstrap's bytes");
    let header = elf.get(..20).expect("an ELF header");
    assert_eq!(&header[..4], b"\x7fELF", "not an ELF binary");
    assert_eq!(header[4], 2, "not a 64-bit ELF");
    assert_eq!(
        u16::from_le_bytes([header[18], header[19]]),
        machine,
        "wrong architecture in {arch} zip"
    );
    let newest = newest_glibc_needed(&elf, arch);
    assert!(
        newest <= PROVIDED_AL2023_GLIBC,
        "the {arch} bootstrap needs GLIBC_{}.{}, newer than provided.al2023's {}.{}: it would fail at \
         start-up in AWS only (was zig's pinned glibc lost from the build?)",
        newest.0,
        newest.1,
        PROVIDED_AL2023_GLIBC.0,
        PROVIDED_AL2023_GLIBC.1
    );
    eprintln!(
        "{arch}: {} ({size} bytes, needs GLIBC_{}.{})",
        path.display(),
        newest.0,
        newest.1
    );
}

/// The glibc of Lambda's `provided.al2023` runtime (Amazon Linux 2023). This Debian host has 2.36, so a
/// build that links against the host's glibc runs here and fails only in AWS.
const PROVIDED_AL2023_GLIBC: (u32, u32) = (2, 34);

/// The newest `GLIBC_x.y` symbol version the binary asks the dynamic linker for (its `.gnu.version_r`
/// needs, as `readelf --version-info` lists them; binutils' readelf reads both architectures).
fn newest_glibc_needed(elf: &[u8], arch: &str) -> (u32, u32) {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("bootstrap");
    std::fs::write(&file, elf).expect("write the bootstrap");
    let output = std::process::Command::new("readelf")
        .args(["--version-info", "--wide"])
        .arg(&file)
        .output()
        .expect("readelf runs (binutils)");
    assert!(
        output.status.success(),
        "readelf failed on the {arch} bootstrap"
    );
    let text = String::from_utf8_lossy(&output.stdout);
    let versions: Vec<(u32, u32)> = text
        .split(|c: char| c.is_whitespace())
        .filter_map(|word| word.strip_prefix("GLIBC_"))
        .filter_map(|version| {
            let mut parts = version.split('.').map(|part| part.parse::<u32>().ok());
            Some((parts.next()??, parts.next()??))
        })
        .collect();
    assert!(
        !versions.is_empty(),
        "the {arch} bootstrap names no GLIBC_ version: not a dynamically linked glibc binary?"
    );
    versions.into_iter().max().unwrap_or_default()
}

/// The C flags libjpeg's error unwinding needs live where every build sees them (`.cargo/config.toml`),
/// and `scripts/build.sh` adds none of its own: so the zips the other tests check are exactly what a
/// user's plain `cargo lambda build` makes, and `tests/tests/bootstraps.rs` running the broken corpus
/// through them covers that build.
#[test]
fn every_build_gets_the_c_flags_libjpeg_unwinding_needs() {
    let config = std::fs::read_to_string(repo_root().join(".cargo/config.toml"))
        .expect(".cargo/config.toml");
    let mut in_env = false;
    let mut flags = std::collections::BTreeMap::new();
    for line in config.lines().map(str::trim) {
        if line.starts_with('[') {
            in_env = line == "[env]";
        } else if let (true, Some((name, value))) = (in_env, line.split_once('=')) {
            flags.insert(
                name.trim().to_string(),
                value.trim().trim_matches('"').to_string(),
            );
        }
    }
    for target in ["x86_64_unknown_linux_gnu", "aarch64_unknown_linux_gnu"] {
        let name = format!("CFLAGS_{target}");
        let value = flags
            .get(&name)
            .unwrap_or_else(|| panic!(".cargo/config.toml [env] lacks {name}"));
        for flag in ["-fexceptions", "-funwind-tables"] {
            assert!(
                value.split_whitespace().any(|f| f == flag),
                "{name} lacks {flag}"
            );
        }
    }
    let build = std::fs::read_to_string(repo_root().join("scripts/build.sh")).expect("build.sh");
    let exported: Vec<&str> = build
        .lines()
        .filter(|line| !line.trim_start().starts_with('#') && line.contains("CFLAGS"))
        .collect();
    assert!(
        exported.is_empty(),
        "scripts/build.sh sets C flags a plain `cargo lambda build` would not get: {exported:?}"
    );
}

#[test]
fn the_arm64_zip_holds_an_aarch64_bootstrap() {
    check("arm64", ELF_MACHINE_AARCH64);
}

#[test]
fn the_x86_64_zip_holds_an_x86_64_bootstrap() {
    check("x86_64", ELF_MACHINE_X86_64);
}
