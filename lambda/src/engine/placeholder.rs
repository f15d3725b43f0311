//! A tiny placeholder of the output: its ThumbHash (<https://evanw.github.io/thumbhash/>), base64.
//!
//! A page shows it (about 25–35 characters; decoders exist for JavaScript, Swift, Kotlin, Rust) while
//! the image itself loads. It travels in the function's answer, in the completion event and in the
//! output's metadata (so a `skipped` answer can carry it without decoding anything).
//!
//! ThumbHash over BlurHash: it keeps the aspect ratio and alpha, and needs no component counts chosen.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use fast_image_resize::{FilterType, ResizeAlg, ResizeOptions, Resizer};
use image::DynamicImage;

use super::geometry;

/// The encoder's own limit (`thumbhash` asserts on larger inputs): more pixels would add nothing to
/// what a handful of DCT coefficients keep.
pub const MAX_EDGE: u32 = 100;

/// The ThumbHash of `image` (upright, as shown), base64 with padding. Downsizes to at most
/// [`MAX_EDGE`]×[`MAX_EDGE`] first. Never panics; an image without pixels has the empty placeholder.
pub fn thumbhash(image: &DynamicImage) -> String {
    if image.width() == 0 || image.height() == 0 {
        return String::new();
    }
    let small = downsize(image);
    let rgba = small.to_rgba8();
    let (width, height) = (rgba.width() as usize, rgba.height() as usize);
    STANDARD.encode(thumbhash::rgba_to_thumb_hash(width, height, rgba.as_raw()))
}

/// `image` fitted into [`MAX_EDGE`]², in its own pixel type: converting the full output to RGBA first
/// would cost four bytes per output pixel for nothing.
fn downsize(image: &DynamicImage) -> DynamicImage {
    let (width, height) = geometry::fit(image.width(), image.height(), MAX_EDGE);
    if (width, height) == (image.width(), image.height()) {
        return image.clone();
    }
    let mut small = DynamicImage::new(width, height, image.color());
    // Box averaging is what a placeholder needs (every source pixel counts once) and the cheapest.
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Box));
    match Resizer::new().resize(image, &mut small, &options) {
        Ok(()) => small,
        // A pixel type the resizer does not take: the image crate's own (slower, total) thumbnail.
        Err(_) => image.thumbnail_exact(width, height),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgb, RgbImage, Rgba, RgbaImage};
    use proptest::prelude::*;

    fn decode(hash: &str) -> Vec<u8> {
        STANDARD.decode(hash).expect("base64")
    }

    /// The average colour the hash decodes to, 0..=255 per channel.
    fn average(hash: &str) -> [f32; 4] {
        let (r, g, b, a) = thumbhash::thumb_hash_to_average_rgba(&decode(hash)).expect("hash");
        [r * 255.0, g * 255.0, b * 255.0, a * 255.0]
    }

    #[test]
    fn the_hash_decodes_to_the_images_average_colour_and_aspect() {
        // Left half orange, right half blue: average (117.5, 115, 127.5).
        let image = RgbImage::from_fn(800, 400, |x, _| {
            if x < 400 {
                Rgb([230, 130, 30])
            } else {
                Rgb([5, 100, 225])
            }
        });
        let hash = thumbhash(&DynamicImage::ImageRgb8(image));
        let [r, g, b, a] = average(&hash);
        for (got, want) in [(r, 117.5), (g, 115.0), (b, 127.5), (a, 255.0)] {
            assert!((got - want).abs() < 12.0, "{hash}: average {r} {g} {b} {a}");
        }
        let ratio =
            thumbhash::thumb_hash_to_approximate_aspect_ratio(&decode(&hash)).expect("ratio");
        assert!((ratio - 2.0).abs() < 0.3, "aspect {ratio}");
        // The rendered placeholder is landscape and orange on the left, blue on the right.
        let (w, h, pixels) = thumbhash::thumb_hash_to_rgba(&decode(&hash)).expect("render");
        assert!(w > h, "{w}×{h}");
        let at = |x: usize, y: usize| &pixels[(y * w + x) * 4..(y * w + x) * 4 + 3];
        assert!(
            at(1, h / 2)[0] > at(w - 2, h / 2)[0],
            "red falls to the right"
        );
        assert!(
            at(1, h / 2)[2] < at(w - 2, h / 2)[2],
            "blue rises to the right"
        );
    }

    #[test]
    fn a_portrait_stays_portrait_and_alpha_is_kept() {
        let image = RgbaImage::from_pixel(30, 90, Rgba([0, 200, 0, 64]));
        let hash = thumbhash(&DynamicImage::ImageRgba8(image));
        let [_, g, _, a] = average(&hash);
        assert!(
            (g - 200.0).abs() < 12.0 && (a - 64.0).abs() < 20.0,
            "{g} {a}"
        );
        let ratio =
            thumbhash::thumb_hash_to_approximate_aspect_ratio(&decode(&hash)).expect("ratio");
        assert!(ratio < 0.5, "aspect {ratio}");
    }

    #[test]
    fn gray_and_16_bit_images_have_placeholders_too() {
        for image in [
            DynamicImage::new_luma8(300, 200),
            DynamicImage::new_luma_a16(300, 200),
            DynamicImage::new_rgb16(50, 50),
            DynamicImage::new_rgba32f(120, 7),
        ] {
            let hash = thumbhash(&image);
            assert!(
                thumbhash::thumb_hash_to_rgba(&decode(&hash)).is_ok(),
                "{hash}"
            );
        }
    }

    #[test]
    fn an_image_without_pixels_has_the_empty_placeholder() {
        assert_eq!(thumbhash(&DynamicImage::new_rgb8(0, 5)), "");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Any size the engine can output, 1×N and N×1 included: no panic, a short hash that decodes.
        #[test]
        fn any_size_gives_a_decodable_hash(
            width in prop_oneof![Just(1u32), 1u32..=2000],
            height in prop_oneof![Just(1u32), 1u32..=2000],
            seed in any::<u8>(),
        ) {
            let image = RgbImage::from_fn(width, height, |x, y| {
                Rgb([seed ^ (x as u8), (y as u8).wrapping_mul(3), seed])
            });
            let hash = thumbhash(&DynamicImage::ImageRgb8(image));
            prop_assert!(!hash.is_empty() && hash.len() <= 48, "{}", hash);
            prop_assert!(thumbhash::thumb_hash_to_rgba(&decode(&hash)).is_ok());
        }
    }
}
