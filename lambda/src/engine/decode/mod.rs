//! Bytes → pixels, under the pixel budget, with the metadata the later steps need.

pub mod exif;
mod image_crate;
mod jpeg;

pub use jpeg::shrink_numerator;

use image::metadata::Orientation;
use image::DynamicImage;

use super::sniff::InputFormat;
use super::Limits;
use crate::error::Error;

/// A decoded image: always 8 bits per channel (gray, gray+alpha, RGB or RGBA).
pub struct Decoded {
    pub image: DynamicImage,
    /// The embedded colour profile, carried to outputs that can hold one.
    pub icc: Option<Vec<u8>>,
    /// The EXIF orientation still to be applied.
    pub orientation: Orientation,
    /// The stored size, before any shrink-on-load.
    pub source_width: u32,
    pub source_height: u32,
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
