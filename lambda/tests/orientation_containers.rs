//! EXIF orientation in every container that carries it, not only JPEG: WebP's `EXIF` chunk, PNG's `eXIf`
//! (before or after the image data) and ImageMagick's "Raw profile type exif" text chunk (zTXt or tEXt).
//!
//! The WebP that came out unrotated had JPEG's `Exif\0\0` header left before the TIFF data in its `EXIF`
//! chunk (webpmux writes what it is given; older Pillow and GIMP wrote it so): the `image` crate then reads
//! no orientation, as `what_the_image_crate_reports_on_its_own` prints. Spec-conforming WebP (cwebp,
//! exiftool) and PNG `eXIf` before the image data it did read.
//!
//! The fixtures in `fixtures/orientation/` were written by the tools that write each container that way
//! (`make.sh` there says which, and checks each with exiftool): one 48x32 picture stored sideways with
//! Orientation 6. Upright it is 32x48 with lime top-left, red top-right, white bottom-left, blue
//! bottom-right; any other reading of the tag (none, a mirror, the wrong turn) puts other colours there.

use std::path::{Path, PathBuf};

use image::RgbImage;
use imgresize::engine::{self, ColorMode, Limits, Options, OutputFormat};

const LIMITS: Limits = Limits {
    max_pixels: 1 << 20,
};

fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/orientation");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| {
            path.extension()
                .is_some_and(|ext| ext == "png" || ext == "webp")
        })
        .collect();
    files.sort();
    // Three WebP writers (one leaving JPEG's "Exif\0\0" header in the chunk), eXIf before and after IDAT,
    // the raw profile compressed and not.
    assert_eq!(files.len(), 7, "fixtures: {files:?}");
    files
}

/// The colour at the centre of each quadrant, as (top-left, top-right, bottom-left, bottom-right).
fn quadrants(image: &RgbImage) -> [[u8; 3]; 4] {
    let (w, h) = image.dimensions();
    let at = |x: u32, y: u32| image.get_pixel(x, y).0;
    [
        at(w / 4, h / 4),
        at(3 * w / 4, h / 4),
        at(w / 4, 3 * h / 4),
        at(3 * w / 4, 3 * h / 4),
    ]
}

fn near(actual: [u8; 3], expected: [u8; 3]) -> bool {
    // Lossy WebP and JPEG move flat colours by a few levels, never from one of these four to another.
    actual
        .iter()
        .zip(expected)
        .all(|(a, e)| a.abs_diff(e) <= 40)
}

const LIME: [u8; 3] = [0, 255, 0];
const RED: [u8; 3] = [255, 0, 0];
const WHITE: [u8; 3] = [255, 255, 255];
const BLUE: [u8; 3] = [0, 0, 255];

/// Any "Exif" / "eXIf" / "EXIF" bytes: an output must carry no orientation tag (it is already applied).
fn carries_exif(bytes: &[u8]) -> bool {
    [&b"Exif"[..], b"eXIf", b"EXIF", b"Raw profile type"]
        .iter()
        .any(|needle| bytes.windows(needle.len()).any(|w| w == *needle))
}

#[test]
fn orientation_is_applied_from_every_container_and_stripped_from_the_output() {
    let mut failures = Vec::new();
    for path in fixtures() {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        for format in [
            None,
            Some(OutputFormat::Png),
            Some(OutputFormat::Webp),
            Some(OutputFormat::Jpeg),
        ] {
            let options = Options {
                size: 100,
                format,
                quality: 95,
                color: ColorMode::Srgb,
                avif_budget: std::time::Duration::from_millis(
                    imgresize::config::DEFAULT_AVIF_TIME_BUDGET_MS,
                ),
            };
            let resized = engine::resize(&data, &options, &LIMITS)
                .unwrap_or_else(|e| panic!("{name} → {format:?}: {e}"));
            let decoded = image::load_from_memory(&resized.bytes)
                .unwrap_or_else(|e| panic!("{name} → {format:?}: output: {e}"))
                .to_rgb8();
            let seen = quadrants(&decoded);
            let upright = (resized.width, resized.height) == (32, 48)
                && decoded.dimensions() == (32, 48)
                && seen
                    .iter()
                    .zip([LIME, RED, WHITE, BLUE])
                    .all(|(a, e)| near(*a, e));
            if !upright {
                failures.push(format!(
                    "{name} → {:?}: {}x{}, quadrants {seen:?}",
                    resized.format, resized.width, resized.height
                ));
            }
            if carries_exif(&resized.bytes) {
                failures.push(format!(
                    "{name} → {:?}: the output carries EXIF",
                    resized.format
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "not upright or not stripped:\n{}",
        failures.join("\n")
    );
}

/// Why the engine walks the chunks itself: what the `image` crate's decoders report for each fixture.
/// Printed, not asserted: a newer `image` that reads more is welcome, and this test is not the place to
/// notice it.
#[test]
fn what_the_image_crate_reports_on_its_own() {
    use image::ImageDecoder;
    for path in fixtures() {
        let data = std::fs::read(&path).expect("fixture");
        let reading = image::ImageReader::new(std::io::Cursor::new(&data))
            .with_guessed_format()
            .map_err(|e| e.to_string())
            .and_then(|reader| reader.into_decoder().map_err(|e| e.to_string()))
            .and_then(|mut decoder| {
                let exif = decoder.exif_metadata().map_err(|e| e.to_string())?;
                let orientation = decoder.orientation().map_err(|e| e.to_string())?;
                Ok((exif.map(|e| e.len()), orientation))
            });
        eprintln!(
            "{}: image's decoder: {reading:?}",
            path.file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default()
        );
    }
}
