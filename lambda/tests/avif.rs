//! AVIF outputs read back by an independent decoder: Pillow's libavif (support/avif_probe.py, in the
//! colour judge's interpreter), since the `image` crate's AVIF reader needs dav1d, a system library.
//! An AVIF that a browser-grade decoder cannot read fails here.

use std::path::{Path, PathBuf};
use std::time::Duration;

use image::{DynamicImage, Rgba, RgbaImage};
use imgresize::config::DEFAULT_AVIF_TIME_BUDGET_MS;
use imgresize::engine::{self, encode, ColorMode, Limits, Options, OutputFormat};
use serde_json::Value;

#[path = "support/corpus.rs"]
mod support_corpus;
#[path = "support/judge.rs"]
mod support_judge;
use support_corpus::{corpus, read};

const BUDGET: Duration = Duration::from_millis(DEFAULT_AVIF_TIME_BUDGET_MS);

/// What Pillow's libavif makes of each file: one verdict per path.
fn probe(python: &Path, files: &[PathBuf]) -> Vec<Value> {
    let paths = files
        .iter()
        .map(|p| Value::from(p.display().to_string()))
        .collect();
    support_judge::run(python, "avif_probe.py", paths)
}

fn out_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("output dir");
    dir
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("written");
    path
}

/// Left half fully transparent, right half opaque orange.
fn half_transparent(width: u32, height: u32) -> DynamicImage {
    DynamicImage::ImageRgba8(RgbaImage::from_fn(width, height, |x, _| {
        if x < width / 2 {
            Rgba([0, 0, 0, 0])
        } else {
            Rgba([240, 120, 20, 255])
        }
    }))
}

fn number(verdict: &Value, path: &[&str]) -> u64 {
    path.iter()
        .fold(verdict, |v, name| &v[*name])
        .as_u64()
        .unwrap_or_else(|| panic!("{path:?} in {verdict}"))
}

#[test]
fn transparency_survives_and_the_file_decodes() {
    let Some(python) = support_judge::python("AVIF reader") else {
        return;
    };
    let dir = out_dir("avif-alpha");
    let files = [
        write(
            &dir,
            "half.avif",
            &encode::encode(
                &half_transparent(64, 48),
                OutputFormat::Avif,
                82,
                None,
                BUDGET,
            )
            .expect("encodes"),
        ),
        // The smallest image there is, with alpha: rav1e pads to its block size.
        write(
            &dir,
            "one.avif",
            &encode::encode(
                &half_transparent(1, 1),
                OutputFormat::Avif,
                82,
                None,
                BUDGET,
            )
            .expect("encodes"),
        ),
    ];
    let verdicts = probe(&python, &files);
    let half = &verdicts[0];
    assert_eq!(half["ok"], true, "{half}");
    assert_eq!(half["format"], "AVIF");
    assert_eq!(
        (number(half, &["width"]), number(half, &["height"])),
        (64, 48)
    );
    assert_eq!(half["mode"], "RGBA", "alpha was dropped: {half}");
    assert_eq!(half["alpha"], serde_json::json!([0, 255]));
    let (left, right) = (&half["corners"][0], &half["corners"][1]);
    assert_eq!(left[3], 0, "the transparent side: {left}");
    assert_eq!(right[3], 255, "the opaque side: {right}");
    for (channel, want) in [240u64, 120, 20].into_iter().enumerate() {
        let got = right[channel].as_u64().expect("a channel");
        assert!(got.abs_diff(want) <= 6, "the opaque colour: {right}");
    }
    let one = &verdicts[1];
    assert_eq!(one["ok"], true, "{one}");
    assert_eq!((number(one, &["width"]), number(one, &["height"])), (1, 1));
}

#[test]
fn a_photo_becomes_an_srgb_avif_of_the_fitted_size() {
    let (Some(corpus), Some(python)) = (corpus(), support_judge::python("AVIF reader")) else {
        return;
    };
    let dir = out_dir("avif-photo");
    let mut files = Vec::new();
    let mut sizes = Vec::new();
    // A JPEG photo, and the wide-gamut input under `keep`: AVIF cannot carry the profile, so it is
    // converted and written without one.
    for (input, color) in [
        ("photos/olympus-e-p3-4032x3024.jpg", ColorMode::Srgb),
        ("colour/prophoto-rgb.jpg", ColorMode::Keep),
    ] {
        let options = Options {
            size: 500,
            format: Some(OutputFormat::Avif),
            quality: 82,
            color,
            avif_budget: BUDGET,
        };
        let resized = engine::resize(
            &read(&corpus.join(input)),
            &options,
            &Limits {
                max_pixels: 60_000_000,
            },
        )
        .unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(resized.format, OutputFormat::Avif);
        assert_eq!(resized.width.max(resized.height), 500);
        assert_eq!(resized.bytes.get(4..12), Some(&b"ftypavif"[..]), "{input}");
        sizes.push((resized.width, resized.height));
        files.push(write(&dir, &input.replace('/', "_"), &resized.bytes));
    }
    for ((verdict, (width, height)), file) in probe(&python, &files).iter().zip(sizes).zip(&files) {
        assert_eq!(verdict["ok"], true, "{}: {verdict}", file.display());
        assert_eq!(
            (number(verdict, &["width"]), number(verdict, &["height"])),
            (u64::from(width), u64::from(height))
        );
        assert_eq!(
            verdict["mode"], "RGB",
            "an opaque photo needs no alpha plane"
        );
        assert_eq!(verdict["icc"], false, "AVIF is written as sRGB, untagged");
    }
}

/// The probe can fail: a cut-short AVIF and bytes that only look like one are not read.
#[test]
fn a_broken_avif_is_caught() {
    let Some(python) = support_judge::python("AVIF reader") else {
        return;
    };
    let dir = out_dir("avif-broken");
    let good = encode::encode(
        &half_transparent(64, 48),
        OutputFormat::Avif,
        82,
        None,
        BUDGET,
    )
    .expect("encodes");
    let mut fake = good[..32].to_vec();
    fake.extend(std::iter::repeat_n(0u8, 200));
    let files = [
        write(&dir, "cut.avif", &good[..good.len() / 2]),
        write(&dir, "fake.avif", &fake),
    ];
    for verdict in probe(&python, &files) {
        assert_eq!(verdict["ok"], false, "read a broken file: {verdict}");
    }
}
