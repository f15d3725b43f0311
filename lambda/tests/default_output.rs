//! The default configuration reproduces the outputs of the commit before renditions, byte for byte.
//!
//! `fixtures/default_outputs.json` holds the SHA-256 of every output that commit (f70da18) made from
//! ../shared/corpus with the default settings (`imgresize resize IN OUT`), built as it ships (x86_64,
//! `scripts/build.sh`, release). Renditions rebuilt the path every output takes (one decode for many
//! outputs, the box arithmetic, keys with `{name}`): the default rendition must still decode at the same
//! scale, resample to the same size, convert colour and encode exactly as before. Files that were
//! rejected then must be rejected now. The shipped x86_64 bootstrap is held to these hashes in
//! tests/tests/bootstraps.rs.
//!
//! Other builds of that same commit write up to 9 of the 54 outputs differently: PNG outputs with the
//! same pixels but other compressed bytes (it depends on which packages a build unifies features over:
//! `cargo test -p imgresize` and `cargo test --workspace` differ there) and one floating-point colour
//! conversion (debug against release). `fixtures/default_outputs.test-build.json` holds what that commit's
//! `cargo test -p imgresize` build made. A test build here matches, file by file, what one of the two
//! recorded builds of that commit made; the exact check of what ships is the bootstrap's.

use std::collections::BTreeMap;
use std::path::Path;

use imgresize::config::Config;
use imgresize::engine::{self, Job, Limits, Options};
use sha2::{Digest, Sha256};

#[path = "support/corpus.rs"]
mod support_corpus;
use support_corpus::{corpus, read};

/// Per corpus file, the output hashes the commit before made: as shipped, and in a test build.
fn recorded() -> BTreeMap<String, Vec<String>> {
    let read_manifest = |name: &str| -> BTreeMap<String, String> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name);
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    };
    let shipped = read_manifest("default_outputs.json");
    let test_build = read_manifest("default_outputs.test-build.json");
    assert_eq!(
        shipped.keys().collect::<Vec<_>>(),
        test_build.keys().collect::<Vec<_>>(),
        "both builds resized the same files"
    );
    shipped
        .into_iter()
        .map(|(file, hash)| {
            let other = test_build[&file].clone();
            (file, vec![hash, other])
        })
        .collect()
}

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Every image file under the corpus, as `folder/name`.
fn corpus_files(root: &Path) -> Vec<String> {
    let mut files = Vec::new();
    for folder in ["photos", "orientation", "formats", "colour", "broken"] {
        let Ok(entries) = std::fs::read_dir(root.join(folder)) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !name.ends_with(".md") && !name.contains("reference") {
                files.push(format!("{folder}/{name}"));
            }
        }
    }
    files.sort();
    files
}

#[test]
fn the_default_configuration_gives_the_recorded_outputs_byte_for_byte() {
    let Some(root) = corpus() else { return };
    let recorded = recorded();
    let config = Config::from_lookup(|name| (name == "DEST_BUCKET").then(|| "out".to_string()))
        .expect("the default configuration");
    // What the function does with the seed's input under the default configuration: its renditions.
    let job = Job {
        renditions: config.renditions.clone(),
        quality: config.quality,
        color: config.color,
        parallelism: config.parallelism,
        avif_budget: config.avif_time_budget,
    };
    let limits = config.limits();
    let mut compared = 0;
    let mut differ = Vec::new();
    for file in corpus_files(&root) {
        let data = read(&root.join(&file));
        let made = engine::render(&data, &job, &limits);
        match (recorded.get(&file), made) {
            (Some(hashes), Ok(rendered)) => {
                assert_eq!(rendered.outputs.len(), 1, "{file}");
                if !hashes.contains(&sha256(&rendered.outputs[0].bytes)) {
                    differ.push(file.clone());
                }
                compared += 1;
            }
            (None, Err(_)) => {}
            (Some(_), Err(error)) => panic!("{file} was resized before, now: {error}"),
            (None, Ok(_)) => panic!("{file} was rejected before, now resized"),
        }
    }
    assert!(
        differ.is_empty(),
        "outputs differ from the recorded ones: {differ:?}"
    );
    assert_eq!(
        compared,
        recorded.len(),
        "a recorded file is missing from the corpus"
    );
}

/// The single-output entry point (the CLI's `--size`, the benchmark worker) is the same path.
#[test]
fn the_single_output_entry_point_agrees() {
    let Some(root) = corpus() else { return };
    let recorded = recorded();
    let options = Options {
        size: 1000,
        format: None,
        quality: 82,
        color: engine::ColorMode::Srgb,
        avif_budget: std::time::Duration::MAX,
    };
    let limits = Limits {
        max_pixels: 60_000_000,
    };
    for file in [
        "photos/flower2.jpg",
        "orientation/Portrait_6.jpg",
        "formats/transparent.webp",
    ] {
        let resized = engine::resize(&read(&root.join(file)), &options, &limits)
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        let hash = sha256(&resized.bytes);
        assert!(
            recorded
                .get(file)
                .is_some_and(|hashes| hashes.contains(&hash)),
            "{file}"
        );
    }
}
