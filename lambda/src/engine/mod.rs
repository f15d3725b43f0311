//! The image engine: bytes in, resized bytes out. No AWS types: the Lambda and the CLI share it.
//!
//! sniff → check the header against the budget → decode (shrinking JPEGs on load) → orient →
//! resample → encode.

pub mod decode;
pub mod encode;
pub mod geometry;
pub mod orient;
pub mod resize;
pub mod sniff;

use serde::Serialize;

pub use sniff::{InputFormat, OutputFormat};

use crate::error::Error;

/// What one resize may cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Width × height above which an image is refused from its header, before decoding.
    pub max_pixels: u64,
}

/// What the caller wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Longest edge of the output (the image is fitted inside `size`×`size`, never upscaled).
    pub size: u32,
    /// Output format; `None` keeps the input's (GIF/BMP → PNG).
    pub format: Option<OutputFormat>,
    /// JPEG/WebP quality, 1..=100.
    pub quality: u8,
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
    let size = imagesize::blob_size(data)
        .map_err(|e| Error::CorruptImage(format!("unreadable header: {e}")))?;
    let (width, height) = (size.width as u64, size.height as u64);
    let pixels = width.saturating_mul(height);
    if pixels > limits.max_pixels {
        return Err(Error::ImageTooLarge {
            width,
            height,
            pixels,
            max: limits.max_pixels,
        });
    }
    if pixels == 0 {
        return Err(Error::CorruptImage(format!("header says {width}x{height}")));
    }
    Ok(SourceInfo {
        format,
        width: u32::try_from(width).map_err(|_| Error::CorruptImage("width overflows".into()))?,
        height: u32::try_from(height)
            .map_err(|_| Error::CorruptImage("height overflows".into()))?,
    })
}

pub fn resize(data: &[u8], options: &Options, limits: &Limits) -> Result<Resized, Error> {
    let source = inspect(data, limits)?;
    let decoded = decode::decode(data, source.format, options.size, limits)?;
    let upright = orient::upright(decoded.image, decoded.orientation);
    let (width, height) = geometry::fit(upright.width(), upright.height(), options.size);
    let resized = resize::resample(upright, width, height)?;
    let format = options
        .format
        .unwrap_or_else(|| source.format.default_output());
    let bytes = encode::encode(&resized, format, options.quality, decoded.icc.as_deref())?;
    Ok(Resized {
        bytes,
        width,
        height,
        format,
        source,
    })
}
