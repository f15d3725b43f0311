//! Pixels → bytes of the output format. Only the ICC profile is carried over: EXIF (with GPS),
//! XMP and comments are never written.

pub mod avif;

use std::borrow::Cow;
use std::panic::{self, AssertUnwindSafe};
use std::time::Duration;

use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::{DynamicImage, ImageEncoder};
use mozjpeg::{ColorSpace, Compress};

use super::sniff::OutputFormat;
use crate::error::Error;

/// What JPEG output is flattened onto where the input was transparent.
pub const JPEG_BACKGROUND: [u8; 3] = [255, 255, 255];

/// Whether [`encode`] writes `image` as gray in `format`: PNG keeps gray (with alpha), JPEG keeps gray
/// without alpha (gray+alpha is flattened onto [`JPEG_BACKGROUND`] as RGB), WebP and AVIF are always RGB.
pub fn writes_gray(image: &DynamicImage, format: OutputFormat) -> bool {
    let color = image.color();
    !color.has_color()
        && match format {
            OutputFormat::Png => true,
            OutputFormat::Jpeg => !color.has_alpha(),
            OutputFormat::Webp | OutputFormat::Avif => false,
        }
}

/// Whether [`encode`] can embed an ICC profile in `format`. ravif cannot, so AVIF is written as sRGB and
/// the engine converts to sRGB before it, whatever the colour mode.
pub fn carries_icc(format: OutputFormat) -> bool {
    !matches!(format, OutputFormat::Avif)
}

/// `avif_budget` bounds an AVIF encode's predicted time ([`avif::choose_speed`]); other formats ignore it.
pub fn encode(
    image: &DynamicImage,
    format: OutputFormat,
    quality: u8,
    icc: Option<&[u8]>,
    avif_budget: Duration,
) -> Result<Vec<u8>, Error> {
    match format {
        OutputFormat::Jpeg => encode_jpeg(image, quality, icc),
        OutputFormat::Png => encode_png(image, icc),
        OutputFormat::Webp => {
            let webp = encode_webp(image, quality)?;
            match icc {
                Some(icc) => webp_with_icc(&webp, icc, image.width(), image.height()),
                None => Ok(webp),
            }
        }
        OutputFormat::Avif => avif::encode(image, quality, avif_budget),
    }
}

fn encode_jpeg(image: &DynamicImage, quality: u8, icc: Option<&[u8]>) -> Result<Vec<u8>, Error> {
    let (pixels, color_space): (Cow<[u8]>, _) = match image {
        DynamicImage::ImageLuma8(gray) => (gray.as_raw().into(), ColorSpace::JCS_GRAYSCALE),
        DynamicImage::ImageRgb8(rgb) => (rgb.as_raw().into(), ColorSpace::JCS_RGB),
        other if other.color().has_alpha() => (flatten(other).into(), ColorSpace::JCS_RGB),
        other => (other.to_rgb8().into_raw().into(), ColorSpace::JCS_RGB),
    };
    let (width, height) = (image.width() as usize, image.height() as usize);
    let run = || -> std::io::Result<Vec<u8>> {
        let mut compress = Compress::new(color_space);
        // libjpeg-turbo's classic settings: baseline, Annex K quantisation and Huffman tables.
        // mozjpeg's trellis search costs 3-5x the time for a few percent fewer bytes, and even
        // optimised Huffman tables do not pay here: their statistics pass took 40% of a 640x480
        // resize and 9% of a 12 MP one, for outputs only 0.7-2.1% smaller (bench/FINDINGS.md). The
        // function is billed by the millisecond; a 2% larger thumbnail costs nothing.
        compress.set_fastest_defaults();
        compress.set_luma_qtable(&mozjpeg::qtable::AnnexK_Luma);
        compress.set_chroma_qtable(&mozjpeg::qtable::AnnexK_Chroma);
        compress.set_quality(f32::from(quality));
        compress.set_optimize_coding(false);
        compress.set_size(width, height);
        let mut started = compress.start_compress(Vec::with_capacity(width * height / 4))?;
        if let Some(icc) = icc {
            started.write_icc_profile(icc);
        }
        started.write_scanlines(&pixels)?;
        started.finish()
    };
    match panic::catch_unwind(AssertUnwindSafe(run)) {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(error)) => Err(Error::Internal(format!("JPEG encoding failed: {error}"))),
        Err(_) => Err(Error::Internal("JPEG encoding failed".into())),
    }
}

/// Composites a transparent image onto [`JPEG_BACKGROUND`], since JPEG has no alpha.
fn flatten(image: &DynamicImage) -> Vec<u8> {
    let rgba = image.to_rgba8();
    let mut rgb = Vec::with_capacity(rgba.as_raw().len() / 4 * 3);
    for pixel in rgba.pixels() {
        let alpha = u16::from(pixel[3]);
        for (channel, background) in pixel.0[..3].iter().zip(JPEG_BACKGROUND) {
            let blended = u16::from(*channel) * alpha + u16::from(background) * (255 - alpha);
            rgb.push(((blended + 127) / 255) as u8);
        }
    }
    rgb
}

fn encode_png(image: &DynamicImage, icc: Option<&[u8]>) -> Result<Vec<u8>, Error> {
    let mut bytes = Vec::new();
    let mut encoder =
        PngEncoder::new_with_quality(&mut bytes, CompressionType::Default, FilterType::Adaptive);
    if let Some(icc) = icc {
        // An encoder that cannot carry the profile still writes a valid image.
        let _ = encoder.set_icc_profile(icc.to_vec());
    }
    encoder
        .write_image(
            image.as_bytes(),
            image.width(),
            image.height(),
            image.color().into(),
        )
        .map_err(|e| Error::Internal(format!("PNG encoding failed: {e}")))?;
    Ok(bytes)
}

fn encode_webp(image: &DynamicImage, quality: u8) -> Result<Vec<u8>, Error> {
    let (width, height) = (image.width(), image.height());
    let memory = if image.color().has_alpha() {
        let rgba = image.to_rgba8();
        webp::Encoder::from_rgba(rgba.as_raw(), width, height)
            .encode_simple(false, f32::from(quality))
    } else {
        let rgb = image.to_rgb8();
        webp::Encoder::from_rgb(rgb.as_raw(), width, height)
            .encode_simple(false, f32::from(quality))
    }
    .map_err(|e| Error::Internal(format!("WebP encoding failed: {e:?}")))?;
    Ok(memory.to_vec())
}

/// The `webp` crate writes no profile: this re-wraps libwebp's output in the extended format with an
/// `ICCP` chunk (RIFF container spec, developers.google.com/speed/webp/docs/riff_container): `VP8X`
/// (ICC flag set, canvas size), then `ICCP`, then libwebp's own image chunks (`ALPH`, `VP8 `/`VP8L`)
/// in their order. A `VP8X` libwebp wrote (for alpha) is replaced, its flags kept.
fn webp_with_icc(webp: &[u8], icc: &[u8], width: u32, height: u32) -> Result<Vec<u8>, Error> {
    const ICC_FLAG: u8 = 0x20;
    let malformed = || Error::Internal("libwebp wrote an unexpected RIFF layout".into());
    let body = webp
        .strip_prefix(b"RIFF")
        .and_then(|rest| rest.get(8..))
        .filter(|_| webp.get(8..12) == Some(b"WEBP"))
        .ok_or_else(malformed)?;
    let mut flags = ICC_FLAG;
    let mut image_chunks = Vec::with_capacity(body.len());
    let mut rest = body;
    while !rest.is_empty() {
        let (fourcc, size) = match rest {
            [a, b, c, d, s0, s1, s2, s3, ..] => {
                ([*a, *b, *c, *d], u32::from_le_bytes([*s0, *s1, *s2, *s3]))
            }
            _ => return Err(malformed()),
        };
        let padded = (size as usize)
            .checked_add(size as usize % 2)
            .ok_or_else(malformed)?;
        let chunk = rest.get(..8 + padded).ok_or_else(malformed)?;
        if &fourcc == b"VP8X" {
            flags |= chunk.get(8).copied().ok_or_else(malformed)?;
        } else {
            image_chunks.extend_from_slice(chunk);
        }
        rest = &rest[8 + padded..];
    }
    let riff_chunk = |fourcc: &[u8; 4], data: &[u8]| -> Result<Vec<u8>, Error> {
        let size = u32::try_from(data.len())
            .map_err(|_| Error::Internal("ICC profile too large for WebP".into()))?;
        let mut chunk = Vec::with_capacity(data.len() + 9);
        chunk.extend_from_slice(fourcc);
        chunk.extend_from_slice(&size.to_le_bytes());
        chunk.extend_from_slice(data);
        if data.len() % 2 == 1 {
            chunk.push(0);
        }
        Ok(chunk)
    };
    let canvas = |edge: u32| -> [u8; 3] {
        let [a, b, c, _] = (edge - 1).to_le_bytes();
        [a, b, c]
    };
    let mut vp8x = [0u8; 10];
    vp8x[0] = flags;
    vp8x[4..7].copy_from_slice(&canvas(width));
    vp8x[7..10].copy_from_slice(&canvas(height));

    let mut chunks = riff_chunk(b"VP8X", &vp8x)?;
    chunks.extend(riff_chunk(b"ICCP", icc)?);
    chunks.extend(image_chunks);
    let riff_size = u32::try_from(chunks.len() + 4).map_err(|_| malformed())?;
    let mut out = Vec::with_capacity(chunks.len() + 12);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&riff_size.to_le_bytes());
    out.extend_from_slice(b"WEBP");
    out.extend(chunks);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgba, RgbaImage};

    const BUDGET: Duration = Duration::from_secs(10);

    fn transparent_square() -> DynamicImage {
        DynamicImage::ImageRgba8(RgbaImage::from_pixel(8, 8, Rgba([0, 0, 0, 0])))
    }

    #[test]
    fn jpeg_flattens_alpha_onto_the_background() {
        let bytes =
            encode(&transparent_square(), OutputFormat::Jpeg, 90, None, BUDGET).expect("jpeg");
        let decoded = image::load_from_memory(&bytes).expect("decodes").to_rgb8();
        assert!(
            decoded.pixels().all(|p| p.0.iter().all(|&c| c > 245)),
            "not white"
        );
    }

    #[test]
    fn png_and_webp_keep_alpha() {
        for format in [OutputFormat::Png, OutputFormat::Webp] {
            let bytes = encode(&transparent_square(), format, 82, None, BUDGET).expect("encode");
            let decoded = image::load_from_memory(&bytes).expect("decodes");
            assert!(decoded.color().has_alpha(), "{format:?} lost alpha");
            assert_eq!(decoded.to_rgba8().get_pixel(3, 3)[3], 0);
        }
    }

    #[test]
    fn webp_carries_the_icc_profile_with_and_without_alpha() {
        use image::ImageDecoder;
        // Odd length: the chunk needs its pad byte.
        let icc: Vec<u8> = (0..=254).collect();
        let opaque =
            DynamicImage::ImageRgb8(image::RgbImage::from_pixel(5, 3, image::Rgb([200, 10, 10])));
        for image in [opaque, transparent_square()] {
            let bytes = encode(&image, OutputFormat::Webp, 82, Some(&icc), BUDGET).expect("webp");
            let mut decoder = image::codecs::webp::WebPDecoder::new(std::io::Cursor::new(&bytes))
                .expect("parses");
            assert_eq!(
                decoder.icc_profile().expect("reads").as_deref(),
                Some(icc.as_slice())
            );
            assert_eq!(decoder.dimensions(), (image.width(), image.height()));
            assert_eq!(decoder.color_type().has_alpha(), image.color().has_alpha());
            // libwebp, the decoder browsers use, reads the re-wrapped file too.
            let decoded = webp::Decoder::new(&bytes)
                .decode()
                .expect("libwebp decodes");
            assert_eq!(
                (decoded.width(), decoded.height()),
                (image.width(), image.height())
            );
            let riff_size = u32::from_le_bytes(bytes[4..8].try_into().expect("4 bytes"));
            assert_eq!(riff_size as usize, bytes.len() - 8);
        }
    }

    #[test]
    fn jpeg_carries_the_icc_profile() {
        let icc = vec![7u8; 3000];
        let image = DynamicImage::ImageRgb8(image::RgbImage::new(4, 4));
        let bytes = encode(&image, OutputFormat::Jpeg, 82, Some(&icc), BUDGET).expect("jpeg");
        let needle = b"ICC_PROFILE\0";
        assert!(bytes.windows(needle.len()).any(|w| w == needle));
        assert!(!bytes.windows(4).any(|w| w == b"Exif"));
    }
}
