//! Bytes → pixels, under the pixel budget, with the metadata the later steps need.

pub mod exif;
mod image_crate;
mod jpeg;

pub use jpeg::shrink_numerator;

use image::metadata::Orientation;
use image::DynamicImage;

use super::color::CmykImage;
use super::sniff::InputFormat;
use super::Limits;
use crate::error::Error;

/// A decoded image, with what the colour and orientation steps need to know about it.
pub struct Decoded {
    pub pixels: Pixels,
    /// The embedded colour profile, for the colour step.
    pub icc: Option<Vec<u8>>,
    /// The EXIF orientation still to be applied.
    pub orientation: Orientation,
    /// The stored size, before any shrink-on-load.
    pub source_width: u32,
    pub source_height: u32,
}

/// Always 8 bits per channel.
pub enum Pixels {
    /// Gray, gray+alpha, RGB or RGBA.
    Image(DynamicImage),
    /// CMYK JPEG samples, which only the colour step can turn into RGB.
    Cmyk(CmykImage),
}

impl Pixels {
    pub fn dimensions(&self) -> (u32, u32) {
        match self {
            Pixels::Image(image) => (image.width(), image.height()),
            Pixels::Cmyk(cmyk) => cmyk.dimensions(),
        }
    }
}

/// Decodes `data`. JPEGs are shrunk on load towards a `target_box`-sided square; other formats are
/// decoded at full size under `limits`, which the caller has already checked against the header.
pub fn decode(
    data: &[u8],
    format: InputFormat,
    target_box: u32,
    limits: &Limits,
) -> Result<Decoded, Error> {
    match format {
        InputFormat::Jpeg => jpeg::decode(data, target_box, limits),
        _ => image_crate::decode(data, format, limits),
    }
}
