//! The image's size from its header alone, so an image over the pixel budget is refused before a
//! single pixel is allocated.

use std::io::Cursor;

use image::ImageReader;

use super::sniff::InputFormat;
use super::Limits;
use crate::error::Error;

/// Width and height as the header declares them. `None` for a JPEG whose markers the header
/// reader cannot follow: libjpeg reads those itself and the JPEG decoder applies the same budget.
pub fn dimensions(data: &[u8], format: InputFormat) -> Result<Option<(u64, u64)>, Error> {
    match format {
        InputFormat::Jpeg => Ok(imagesize::blob_size(data)
            .ok()
            .map(|size| (size.width as u64, size.height as u64))),
        InputFormat::Gif => gif_dimensions(data).map(Some),
        _ => {
            let reader = ImageReader::with_format(Cursor::new(data), format.to_image_format());
            let (width, height) = reader
                .into_dimensions()
                .map_err(|e| Error::CorruptImage(format!("unreadable header: {e}")))?;
            Ok(Some((u64::from(width), u64::from(height))))
        }
    }
}

/// A GIF's canvas can be small while its first frame claims 65535×65535: the larger one counts.
///
/// Read by hand because the `gif` crate reports a frame only once its pixel data starts, and a
/// hostile file ends right after the descriptor. The layout is GIF89a's: header, screen descriptor,
/// optional global palette, extension blocks, then the first image descriptor.
fn gif_dimensions(data: &[u8]) -> Result<(u64, u64), Error> {
    let corrupt = || Error::CorruptImage("the GIF ends before its first image".into());
    let u16_at = |at: usize| -> Result<u64, Error> {
        data.get(at..at + 2)
            .map(|b| u64::from(u16::from_le_bytes([b[0], b[1]])))
            .ok_or_else(corrupt)
    };
    let (screen_width, screen_height) = (u16_at(6)?, u16_at(8)?);
    let flags = *data.get(10).ok_or_else(corrupt)?;
    let mut at = 13;
    if flags & 0x80 != 0 {
        at += 3 << ((flags & 0x07) + 1);
    }
    loop {
        match data.get(at).copied().ok_or_else(corrupt)? {
            // Extension: label, then sub-blocks until an empty one.
            0x21 => {
                at += 2;
                loop {
                    let length = usize::from(*data.get(at).ok_or_else(corrupt)?);
                    at += 1 + length;
                    if length == 0 {
                        break;
                    }
                }
            }
            0x2C => {
                let (left, top) = (u16_at(at + 1)?, u16_at(at + 3)?);
                let (width, height) = (u16_at(at + 5)?, u16_at(at + 7)?);
                return Ok((
                    screen_width.max(left + width),
                    screen_height.max(top + height),
                ));
            }
            _ => return Err(corrupt()),
        }
    }
}

/// Refuses dimensions over the budget (or empty ones).
pub fn check_budget(width: u64, height: u64, limits: &Limits) -> Result<(), Error> {
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
        return Err(Error::CorruptImage(format!(
            "the header says {width}x{height}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits {
        max_pixels: 1_000_000,
    };

    #[test]
    fn the_budget_is_width_times_height() {
        assert!(check_budget(1000, 1000, &LIMITS).is_ok());
        assert_eq!(
            check_budget(1000, 1001, &LIMITS).map_err(|e| e.code()),
            Err("IMAGE_TOO_LARGE")
        );
        assert_eq!(
            check_budget(u64::MAX, u64::MAX, &LIMITS).map_err(|e| e.code()),
            Err("IMAGE_TOO_LARGE")
        );
        assert_eq!(
            check_budget(0, 10, &LIMITS).map_err(|e| e.code()),
            Err("CORRUPT_IMAGE")
        );
    }

    #[test]
    fn a_gif_frame_larger_than_its_canvas_counts() {
        // 32x32 canvas, first frame 65535x65535 (Pillow's decompression_bomb.gif, rebuilt).
        let mut gif = b"GIF89a\x20\x00\x20\x00\x00\x00\x00".to_vec();
        gif.extend_from_slice(b"\x2c\x00\x00\x00\x00\xff\xff\xff\xff\x00\x02\x02\x44\x01\x00\x3b");
        assert_eq!(gif_dimensions(&gif).ok(), Some((65535, 65535)));
    }
}
