//! Resampling with `fast_image_resize`: Lanczos3 on its SIMD paths (AVX2/SSE4.1, NEON), with alpha
//! premultiplied so transparent pixels do not bleed their colour into the edges.

use fast_image_resize::{FilterType, ResizeAlg, ResizeOptions, Resizer};
use image::DynamicImage;

use super::geometry::Rect;
use crate::error::Error;

pub fn resample(image: DynamicImage, width: u32, height: u32) -> Result<DynamicImage, Error> {
    if (image.width(), image.height()) == (width, height) {
        return Ok(image);
    }
    resample_region(&image, None, width, height)
}

/// Resamples `region` of `image` (the whole image if `None`) to `width`×`height`, leaving `image` as it
/// is: every rendition is made from the one decoded image.
pub fn resample_region(
    image: &DynamicImage,
    region: Option<Rect>,
    width: u32,
    height: u32,
) -> Result<DynamicImage, Error> {
    let whole = region.is_none_or(|r| {
        r.left == 0.0
            && r.top == 0.0
            && r.width == f64::from(image.width())
            && r.height == f64::from(image.height())
    });
    if whole && (image.width(), image.height()) == (width, height) {
        return Ok(image.clone());
    }
    let mut resized = DynamicImage::new(width, height, image.color());
    let mut options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3));
    if let (Some(r), false) = (region, whole) {
        options = options.crop(r.left, r.top, r.width, r.height);
    }
    Resizer::new()
        .resize(image, &mut resized, &options)
        .map_err(|e| Error::Internal(format!("resampling failed: {e}")))?;
    Ok(resized)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgba, RgbaImage};

    #[test]
    fn resamples_to_the_exact_size() {
        let image = DynamicImage::ImageRgb8(image::RgbImage::new(400, 300));
        let resized = resample(image, 100, 75).expect("resize");
        assert_eq!((resized.width(), resized.height()), (100, 75));
        assert!(matches!(resized, DynamicImage::ImageRgb8(_)));
    }

    #[test]
    fn transparent_pixels_do_not_bleed_colour() {
        // Left half opaque red, right half fully transparent *green*: without premultiplied alpha
        // the green would leak into the edge pixels.
        let image = RgbaImage::from_fn(64, 64, |x, _| {
            if x < 32 {
                Rgba([255, 0, 0, 255])
            } else {
                Rgba([0, 255, 0, 0])
            }
        });
        let resized = resample(DynamicImage::ImageRgba8(image), 16, 16).expect("resize");
        let pixels = resized.to_rgba8();
        for pixel in pixels.pixels().filter(|p| p[3] > 0) {
            assert!(pixel[1] < 8, "green leaked into {pixel:?}");
        }
    }
}
