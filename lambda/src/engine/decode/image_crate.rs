//! PNG, WebP, GIF and BMP through the `image` crate, whose decoders honour allocation limits.

use std::io::Cursor;

use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageError, ImageReader};

use super::{exif, Decoded, Pixels};
use crate::engine::sniff::InputFormat;
use crate::engine::Limits;
use crate::error::Error;

pub fn decode(data: &[u8], format: InputFormat, limits: &Limits) -> Result<Decoded, Error> {
    let mut reader = ImageReader::with_format(Cursor::new(data), format.to_image_format());
    reader.limits(decoder_limits(limits));
    // Animated GIF, WebP and APNG decode to their first frame: the documented policy.
    let mut decoder = reader.into_decoder().map_err(classify)?;
    // Broken metadata must not cost a picture whose pixels are fine.
    let icc = decoder.icc_profile().ok().flatten();
    // The containers' own chunks first: the decoder misses PNG's eXIf after the image data and
    // ImageMagick's raw profile text (see exif.rs). Its own reading is the fallback.
    let from_chunks = match format {
        InputFormat::Webp => exif::webp(data),
        InputFormat::Png => exif::png(data),
        _ => None,
    };
    let orientation = from_chunks
        .or_else(|| decoder.orientation().ok())
        .unwrap_or(Orientation::NoTransforms);
    let image = DynamicImage::from_decoder(decoder).map_err(classify)?;
    Ok(Decoded {
        source_width: image.width(),
        source_height: image.height(),
        pixels: Pixels::Image(to_8_bit(image)),
        icc,
        orientation,
    })
}

/// The decoders' own guard against allocations the header did not announce (GIF frames larger than
/// the canvas, for one): room for the pixel budget at the widest sample type they produce.
fn decoder_limits(limits: &Limits) -> image::Limits {
    let mut decoder_limits = image::Limits::default();
    decoder_limits.max_alloc = Some(limits.max_pixels.saturating_mul(16));
    decoder_limits.max_image_width = Some(u32::try_from(limits.max_pixels).unwrap_or(u32::MAX));
    decoder_limits.max_image_height = Some(u32::try_from(limits.max_pixels).unwrap_or(u32::MAX));
    decoder_limits
}

fn to_8_bit(image: DynamicImage) -> DynamicImage {
    match image {
        DynamicImage::ImageLuma8(_)
        | DynamicImage::ImageLumaA8(_)
        | DynamicImage::ImageRgb8(_)
        | DynamicImage::ImageRgba8(_) => image,
        DynamicImage::ImageLuma16(_) => DynamicImage::ImageLuma8(image.to_luma8()),
        DynamicImage::ImageLumaA16(_) => DynamicImage::ImageLumaA8(image.to_luma_alpha8()),
        DynamicImage::ImageRgb16(_) | DynamicImage::ImageRgb32F(_) => {
            DynamicImage::ImageRgb8(image.to_rgb8())
        }
        _ => DynamicImage::ImageRgba8(image.to_rgba8()),
    }
}

fn classify(error: ImageError) -> Error {
    match error {
        ImageError::Limits(limit) => {
            Error::CorruptImage(format!("decoder limit exceeded: {limit}"))
        }
        ImageError::Unsupported(unsupported) => Error::UnsupportedFormat(unsupported.to_string()),
        other => Error::CorruptImage(other.to_string()),
    }
}
