//! Bytes → the whole engine (sniff → header budget → decode → colour → resample → orient → encode) under the
//! production limits. Every input must end in a resized image that decodes, or in a rejection with a
//! stable code: never a panic, an `Internal` error, or an allocation past the fuzzer's RSS limit.
#![no_main]

use imgresize::config::{DEFAULT_AVIF_TIME_BUDGET_MS, DEFAULT_MAX_PIXELS, DEFAULT_QUALITY};
use imgresize::engine::{self, ColorMode, Limits, Options, OutputFormat};
use libfuzzer_sys::fuzz_target;

const LIMITS: Limits = Limits {
    max_pixels: DEFAULT_MAX_PIXELS,
};

fuzz_target!(|data: &[u8]| {
    // The box, the output format and the colour mode come from the length, so every byte stays image data.
    let size = 64 + (data.len() % 193) as u32; // 64..=256
    let format = match (data.len() / 193) % 4 {
        0 => None,
        1 => Some(OutputFormat::Jpeg),
        2 => Some(OutputFormat::Png),
        _ => Some(OutputFormat::Webp),
    };
    let color = if (data.len() / 772) % 2 == 0 {
        ColorMode::Srgb
    } else {
        ColorMode::Keep
    };
    let options = Options {
        size,
        format,
        quality: DEFAULT_QUALITY,
        color,
        // AVIF is left out of the formats above: rav1e under the sanitizers would make each run slow.
        avif_budget: std::time::Duration::from_millis(DEFAULT_AVIF_TIME_BUDGET_MS),
    };
    match engine::resize(data, &options, &LIMITS) {
        Ok(resized) => {
            let source = resized.source;
            assert!(
                u64::from(source.width) * u64::from(source.height) <= LIMITS.max_pixels,
                "resized a {}x{} source, over the pixel budget",
                source.width,
                source.height
            );
            assert!(resized.width >= 1 && resized.height >= 1);
            assert!(
                resized.width.max(resized.height) <= size,
                "upscaled or overflowed the box"
            );
            if let Some(wanted) = format {
                assert_eq!(resized.format, wanted);
            }
            // What would be written must be a whole image of the reported size.
            let decoded = image::load_from_memory(&resized.bytes)
                .unwrap_or_else(|e| panic!("the {:?} output does not decode: {e}", resized.format));
            assert_eq!(
                (decoded.width(), decoded.height()),
                (resized.width, resized.height)
            );
        }
        Err(error) => {
            assert!(
                matches!(
                    error.code(),
                    "UNSUPPORTED_FORMAT" | "CORRUPT_IMAGE" | "IMAGE_TOO_LARGE"
                ),
                "hostile bytes must be a rejection, got {}: {error}",
                error.code()
            );
        }
    }
});
