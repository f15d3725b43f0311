//! Where WebP and PNG keep their EXIF orientation, read from the file's own chunks.
//!
//! The `image` crate's decoders report only part of it: PNG's `eXIf` only when it comes before the image
//! data (ImageMagick 6.9 writes it after), and never ImageMagick's older "Raw profile type exif" text chunk
//! (which exiv2 still writes). Walking the chunks is cheap (each header says how far to skip) and finds all
//! of them. JPEG's APP1 is read by the JPEG decoder itself.

use image::metadata::Orientation;

/// What JPEG's APP1 puts before the TIFF data; some writers keep it in WebP and PNG too, where the
/// specifications say the chunk starts with the TIFF header.
const EXIF_HEADER: &[u8] = b"Exif\0\0";
/// The text chunk keywords ImageMagick (and exiv2) store an EXIF profile under.
const RAW_PROFILE_KEYWORDS: [&[u8]; 2] = [b"Raw profile type exif", b"Raw profile type APP1"];
/// The most a compressed raw profile may inflate to. EXIF is at most 64 KiB (it has to fit a JPEG APP1
/// segment); as hex with a newline every 72 digits that is under 140 KiB. A chunk that inflates past this
/// is not an EXIF profile and is not inflated further (a zip bomb costs us 256 KiB at most).
const MAX_RAW_PROFILE_TEXT: usize = 256 * 1024;

/// The orientation in an EXIF block, with or without the `Exif\0\0` header.
pub fn from_exif(exif: &[u8]) -> Option<Orientation> {
    Orientation::from_exif_chunk(exif.strip_prefix(EXIF_HEADER).unwrap_or(exif))
}

/// The orientation in a WebP's `EXIF` chunk (extended format), if it has a readable one.
pub fn webp(data: &[u8]) -> Option<Orientation> {
    if data.get(..4)? != b"RIFF" || data.get(8..12)? != b"WEBP" {
        return None;
    }
    let mut at = 12usize;
    while let Some(header) = data.get(at..at.checked_add(8)?) {
        let (kind, size) = header.split_at(4);
        let size = usize::try_from(u32::from_le_bytes(size.try_into().ok()?)).ok()?;
        let start = at + 8;
        let end = start.checked_add(size)?;
        if kind == b"EXIF" {
            return from_exif(data.get(start..end)?);
        }
        // Chunks are padded to an even size.
        at = end.checked_add(size & 1)?;
    }
    None
}

/// The orientation in a PNG: `eXIf` wherever it is, else a "Raw profile type exif" tEXt or zTXt chunk.
pub fn png(data: &[u8]) -> Option<Orientation> {
    if data.get(..8)? != b"\x89PNG\r\n\x1a\n" {
        return None;
    }
    let mut raw_profile = None;
    let mut at = 8usize;
    while let Some(header) = data.get(at..at.checked_add(8)?) {
        let (size, kind) = header.split_at(4);
        let size = usize::try_from(u32::from_be_bytes(size.try_into().ok()?)).ok()?;
        let start = at + 8;
        let end = start.checked_add(size)?;
        let Some(body) = data.get(start..end) else {
            break; // truncated: the decoder will say so
        };
        match kind {
            b"eXIf" => {
                if let Some(orientation) = from_exif(body) {
                    return Some(orientation);
                }
            }
            b"tEXt" | b"zTXt" if raw_profile.is_none() => {
                raw_profile = raw_profile_text(kind, body)
            }
            b"IEND" => break,
            _ => {}
        }
        // Length, type, data, CRC.
        at = end.checked_add(4)?;
    }
    raw_profile.and_then(|text| from_exif(&unhex_raw_profile(&text)?))
}

/// The text of a tEXt or zTXt chunk stored under one of [`RAW_PROFILE_KEYWORDS`].
fn raw_profile_text(kind: &[u8], body: &[u8]) -> Option<Vec<u8>> {
    let separator = body.iter().position(|&byte| byte == 0)?;
    let (keyword, rest) = (&body[..separator], &body[separator + 1..]);
    if !RAW_PROFILE_KEYWORDS.contains(&keyword) {
        return None;
    }
    if kind == b"tEXt" {
        return Some(rest.to_vec());
    }
    // zTXt: one compression-method byte (0, zlib), then the zlib stream.
    let (&0, compressed) = rest.split_first()? else {
        return None;
    };
    miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(compressed, MAX_RAW_PROFILE_TEXT).ok()
}

/// ImageMagick's raw profile text: `"\n" name "\n" length (right-aligned in 8) "\n"`, then the profile in
/// hex, broken into lines (png.c, `Magick_png_write_raw_profile`).
fn unhex_raw_profile(text: &[u8]) -> Option<Vec<u8>> {
    let mut fields = text
        .split(|byte| byte.is_ascii_whitespace())
        .filter(|field| !field.is_empty());
    let _name = fields.next()?;
    let length: usize = std::str::from_utf8(fields.next()?).ok()?.parse().ok()?;
    if length > MAX_RAW_PROFILE_TEXT / 2 {
        return None;
    }
    let digits: Vec<u8> = fields.flatten().copied().collect();
    let bytes = digits
        .get(..length.checked_mul(2)?)?
        .chunks_exact(2)
        .map(|pair| {
            let text = std::str::from_utf8(pair).ok()?;
            u8::from_str_radix(text, 16).ok()
        })
        .collect::<Option<Vec<u8>>>()?;
    Some(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A big-endian TIFF block with one IFD entry: Orientation (0x0112), SHORT, count 1, `value`.
    fn tiff(value: u16) -> Vec<u8> {
        let mut tiff = b"MM\0\x2a\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01".to_vec();
        tiff.extend_from_slice(&value.to_be_bytes());
        tiff.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
        tiff
    }

    fn png_chunk(kind: &[u8], body: &[u8]) -> Vec<u8> {
        let mut chunk = (body.len() as u32).to_be_bytes().to_vec();
        chunk.extend_from_slice(kind);
        chunk.extend_from_slice(body);
        chunk.extend_from_slice(&[0; 4]); // CRC: not checked here
        chunk
    }

    fn png_with(chunks: &[Vec<u8>]) -> Vec<u8> {
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        png.extend(png_chunk(b"IHDR", &[0; 13]));
        for chunk in chunks {
            png.extend_from_slice(chunk);
        }
        png.extend(png_chunk(b"IEND", b""));
        png
    }

    #[test]
    fn the_exif_header_is_optional() {
        assert_eq!(from_exif(&tiff(6)), Some(Orientation::Rotate90));
        let mut with_header = EXIF_HEADER.to_vec();
        with_header.extend(tiff(6));
        assert_eq!(from_exif(&with_header), Some(Orientation::Rotate90));
        assert_eq!(from_exif(b"nonsense"), None);
    }

    #[test]
    fn png_exif_after_the_image_data_counts() {
        let png = png_with(&[png_chunk(b"IDAT", &[1, 2, 3]), png_chunk(b"eXIf", &tiff(8))]);
        assert_eq!(super::png(&png), Some(Orientation::Rotate270));
    }

    #[test]
    fn a_raw_profile_in_text_is_read_and_exif_wins_over_it() {
        let mut profile = EXIF_HEADER.to_vec();
        profile.extend(tiff(3));
        let mut text = format!("\nexif\n{:8}\n", profile.len()).into_bytes();
        for line in profile.chunks(36) {
            text.extend(line.iter().flat_map(|b| format!("{b:02x}").into_bytes()));
            text.push(b'\n');
        }
        let mut body = b"Raw profile type exif\0".to_vec();
        body.extend(&text);
        let raw = png_chunk(b"tEXt", &body);
        assert_eq!(
            super::png(&png_with(std::slice::from_ref(&raw))),
            Some(Orientation::Rotate180)
        );
        let both = png_with(&[raw, png_chunk(b"eXIf", &tiff(6))]);
        assert_eq!(super::png(&both), Some(Orientation::Rotate90));
    }

    #[test]
    fn hostile_chunk_lengths_end_the_walk_without_panicking() {
        let mut png = png_with(&[]);
        png.truncate(12);
        png.extend_from_slice(&[0xFF; 8]);
        assert_eq!(super::png(&png), None);
        let mut webp = b"RIFF\0\0\0\0WEBPEXIF\xff\xff\xff\xff".to_vec();
        assert_eq!(super::webp(&webp), None);
        webp.truncate(14);
        assert_eq!(super::webp(&webp), None);
        // A zTXt that inflates without end is cut at the limit, not inflated whole.
        let mut body = b"Raw profile type exif\0\0".to_vec();
        body.extend(miniz_oxide::deflate::compress_to_vec_zlib(
            &vec![b'0'; 1 << 20],
            9,
        ));
        assert_eq!(super::png(&png_with(&[png_chunk(b"zTXt", &body)])), None);
    }
}
