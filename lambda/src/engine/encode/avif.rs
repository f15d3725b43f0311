//! AVIF output through rav1e (the `ravif` crate): pure Rust, so the zip needs no new system library.
//!
//! rav1e cannot be interrupted inside a frame, and a still image is one frame: once an encode starts it
//! runs to the end. So the time is decided before it starts: [`choose_speed`] picks the rav1e speed from
//! the pixel count and a time budget, with the cost per megapixel of each speed measured below.
//!
//! Colour: the file is written as sRGB (ravif's `colr` box: BT.709 primaries, sRGB transfer). ravif
//! cannot embed an ICC profile, so [`super::carries_icc`] is false for AVIF and the engine converts a
//! tagged input to sRGB even under `color: keep` (CONTRACT.md, Colour).

use std::panic::{self, AssertUnwindSafe};
use std::time::Duration;

use image::DynamicImage;
use ravif::{Encoder, Img, RGB8, RGBA8};

use crate::error::Error;

/// rav1e speed presets (ravif's 1..=10, 10 fastest) with what one megapixel of 8-bit RGB costs at each, on one
/// core, at ravif qualities up to 80 (request qualities up to 88).
///
/// Measured 2026-11-28 on the project's machine (x86_64 AMD EPYC, AVX2, rav1e `asm` on, release build) by
/// `lambda/examples/avif_speed.rs`: the 8–12 MP photos of the corpus (olympus 12 MP, iphone-6 and jolla 8 MP,
/// nokia 9 MP) fitted into 1000 px, request quality 86 (ravif 69, what the default maps to), median of 3
/// wall-clock encodes pinned to one core; the figure is the worst photo's, rounded up. The machine was shared
/// (load average 6 on 2 cores, wall ÷ CPU time 1.5), so these are about 1.5× what an idle core takes; at 2000 px
/// (3 MP) every speed cost 10–45 % less per megapixel than at 1000 px, so the linear model overestimates large
/// outputs. Speeds 5 and 6 wrote identical files, as did 7 and 8 (ravif maps them onto the same tools); 4 cost
/// 15–30 % more than 6 for 0.2 % fewer bytes, and 1–3 more again: left out.
///
/// | speed | ms per MP (worst) | bytes vs speed 6 |
/// |---|---:|---:|
/// | 4 | 3 900 | −0.1 % |
/// | 6 | 3 400 | – |
/// | 8 | 3 100 | +0.3–1 % |
/// | 9 | 1 350 | +0.2–6 % |
/// | 10 | 510 | +10–19 % |
pub const SPEED_COST_MS_PER_MEGAPIXEL: [(u8, u32); 5] =
    [(4, 3_900), (6, 3_400), (8, 3_100), (9, 1_350), (10, 510)];

/// The speed used when the budget allows it: 6 is the slowest speed that still paid (see the table above); on
/// a 1000 px photo it took 0.55–0.75× sharp's AVIF time (libaom, effort 4) for 1.2–1.27× its bytes at equal
/// DSSIM (bench/report.md, AVIF), and 9 would halve the time again for 3–6 % more bytes.
pub const PREFERRED_SPEED: u8 = 6;

/// Above ravif's quality 80 (request quality 89 and up) rav1e keeps smaller blocks: request quality 100 cost
/// 1.7–2.8× what 86 did at speeds 6, 9 and 10 (same measurement).
const HIGH_QUALITY_FACTOR: u32 = 3;
const HIGH_QUALITY_ABOVE: f32 = 80.0;

/// What the measured figures are multiplied by before they are held against the budget: arm64 (Graviton)
/// runs rav1e's NEON assembly, which covers fewer kernels than its AVX2 assembly, and was not measured here
/// (the arm64 binary does not run on this machine at speed). The figures themselves already carry the shared
/// machine's 1.5×. Together: about 3× an idle x86_64 core, for one full vCPU (1,769 MB); a smaller
/// `memory_size` gets a fraction of a vCPU and needs a larger `AVIF_TIME_BUDGET_MS`.
pub const COST_MARGIN: u32 = 2;

/// A fixed cost per encode (rav1e's setup, the container), independent of pixels, in milliseconds.
const FIXED_COST_MS: u64 = 20;

/// The predicted time of an encode of `pixels` at `speed` and request `quality`, margin included; `None` for
/// a speed outside [`SPEED_COST_MS_PER_MEGAPIXEL`].
pub fn predicted_cost(pixels: u64, speed: u8, quality: u8) -> Option<Duration> {
    let (_, per_megapixel) = SPEED_COST_MS_PER_MEGAPIXEL
        .iter()
        .find(|(s, _)| *s == speed)?;
    // A millisecond per megapixel is a nanosecond per pixel: exact, no rounding.
    let nanos = u128::from(pixels)
        * u128::from(*per_megapixel)
        * u128::from(COST_MARGIN)
        * u128::from(quality_factor(quality));
    let nanos = u64::try_from(nanos).unwrap_or(u64::MAX);
    Some(Duration::from_nanos(nanos).saturating_add(Duration::from_millis(FIXED_COST_MS)))
}

fn quality_factor(quality: u8) -> u32 {
    if ravif_quality(quality) > HIGH_QUALITY_ABOVE {
        HIGH_QUALITY_FACTOR
    } else {
        1
    }
}

/// The slowest speed, no slower than [`PREFERRED_SPEED`], whose predicted cost fits `budget`; `None` when
/// even the fastest does not (the caller refuses the output rather than run past the timeout).
pub fn choose_speed(pixels: u64, quality: u8, budget: Duration) -> Option<u8> {
    SPEED_COST_MS_PER_MEGAPIXEL
        .iter()
        .map(|(speed, _)| *speed)
        .filter(|speed| *speed >= PREFERRED_SPEED)
        .find(|speed| predicted_cost(pixels, *speed, quality).is_some_and(|cost| cost <= budget))
}

/// The largest pixel count [`choose_speed`] accepts for `quality` and `budget`: what a refusal quotes.
pub fn max_pixels(quality: u8, budget: Duration) -> u64 {
    let (_, per_megapixel) = SPEED_COST_MS_PER_MEGAPIXEL[SPEED_COST_MS_PER_MEGAPIXEL.len() - 1];
    let available = budget
        .saturating_sub(Duration::from_millis(FIXED_COST_MS))
        .as_nanos();
    let per_pixel =
        u128::from(per_megapixel) * u128::from(COST_MARGIN) * u128::from(quality_factor(quality));
    u64::try_from(available / per_pixel).unwrap_or(u64::MAX)
}

/// ravif's quality (1..=100) for the request's `quality` (the 1..=100 scale every format shares). ravif's
/// scale is not JPEG's: at ravif 69 the 1000 px AVIFs of the 8–12 MP photos had the DSSIM of sharp's default
/// AVIF (quality 50): 0.0030 (sharp 0.0030–0.0033), where ravif 60 gave 0.0043. So the request's scale is
/// stretched linearly to put the default request (82) at 69, keeping 1 at 1 and 100 at 100.
pub fn ravif_quality(quality: u8) -> f32 {
    let q = f32::from(quality.clamp(1, 100));
    let (default_request, default_ravif) = (82.0, 69.0);
    let mapped = if q <= default_request {
        1.0 + (q - 1.0) * (default_ravif - 1.0) / (default_request - 1.0)
    } else {
        default_ravif + (q - default_request) * (100.0 - default_ravif) / (100.0 - default_request)
    };
    mapped.clamp(1.0, 100.0)
}

/// Encodes `image` as AVIF at the speed the budget allows; alpha is kept (RGBA → AVIF with an alpha
/// plane; ravif leaves the plane out when every pixel is opaque).
pub fn encode(image: &DynamicImage, quality: u8, budget: Duration) -> Result<Vec<u8>, Error> {
    let pixels = u64::from(image.width()) * u64::from(image.height());
    let speed = choose_speed(pixels, quality, budget).ok_or_else(|| Error::ImageTooLarge {
        width: u64::from(image.width()),
        height: u64::from(image.height()),
        pixels,
        max: max_pixels(quality, budget),
    })?;
    encode_at_speed(image, quality, speed)
}

/// [`encode`] at a given rav1e speed (1..=10): for the measurement behind the constants above.
pub fn encode_at_speed(image: &DynamicImage, quality: u8, speed: u8) -> Result<Vec<u8>, Error> {
    let (width, height) = (image.width() as usize, image.height() as usize);
    let encoder = Encoder::new()
        .with_quality(ravif_quality(quality))
        .with_alpha_quality(ravif_quality(quality))
        .with_speed(speed.clamp(1, 10));
    let run = || {
        if image.color().has_alpha() {
            let rgba: Vec<RGBA8> = image
                .to_rgba8()
                .as_raw()
                .chunks_exact(4)
                .map(|p| RGBA8::new(p[0], p[1], p[2], p[3]))
                .collect();
            encoder.encode_rgba(Img::new(rgba.as_slice(), width, height))
        } else {
            let rgb: Vec<RGB8> = image
                .to_rgb8()
                .as_raw()
                .chunks_exact(3)
                .map(|p| RGB8::new(p[0], p[1], p[2]))
                .collect();
            encoder.encode_rgb(Img::new(rgb.as_slice(), width, height))
        }
    };
    match panic::catch_unwind(AssertUnwindSafe(run)) {
        Ok(Ok(encoded)) => Ok(encoded.avif_file),
        Ok(Err(error)) => Err(Error::Internal(format!("AVIF encoding failed: {error}"))),
        Err(_) => Err(Error::Internal("AVIF encoding failed".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);
    const QUALITIES: [u8; 4] = [1, 82, 89, 100];

    #[test]
    fn the_speed_gets_faster_as_the_pixels_grow() {
        for quality in QUALITIES {
            for budget in [SECOND, 10 * SECOND, 60 * SECOND] {
                let limit = max_pixels(quality, budget);
                let mut previous = PREFERRED_SPEED;
                for step in 0..=1_000 {
                    let pixels = limit / 1_000 * step;
                    let speed = choose_speed(pixels, quality, budget).expect("within the limit");
                    assert!(
                        speed >= previous,
                        "{pixels} px: speed {speed} after {previous}"
                    );
                    previous = speed;
                }
                assert_eq!(
                    previous, 10,
                    "q{quality}, {budget:?}: the largest gets the fastest"
                );
            }
        }
    }

    #[test]
    fn the_chosen_speed_fits_the_budget_by_the_model() {
        for budget_ms in [50, 500, 3_000, 10_000, 60_000, 900_000] {
            let budget = Duration::from_millis(budget_ms);
            for quality in QUALITIES {
                for pixels in (0..=400u64).map(|n| n * n * 1_000) {
                    match choose_speed(pixels, quality, budget) {
                        Some(speed) => {
                            let cost = predicted_cost(pixels, speed, quality).expect("measured");
                            assert!(
                                cost <= budget,
                                "{pixels} px at {speed}: {cost:?} > {budget:?}"
                            );
                        }
                        None => {
                            assert!(pixels > max_pixels(quality, budget), "{pixels} px refused")
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn the_limit_quoted_is_the_limit_applied() {
        for quality in QUALITIES {
            for budget in [SECOND / 10, SECOND, 10 * SECOND, 900 * SECOND] {
                let limit = max_pixels(quality, budget);
                assert_eq!(choose_speed(limit, quality, budget), Some(10), "{budget:?}");
                assert_eq!(choose_speed(limit + 1, quality, budget), None, "{budget:?}");
            }
        }
        assert_eq!(choose_speed(0, 82, Duration::ZERO), None);
    }

    #[test]
    fn higher_qualities_are_predicted_to_cost_more() {
        let pixels = 750_000;
        for speed in [6, 9, 10] {
            assert!(predicted_cost(pixels, speed, 100) > predicted_cost(pixels, speed, 82));
        }
        assert!(max_pixels(100, 10 * SECOND) < max_pixels(82, 10 * SECOND));
    }

    #[test]
    fn the_default_output_gets_the_preferred_speed_under_the_default_budget() {
        let budget = Duration::from_millis(crate::config::DEFAULT_AVIF_TIME_BUDGET_MS);
        assert_eq!(choose_speed(1_000 * 750, 82, budget), Some(PREFERRED_SPEED));
        // The default budget still takes an AVIF of the largest default-size output several times over.
        assert!(max_pixels(82, budget) >= 9_000_000);
    }

    #[test]
    fn quality_maps_monotonically_onto_ravif_s_scale() {
        let mapped: Vec<f32> = (1..=100).map(ravif_quality).collect();
        assert!(mapped.windows(2).all(|w| w[0] < w[1]));
        assert_eq!((mapped[0], mapped[99]), (1.0, 100.0));
        assert!((ravif_quality(82) - 69.0).abs() < 1e-3);
        assert_eq!(ravif_quality(0), 1.0);
        // Where the high-quality factor starts: request 89 is the first above ravif 80.
        assert!(ravif_quality(88) <= HIGH_QUALITY_ABOVE && ravif_quality(89) > HIGH_QUALITY_ABOVE);
    }

    #[test]
    fn an_image_over_the_budget_is_refused_before_encoding() {
        let image = DynamicImage::ImageRgb8(image::RgbImage::new(2_000, 2_000));
        let error = encode(&image, 82, Duration::from_millis(30)).expect_err("refused");
        assert_eq!(error.code(), "IMAGE_TOO_LARGE");
    }
}
