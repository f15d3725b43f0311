//! The colour step on ../shared/corpus/colour, judged by LittleCMS (Pillow's ImageCms, run by
//! support/colour_judge.py), not by the colour crate the engine uses: every output, seen through its
//! own profile (or as sRGB when it carries none), matches the `*.srgb-reference.png` beside its input
//! on 40x30 block means, mean <= 1.5 and 95th percentile <= 4 levels (SOURCES.md), in JPEG, PNG,
//! WebP and AVIF (read by Pillow's libavif, not by anything the engine uses), with `COLOR=srgb` and
//! `COLOR=keep`.

use std::path::{Path, PathBuf};

use image::{DynamicImage, RgbImage};
use imgresize::engine::{
    self, color, decode, encode, geometry, resize, ColorMode, Limits, Options,
};
use imgresize::engine::{InputFormat, OutputFormat};
use serde_json::{json, Value};

#[path = "support/corpus.rs"]
mod support_corpus;
#[path = "support/judge.rs"]
mod support_judge;
use support_corpus::{corpus, read};

const LIMITS: Limits = Limits {
    max_pixels: 60_000_000,
};
const SIZE: u32 = 400;
const FORMATS: [OutputFormat; 4] = [
    OutputFormat::Jpeg,
    OutputFormat::Png,
    OutputFormat::Webp,
    OutputFormat::Avif,
];
const MAX_MEAN: f64 = 1.5;
const MAX_P95: f64 = 4.0;

/// The colour corpus: input, and whether its profile is RGB (kept by `keep`) rather than CMYK.
const INPUTS: [(&str, bool); 5] = [
    ("prophoto-rgb.jpg", true),
    ("adobe-rgb.png", true),
    ("wide-gamut-rgb.webp", true),
    ("cmyk-default-profile.jpg", false),
    ("srgb-tagged.jpg", true),
];

fn reference(dir: &Path, input: &str) -> PathBuf {
    let stem = input.rsplit_once('.').map_or(input, |(stem, _)| stem);
    dir.join(format!("{stem}.srgb-reference.png"))
}

/// Runs the judge on `items` ({"output", "reference", "ignore_profile"}); one verdict per item.
fn judge(python: &Path, items: &[Value]) -> Vec<Value> {
    support_judge::run(python, "colour_judge.py", items.to_vec())
}

fn out_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("output dir");
    dir
}

#[test]
fn every_output_shows_the_reference_colours() {
    let (Some(corpus), Some(python)) = (corpus(), support_judge::python("colour judge")) else {
        return;
    };
    let dir = corpus.join("colour");
    let out = out_dir("colour-outputs");
    // The inputs themselves come first: seen through their own profiles they must match their
    // references almost exactly, or the judge (not the engine) is wrong. Their profiles' digests are
    // what `keep` must carry.
    let mut items: Vec<Value> = INPUTS
        .iter()
        .map(|(input, _)| {
            json!({"label": format!("{input} (input)"), "output": dir.join(input), "reference": reference(&dir, input)})
        })
        .collect();
    let mut expected_profile = Vec::new();
    for (index, (input, rgb_profile)) in INPUTS.into_iter().enumerate() {
        let data = read(&dir.join(input));
        for mode in [ColorMode::Srgb, ColorMode::Keep] {
            for format in FORMATS {
                let options = Options {
                    size: SIZE,
                    format: Some(format),
                    quality: 95,
                    color: mode,
                    avif_budget: std::time::Duration::from_millis(
                        imgresize::config::DEFAULT_AVIF_TIME_BUDGET_MS,
                    ),
                };
                let resized = engine::resize(&data, &options, &LIMITS)
                    .unwrap_or_else(|e| panic!("{input} → {format:?}: {e}"));
                let path = out.join(format!("{input}.{}.{}", mode.as_str(), format.extension()));
                std::fs::write(&path, &resized.bytes).expect("written");
                items.push(json!({
                    "label": format!("{input} {} → {format:?}", mode.as_str()),
                    "output": path,
                    "reference": reference(&dir, input),
                }));
                // `keep` carries an RGB profile untouched; CMYK is converted, and `srgb` writes none.
                // AVIF cannot carry one: there `keep` converts to sRGB (CONTRACT.md, Colour).
                let carried = mode == ColorMode::Keep && rgb_profile && encode::carries_icc(format);
                expected_profile.push(carried.then_some(index));
            }
        }
    }
    let verdicts = judge(&python, &items);
    let (inputs, outputs) = verdicts.split_at(INPUTS.len());
    let mut failures = Vec::new();
    for ((item, verdict), expected) in items[INPUTS.len()..].iter().zip(outputs).zip(
        expected_profile
            .iter()
            .map(|input| input.map(|index| &inputs[index]["icc_sha256"])),
    ) {
        let label = item["label"].as_str().unwrap_or_default();
        let (Some(mean), Some(p95)) = (verdict["mean"].as_f64(), verdict["p95"].as_f64()) else {
            panic!("verdict without numbers: {verdict}");
        };
        eprintln!(
            "{label:<45} mean {mean:5.2}  p95 {p95:4.1}  seen through {}",
            verdict["profile"].as_str().unwrap_or("sRGB (no profile)")
        );
        if mean > MAX_MEAN || p95 > MAX_P95 {
            failures.push(format!("{label}: mean {mean:.2}, p95 {p95}"));
        }
        let carried = &verdict["icc_sha256"];
        match expected {
            Some(input_icc) if carried != input_icc => failures.push(format!(
                "{label}: the input's profile is not carried untouched"
            )),
            None if !carried.is_null() => failures.push(format!("{label}: carries a profile")),
            _ => {}
        }
    }
    for (item, verdict) in items.iter().zip(inputs) {
        let mean = verdict["mean"].as_f64().unwrap_or(f64::MAX);
        assert!(
            verdict["icc_sha256"].is_string(),
            "{}: no profile",
            item["label"]
        );
        assert!(
            mean < 0.5,
            "{}: the judge's own reading is off ({mean})",
            item["label"]
        );
    }
    assert!(failures.is_empty(), "colours off: {failures:#?}");
}

/// The judge can fail: the ProPhoto photo's pixels with the profile dropped and nothing converted (the
/// engine before this step) are far from the reference.
#[test]
fn dropping_a_wide_gamut_profile_without_converting_is_caught() {
    let (Some(corpus), Some(python)) = (corpus(), support_judge::python("colour judge")) else {
        return;
    };
    let dir = corpus.join("colour");
    let input = "prophoto-rgb.jpg";
    let options = Options {
        size: SIZE,
        format: Some(OutputFormat::Png),
        quality: 95,
        color: ColorMode::Keep,
        avif_budget: std::time::Duration::from_millis(
            imgresize::config::DEFAULT_AVIF_TIME_BUDGET_MS,
        ),
    };
    let resized = engine::resize(&read(&dir.join(input)), &options, &LIMITS).expect("resizes");
    let path = out_dir("colour-control").join("prophoto-dropped.png");
    std::fs::write(&path, &resized.bytes).expect("written");
    let verdict = judge(
        &python,
        &[json!({"output": path, "reference": reference(&dir, input), "ignore_profile": true})],
    );
    let mean = verdict[0]["mean"].as_f64().expect("mean");
    eprintln!("ProPhoto, profile dropped: mean {mean:.2}");
    assert!(
        mean > 3.0 * MAX_MEAN,
        "the judge did not see the lost saturation"
    );
}

/// Why the RGB/gray profile is applied after resampling (color.rs): on every RGB input of the corpus,
/// converting the decoded image and then resampling gives the same block means, within a level, as
/// resampling and then converting the far fewer output pixels.
#[test]
fn converting_after_resampling_matches_converting_before() {
    let Some(corpus) = corpus() else { return };
    let dir = corpus.join("colour");
    for (input, format) in [
        ("prophoto-rgb.jpg", InputFormat::Jpeg),
        ("adobe-rgb.png", InputFormat::Png),
        ("wide-gamut-rgb.webp", InputFormat::Webp),
    ] {
        let data = read(&dir.join(input));
        let prepared = || {
            let decoded = decode::decode(&data, format, SIZE, &LIMITS).expect("decodes");
            color::before_resampling(decoded.pixels, decoded.icc).expect("prepared")
        };
        let fit = |image: &DynamicImage| geometry::fit(image.width(), image.height(), SIZE);

        let (image, profile) = prepared();
        let (width, height) = fit(&image);
        let resampled = resize::resample(image, width, height).expect("resamples");
        let after = color::after_resampling(resampled, profile, ColorMode::Srgb, false).0;

        let (image, profile) = prepared();
        let (width, height) = fit(&image);
        let converted = color::after_resampling(image, profile, ColorMode::Srgb, false).0;
        let before = resize::resample(converted, width, height).expect("resamples");

        let worst = block_means(&after.to_rgb8())
            .iter()
            .zip(block_means(&before.to_rgb8()))
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        eprintln!("{input}: largest block-mean difference {worst:.3}");
        assert!(
            worst <= 1.0,
            "{input}: the order matters ({worst:.3} levels)"
        );
    }
}

/// Means of 40x30 blocks per channel.
fn block_means(image: &RgbImage) -> Vec<f64> {
    let (width, height) = image.dimensions();
    let (block_width, block_height) = (width / 40, height / 30);
    let mut means = Vec::with_capacity(40 * 30 * 3);
    for by in 0..30 {
        for bx in 0..40 {
            let mut sums = [0u64; 3];
            for y in by * block_height..(by + 1) * block_height {
                for x in bx * block_width..(bx + 1) * block_width {
                    for (sum, value) in sums.iter_mut().zip(image.get_pixel(x, y).0) {
                        *sum += u64::from(value);
                    }
                }
            }
            let count = f64::from(block_width * block_height);
            means.extend(sums.map(|sum| sum as f64 / count));
        }
    }
    means
}
