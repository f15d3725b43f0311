//! JPEG through libjpeg-turbo (mozjpeg), with shrink-on-load.
//!
//! libjpeg can run its inverse DCT at 1/2, 1/4 or 1/8 scale, skipping most of the decode work: a
//! 12 MP photo headed for a 1000 px box is decoded straight to 2016 px. The rest is left to the
//! Lanczos resampler, with enough room ([`SHRINK_ON_LOAD_MARGIN`]) that quality does not suffer.
//!
//! libjpeg reports fatal errors by calling `error_exit`, which must not return; the mozjpeg crate's
//! answer (ours too) is to unwind out of the C code and catch that unwind here. Only that unwind, told
//! apart by its private payload type ([`LibjpegFatal`]), is a corrupt image: any other panic in the
//! decode path is a bug of ours and keeps unwinding, to become a failure (an alarm), never a user's
//! rejection. Unwinding through C needs unwind tables in libjpeg's frames: the C flags for that are in
//! `.cargo/config.toml`, where every build sees them. Truncated data is only
//! a *warning* to libjpeg (it pads the image with grey); we turn that warning into an error, so a cut
//! upload is rejected rather than resized into a half-grey picture.

use std::os::raw::c_int;
use std::panic::{self, AssertUnwindSafe};

use image::metadata::Orientation;
use image::{DynamicImage, GrayImage, RgbImage};
use mozjpeg::{ColorSpace, Decompress, Marker};
use mozjpeg_sys::{jpeg_common_struct, jpeg_error_mgr, jpeg_std_error, JWRN_JPEG_EOF};

use super::{Decoded, Pixels};
use crate::engine::color::CmykImage;
use crate::engine::probe::check_budget;
use crate::engine::Limits;
use crate::error::Error;

/// Markers we read: EXIF (orientation), ICC profile chunks, Adobe (CMYK inversion).
const SAVED_MARKERS: &[Marker] = &[Marker::APP(1), Marker::APP(2), Marker::APP(14)];
const ICC_SIGNATURE: &[u8] = b"ICC_PROFILE\0";
const EXIF_SIGNATURE: &[u8] = b"Exif\0\0";

/// `JMSG_LENGTH_MAX` of libjpeg's `jpeglib.h` (mozjpeg-sys 2.2.3, `vendor/jpeglib.h`: "#define
/// JMSG_LENGTH_MAX 200 /* recommended size of format_message buffer */"): `format_message` writes up to
/// this many bytes, NUL included (`snprintf(buffer, JMSG_LENGTH_MAX, ...)` in `jerror.c`). The bindings
/// export neither the constant nor the right buffer type (they say `&[u8; 80]`).
const JMSG_LENGTH_MAX: usize = 200;

/// The unwind payload of libjpeg's fatal errors, and only theirs: private, so no other panic can be
/// mistaken for one.
struct LibjpegFatal(String);

/// Decodes `data`, shrinking on load so that the result still covers a `target_box`-sided square.
pub fn decode(data: &[u8], target_box: u32, limits: &Limits) -> Result<Decoded, Error> {
    decode_with(data, target_box, limits, strict_error_manager())
}

/// [`decode`] with a given error manager (the tests install faulty callbacks through it).
fn decode_with(
    data: &[u8],
    target_box: u32,
    limits: &Limits,
    error_manager: jpeg_error_mgr,
) -> Result<Decoded, Error> {
    TRUNCATED.with(|truncated| truncated.set(false));
    let result = catch_libjpeg_fatal(|| decode_unwinding(data, target_box, limits, error_manager));
    if TRUNCATED.with(|truncated| truncated.replace(false)) {
        return Err(Error::CorruptImage(
            "data ends before the image does (truncated file)".into(),
        ));
    }
    result
}

/// Runs `run`, turning libjpeg's fatal errors into [`Error::CorruptImage`]. Any other panic is resumed:
/// a bug of ours must reach the caller as a panic (the handler makes it an `InternalError`).
fn catch_libjpeg_fatal<T>(run: impl FnOnce() -> Result<T, Error>) -> Result<T, Error> {
    match panic::catch_unwind(AssertUnwindSafe(run)) {
        Ok(result) => result,
        Err(payload) => match payload.downcast::<LibjpegFatal>() {
            Ok(fatal) => Err(Error::CorruptImage(fatal.0)),
            Err(other) => panic::resume_unwind(other),
        },
    }
}

thread_local! {
    /// Set by libjpeg's warning callback when the data ran out; one decode runs on one thread.
    static TRUNCATED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn decode_unwinding(
    data: &[u8],
    target_box: u32,
    limits: &Limits,
    error_manager: jpeg_error_mgr,
) -> Result<Decoded, Error> {
    let mut decompress = Decompress::builder()
        .with_err(error_manager)
        .with_markers(SAVED_MARKERS)
        .from_mem(data)
        .map_err(|e| Error::CorruptImage(e.to_string()))?;
    // libjpeg's own reading of the header is the one that decides what gets allocated.
    let (source_width, source_height) = (decompress.width(), decompress.height());
    check_budget(source_width as u64, source_height as u64, limits)?;

    let mut orientation = Orientation::NoTransforms;
    let mut icc_chunks: Vec<(u8, &[u8])> = Vec::new();
    let mut adobe = false;
    for marker in decompress.markers() {
        match marker.marker {
            Marker::APP(1) => {
                if let Some(exif) = marker.data.strip_prefix(EXIF_SIGNATURE) {
                    orientation = Orientation::from_exif_chunk(exif).unwrap_or(orientation);
                }
            }
            Marker::APP(2) => {
                if let Some([sequence, _count, payload @ ..]) =
                    marker.data.strip_prefix(ICC_SIGNATURE)
                {
                    icc_chunks.push((*sequence, payload));
                }
            }
            Marker::APP(14) => adobe |= marker.data.starts_with(b"Adobe"),
            _ => {}
        }
    }
    let icc = assemble_icc(icc_chunks);

    let numerator = shrink_numerator(decompress.width(), decompress.height(), target_box);
    decompress.scale(numerator);

    let pixels = match decompress.color_space() {
        ColorSpace::JCS_GRAYSCALE => {
            let mut started = decompress.grayscale().map_err(corrupt)?;
            let (width, height) = (started.width() as u32, started.height() as u32);
            let pixels: Vec<u8> = started.read_scanlines().map_err(corrupt)?;
            started.finish().map_err(corrupt)?;
            Pixels::Image(DynamicImage::ImageLuma8(buffer(GrayImage::from_raw(
                width, height, pixels,
            ))?))
        }
        ColorSpace::JCS_CMYK | ColorSpace::JCS_YCCK => {
            let mut started = decompress
                .to_colorspace(ColorSpace::JCS_CMYK)
                .map_err(corrupt)?;
            let (width, height) = (started.width() as u32, started.height() as u32);
            let mut ink: Vec<u8> = started.read_scanlines().map_err(corrupt)?;
            started.finish().map_err(corrupt)?;
            if adobe {
                // Adobe's CMYK JPEGs store 255 - ink.
                ink.iter_mut().for_each(|sample| *sample = 255 - *sample);
            }
            Pixels::Cmyk(buffer(CmykImage::from_raw(width, height, ink))?)
        }
        _ => {
            let mut started = decompress.rgb().map_err(corrupt)?;
            let (width, height) = (started.width() as u32, started.height() as u32);
            let pixels: Vec<u8> = started.read_scanlines().map_err(corrupt)?;
            started.finish().map_err(corrupt)?;
            Pixels::Image(DynamicImage::ImageRgb8(buffer(RgbImage::from_raw(
                width, height, pixels,
            ))?))
        }
    };
    Ok(Decoded {
        pixels,
        icc,
        orientation,
        source_width: source_width as u32,
        source_height: source_height as u32,
    })
}

/// How much larger than the box the shrunk decode must stay. DCT scaling is a crude block filter:
/// decoding to just cover the box (margin 1) measured 24-47% worse DSSIM than sharp on the 8-12 MP
/// photos, while leaving 1.5x for the Lanczos3 step matched sharp's DSSIM and stayed 0.7x its time
/// (bench/report.md). libvips leaves 2x; 1.5 keeps the 3264 px photos on the 1/2 scale.
pub const SHRINK_ON_LOAD_MARGIN: f64 = 1.5;

/// The largest libjpeg scale `n/8` (n in 1, 2, 4, 8: the ones with SIMD inverse DCTs) whose output
/// still covers the box with [`SHRINK_ON_LOAD_MARGIN`] to spare, so the resampler always shrinks.
pub fn shrink_numerator(width: usize, height: usize, target_box: u32) -> u8 {
    let long_edge = width.max(height);
    let wanted = (f64::from(target_box) * SHRINK_ON_LOAD_MARGIN).ceil() as usize;
    let target = wanted.min(long_edge);
    for numerator in [1u8, 2, 4] {
        // libjpeg rounds scaled dimensions up.
        if (long_edge * numerator as usize).div_ceil(8) >= target {
            return numerator;
        }
    }
    8
}

/// ICC profiles over 64 KB are split across numbered APP2 chunks.
fn assemble_icc(mut chunks: Vec<(u8, &[u8])>) -> Option<Vec<u8>> {
    if chunks.is_empty() {
        return None;
    }
    chunks.sort_by_key(|(sequence, _)| *sequence);
    Some(
        chunks
            .iter()
            .flat_map(|(_, data)| data.iter().copied())
            .collect(),
    )
}

fn buffer<T>(image: Option<T>) -> Result<T, Error> {
    image.ok_or_else(|| Error::CorruptImage("decoder returned fewer pixels than promised".into()))
}

fn corrupt(error: std::io::Error) -> Error {
    Error::CorruptImage(error.to_string())
}

fn strict_error_manager() -> jpeg_error_mgr {
    // SAFETY: jpeg_std_error fills every field of a zeroed manager with libjpeg's defaults.
    let mut manager: jpeg_error_mgr = unsafe { std::mem::zeroed() };
    unsafe { jpeg_std_error(&mut manager) };
    manager.error_exit = Some(unwind_on_error);
    manager.emit_message = Some(note_truncation);
    manager
}

unsafe extern "C-unwind" fn unwind_on_error(cinfo: &mut jpeg_common_struct) {
    let message = format_message(cinfo);
    // resume_unwind skips the panic hook: nothing is printed, the caller gets the message.
    panic::resume_unwind(Box::new(LibjpegFatal(message)));
}

unsafe extern "C-unwind" fn note_truncation(cinfo: &mut jpeg_common_struct, level: c_int) {
    // Level -1 is a warning. Only truncation matters: real cameras write files with harmless
    // warnings (extraneous bytes before a marker) that every viewer shows fine. It is noted rather
    // than unwound: libjpeg carries on (padding with grey) and `decode` rejects the result.
    if level == -1 && (*cinfo.err).msg_code == JWRN_JPEG_EOF as c_int {
        TRUNCATED.with(|truncated| truncated.set(true));
    }
}

unsafe fn format_message(cinfo: &mut jpeg_common_struct) -> String {
    let code = (*cinfo.err).msg_code;
    let Some(format) = (*cinfo.err).format_message else {
        return format!("libjpeg error {code}");
    };
    // mozjpeg-sys declares the output buffer `&[u8; 80]`, but libjpeg writes into it: writing through a
    // shared reference is undefined behaviour, and the optimiser did assume the buffer stayed zeroed (the
    // messages came out empty). The same function through a pointer type that allows the write:
    type FormatMessage = unsafe extern "C-unwind" fn(&mut jpeg_common_struct, *mut u8);
    // SAFETY: `&[u8; 80]` and `*mut u8` are both a single pointer in the C ABI; libjpeg writes at most
    // JMSG_LENGTH_MAX bytes, NUL included, and the buffer has that many (not the bindings' 80).
    let format: FormatMessage = std::mem::transmute(format);
    let mut buffer = [0u8; JMSG_LENGTH_MAX];
    format(cinfo, buffer.as_mut_ptr());
    let text = buffer.split(|&byte| byte == 0).next().unwrap_or_default();
    match String::from_utf8_lossy(text).into_owned() {
        message if message.is_empty() => format!("libjpeg error {code}"),
        message => message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The unit tests' one JPEG: 64x64, a gradient (enough entropy data that half of it is a truncation).
    fn tiny_jpeg() -> Vec<u8> {
        let image = DynamicImage::ImageRgb8(RgbImage::from_fn(64, 64, |x, y| {
            image::Rgb([(x * 4) as u8, (y * 4) as u8, 128])
        }));
        crate::engine::encode::encode(
            &image,
            crate::engine::OutputFormat::Jpeg,
            80,
            None,
            std::time::Duration::MAX,
        )
        .expect("encode")
    }

    const LIMITS: Limits = Limits {
        max_pixels: 1 << 20,
    };

    #[test]
    fn shrink_on_load_keeps_the_box_covered_with_margin() {
        // 1000 px box: the decode must stay >= 1500 px. 4032 / 2 = 2016 does; 4032 / 4 = 1008 not.
        assert_eq!(shrink_numerator(4032, 3024, 1000), 4);
        assert_eq!(shrink_numerator(3264, 2448, 1000), 4);
        assert_eq!(shrink_numerator(12_000, 9000, 1000), 1);
        assert_eq!(shrink_numerator(6000, 4000, 1000), 2);
        // libjpeg rounds up: 2999 / 2 = 1499.5 -> 1500 still covers; 2998 -> 1499 does not.
        assert_eq!(shrink_numerator(2999, 2000, 1000), 4);
        assert_eq!(shrink_numerator(2998, 2000, 1000), 8);
        // Between 1x and 1.5x the box, and inside it: full size, never below the box.
        assert_eq!(shrink_numerator(2048, 1536, 1000), 8);
        assert_eq!(shrink_numerator(640, 480, 1000), 8);
        assert_eq!(shrink_numerator(64, 64, 1), 1);
    }

    #[test]
    fn fatal_libjpeg_errors_come_back_with_libjpeg_s_message() {
        let mut data = tiny_jpeg();
        // SOF0 is FF C0, two length bytes, then the sample precision: 7 bits is not a JPEG.
        let sof = data
            .windows(2)
            .position(|pair| pair == [0xFF, 0xC0])
            .expect("SOF0");
        data[sof + 4] = 7;
        match decode(&data, 16, &LIMITS) {
            Err(Error::CorruptImage(message)) => {
                assert!(message.contains("precision 7"), "message: {message:?}")
            }
            Err(other) => panic!("expected CorruptImage, got {other:?}"),
            Ok(_) => panic!("a 7-bit JPEG decoded"),
        }
    }

    #[test]
    fn a_message_of_jmsg_length_max_bytes_survives() {
        // An add-on message table (libjpeg's own mechanism for application messages) holding one
        // message of JMSG_LENGTH_MAX - 1 characters: libjpeg copies it whole, NUL after. An 80-byte
        // buffer would be overrun by 120 bytes, and what came back would be cut at 80.
        let long = std::ffi::CString::new("m".repeat(JMSG_LENGTH_MAX - 1)).expect("no NUL");
        let table: [*const std::os::raw::c_char; 2] = [long.as_ptr(), std::ptr::null()];
        let mut manager = strict_error_manager();
        manager.addon_message_table = table.as_ptr();
        manager.first_addon_message = 1000;
        manager.last_addon_message = 1000;
        manager.msg_code = 1000;
        // SAFETY: format_message reads only `err` of the common struct; the table outlives the call.
        let message = unsafe {
            let mut common: jpeg_common_struct = std::mem::zeroed();
            common.err = &mut manager;
            format_message(&mut common)
        };
        assert_eq!(message.len(), JMSG_LENGTH_MAX - 1);
        assert!(message.bytes().all(|byte| byte == b'm'));
    }

    /// The callback a bug of ours would be: it panics while libjpeg is on the stack below it.
    unsafe extern "C-unwind" fn buggy_emit_message(_: &mut jpeg_common_struct, _: c_int) {
        panic!("a bug of ours");
    }

    fn payload_text(payload: &(dyn std::any::Any + Send)) -> String {
        payload
            .downcast_ref::<&str>()
            .map(|text| (*text).to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_default()
    }

    #[test]
    fn a_panic_of_ours_inside_the_decode_path_is_a_failure_not_corrupt_image() {
        // Truncated data makes libjpeg emit a warning, through the (buggy) callback.
        let data = tiny_jpeg();
        let truncated = &data[..data.len() / 2];
        let mut manager = strict_error_manager();
        manager.emit_message = Some(buggy_emit_message);
        let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
            decode_with(truncated, 64, &LIMITS, manager)
        }));
        match outcome {
            Err(payload) => assert_eq!(payload_text(payload.as_ref()), "a bug of ours"),
            Ok(result) => panic!(
                "the panic was swallowed: {:?}",
                result.map(|decoded| decoded.pixels.dimensions().0)
            ),
        }
        // The same bug outside libjpeg's frames is resumed too.
        let outcome = panic::catch_unwind(|| catch_libjpeg_fatal::<()>(|| panic!("a bug of ours")));
        let payload = outcome.expect_err("the panic was swallowed");
        assert_eq!(payload_text(payload.as_ref()), "a bug of ours");
        // And libjpeg's own fatal errors are still rejections.
        let fatal = catch_libjpeg_fatal::<()>(|| {
            panic::resume_unwind(Box::new(LibjpegFatal("bad".into())))
        });
        assert_eq!(fatal, Err(Error::CorruptImage("bad".into())));
    }

    #[test]
    fn icc_chunks_are_joined_in_sequence_order() {
        let chunks = vec![(2u8, &b"world"[..]), (1u8, &b"hello "[..])];
        assert_eq!(assemble_icc(chunks).as_deref(), Some(&b"hello world"[..]));
        assert_eq!(assemble_icc(Vec::new()), None);
    }
}
