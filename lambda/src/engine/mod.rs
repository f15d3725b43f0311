//! The image engine: bytes in, resized bytes out. No AWS types: the Lambda and the CLI share it.
//!
//! sniff → check the header against the budget → decode (shrinking JPEGs on load) → colour (CMYK to
//! sRGB) → resample → colour (RGB and gray profiles) → orient → encode.

pub mod color;
pub mod decode;
pub mod encode;
pub mod geometry;
pub mod orient;
pub mod probe;
pub mod resize;
pub mod sniff;

use std::ops::RangeInclusive;
use std::time::Duration;

use serde::Serialize;

pub use color::ColorMode;
pub use sniff::{InputFormat, OutputFormat};

use crate::error::Error;

/// What one resize may cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Width × height above which an image is refused from its header, before decoding.
    pub max_pixels: u64,
}

/// The `size` a request, the CLI or `DEFAULT_SIZE` may give: the one place this range is written.
pub const SIZE_RANGE: RangeInclusive<u32> = 1..=geometry::MAX_SIZE;
/// The JPEG/WebP `quality` a request, the CLI or `QUALITY` may give: the one place this range is written.
pub const QUALITY_RANGE: RangeInclusive<u8> = 1..=100;

/// What the caller wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Longest edge of the output (the image is fitted inside `size`×`size`, never upscaled), in
    /// [`SIZE_RANGE`].
    pub size: u32,
    /// Output format; `None` keeps the input's (GIF/BMP → PNG).
    pub format: Option<OutputFormat>,
    /// JPEG/WebP quality, in [`QUALITY_RANGE`].
    pub quality: u8,
    /// Convert to sRGB, or keep the input's profile.
    pub color: ColorMode,
    /// The time an AVIF encode may take by its predicted cost: the rav1e speed is chosen from it
    /// (`encode::avif::choose_speed`), and an output too large for it is refused.
    pub avif_budget: Duration,
}

/// A resized image and what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resized {
    pub bytes: Vec<u8>,
    pub width: u32,
    pub height: u32,
    pub format: OutputFormat,
    pub source: SourceInfo,
}

/// What the input was, from its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SourceInfo {
    pub format: InputFormat,
    pub width: u32,
    pub height: u32,
}

/// Sniffs the format and reads the dimensions from the header: cheap, and enough to refuse an
/// image over the pixel budget before any pixel is allocated.
pub fn inspect(data: &[u8], limits: &Limits) -> Result<SourceInfo, Error> {
    let format = sniff::sniff(data)?;
    let (width, height) = match probe::dimensions(data, format)? {
        Some((width, height)) => {
            probe::check_budget(width, height, limits)?;
            (clamp(width), clamp(height))
        }
        None => (0, 0),
    };
    Ok(SourceInfo {
        format,
        width,
        height,
    })
}

fn clamp(edge: u64) -> u32 {
    u32::try_from(edge).unwrap_or(u32::MAX)
}

pub fn resize(data: &[u8], options: &Options, limits: &Limits) -> Result<Resized, Error> {
    let mut source = inspect(data, limits)?;
    let decoded = decode::decode(data, source.format, options.size, limits)?;
    if source.width == 0 {
        (source.width, source.height) = (decoded.source_width, decoded.source_height);
    }
    let (stored, profile) = color::before_resampling(decoded.pixels, decoded.icc)?;
    // Resample first, turn upright after: fitting into a square box does not depend on which way
    // the picture stands (`geometry::fit` is symmetric), and turning the small output is cheaper.
    let (stored_width, stored_height) =
        geometry::fit(stored.width(), stored.height(), options.size);
    let resized = resize::resample(stored, stored_width, stored_height)?;
    let format = options
        .format
        .unwrap_or_else(|| source.format.default_output());
    let output_is_gray = encode::writes_gray(&resized, format);
    // An encoder that cannot embed a profile (AVIF) gets sRGB pixels: `keep` would leave them untagged.
    let color_mode = match encode::carries_icc(format) {
        true => options.color,
        false => ColorMode::Srgb,
    };
    let (resized, icc) = color::after_resampling(resized, profile, color_mode, output_is_gray);
    let upright = orient::upright(resized, decoded.orientation);
    let (width, height) = (upright.width(), upright.height());
    let bytes = encode::encode(
        &upright,
        format,
        options.quality,
        icc.as_deref(),
        options.avif_budget,
    )?;
    Ok(Resized {
        bytes,
        width,
        height,
        format,
        source,
    })
}
