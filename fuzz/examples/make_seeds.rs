//! Writes the curated engine seeds committed in `fuzz/seeds/engine/`: one small image per decoder path
//! the engine has (JPEG baseline/progressive/gray/CMYK/EXIF/ICC, PNG colour types, palette with tRNS,
//! APNG, WebP lossy/lossless/alpha, GIF static/animated, BMP) and headers that promise too many pixels.
//!
//! Run from `fuzz/`: `cargo +nightly run --example make_seeds -- seeds/engine` (only to change the seeds).

use std::path::{Path, PathBuf};

use image::codecs::gif::GifEncoder;
use image::{
    DynamicImage, Frame, GrayAlphaImage, GrayImage, ImageBuffer, ImageFormat, Luma, LumaA, Rgb,
    RgbImage, Rgba, RgbaImage,
};
use mozjpeg::{ColorSpace, Compress, Marker};

const W: u32 = 40;
const H: u32 = 30;

fn main() {
    let out = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "seeds/engine".into()),
    );
    std::fs::create_dir_all(&out).expect("output folder");
    let rgb = RgbImage::from_fn(W, H, |x, y| {
        Rgb([
            (x * 6) as u8,
            (y * 8) as u8,
            if (x / 5 + y / 5) % 2 == 0 { 200 } else { 40 },
        ])
    });
    let rgba = RgbaImage::from_fn(W, H, |x, y| {
        let p = rgb.get_pixel(x, y).0;
        Rgba([p[0], p[1], p[2], (x * 255 / W) as u8])
    });

    // JPEG, through libjpeg like the engine's decoder.
    write(&out, "jpeg-baseline.jpg", jpeg(&rgb, |_| {}, &[]));
    write(
        &out,
        "jpeg-progressive.jpg",
        jpeg(&rgb, |c| c.set_progressive_mode(), &[]),
    );
    write(
        &out,
        "jpeg-exif-orientation-6.jpg",
        jpeg(&rgb, |_| {}, &[(Marker::APP(1), exif_orientation(6))]),
    );
    let mut icc = b"ICC_PROFILE\0\x01\x01".to_vec();
    icc.extend(std::iter::repeat_n(7u8, 200));
    write(
        &out,
        "jpeg-icc.jpg",
        jpeg(&rgb, |_| {}, &[(Marker::APP(2), icc)]),
    );
    write(&out, "jpeg-gray.jpg", gray_jpeg(W, H));
    write(&out, "jpeg-cmyk.jpg", cmyk_jpeg(W, H));

    // PNG in each colour type the engine converts from.
    save(
        &out,
        "png-rgb.png",
        DynamicImage::ImageRgb8(rgb.clone()),
        ImageFormat::Png,
    );
    save(
        &out,
        "png-rgba.png",
        DynamicImage::ImageRgba8(rgba.clone()),
        ImageFormat::Png,
    );
    let gray16: ImageBuffer<Luma<u16>, Vec<u16>> =
        ImageBuffer::from_fn(W, H, |x, y| Luma([(x * 1600 + y * 300) as u16]));
    save(
        &out,
        "png-gray16.png",
        DynamicImage::ImageLuma16(gray16),
        ImageFormat::Png,
    );
    let gray_alpha = GrayAlphaImage::from_fn(W, H, |x, y| LumaA([(x * 6) as u8, (y * 8) as u8]));
    save(
        &out,
        "png-gray-alpha.png",
        DynamicImage::ImageLumaA8(gray_alpha),
        ImageFormat::Png,
    );
    let rgba16 = DynamicImage::ImageRgba8(rgba.clone()).to_rgba16();
    save(
        &out,
        "png-rgba16.png",
        DynamicImage::ImageRgba16(rgba16),
        ImageFormat::Png,
    );
    write(&out, "png-palette-trns.png", palette_png(W, H, false));
    write(&out, "apng-two-frames.png", palette_png(W, H, true));

    // WebP: lossy (libwebp, like the engine's encoder), lossy with alpha, lossless (image-webp).
    write(
        &out,
        "webp-lossy.webp",
        webp::Encoder::from_rgb(rgb.as_raw(), W, H)
            .encode(75.0)
            .to_vec(),
    );
    write(
        &out,
        "webp-lossy-alpha.webp",
        webp::Encoder::from_rgba(rgba.as_raw(), W, H)
            .encode(75.0)
            .to_vec(),
    );
    save(
        &out,
        "webp-lossless.webp",
        DynamicImage::ImageRgba8(rgba.clone()),
        ImageFormat::WebP,
    );

    // GIF, static and animated; BMP.
    save(
        &out,
        "gif-static.gif",
        DynamicImage::ImageRgba8(rgba.clone()),
        ImageFormat::Gif,
    );
    let mut animated = Vec::new();
    {
        let mut encoder = GifEncoder::new(&mut animated);
        let second = RgbaImage::from_fn(W, H, |x, y| Rgba([(y * 8) as u8, 0, (x * 6) as u8, 255]));
        encoder
            .encode_frames([Frame::new(rgba.clone()), Frame::new(second)])
            .expect("animated GIF");
    }
    write(&out, "gif-animated.gif", animated);
    save(
        &out,
        "bmp-rgb.bmp",
        DynamicImage::ImageRgb8(rgb.clone()),
        ImageFormat::Bmp,
    );
    save(
        &out,
        "bmp-gray.bmp",
        DynamicImage::ImageLuma8(GrayImage::from_fn(W, H, |x, _| Luma([x as u8 * 6]))),
        ImageFormat::Bmp,
    );

    // Headers that promise more pixels than the budget (60 MP), with almost nothing behind them.
    write(&out, "bomb-bmp-header.bmp", bmp_header(20_000, 20_000));
    write(
        &out,
        "bomb-webp-vp8x-header.webp",
        webp_vp8x_header(16_384, 16_384),
    );
    let mut bomb_gif = b"GIF89a\x20\x00\x20\x00\x00\x00\x00".to_vec();
    bomb_gif.extend_from_slice(b"\x2c\x00\x00\x00\x00\xff\xff\xff\xff\x00\x02\x02\x44\x01\x00\x3b");
    write(&out, "bomb-gif-frame.gif", bomb_gif);
}

fn write(out: &Path, name: &str, bytes: Vec<u8>) {
    std::fs::write(out.join(name), &bytes).expect("write seed");
    println!("{name}: {} bytes", bytes.len());
}

fn save(out: &Path, name: &str, image: DynamicImage, format: ImageFormat) {
    let mut bytes = std::io::Cursor::new(Vec::new());
    image.write_to(&mut bytes, format).expect("encode seed");
    write(out, name, bytes.into_inner());
}

fn jpeg(
    image: &RgbImage,
    configure: impl Fn(&mut Compress),
    markers: &[(Marker, Vec<u8>)],
) -> Vec<u8> {
    let mut compress = Compress::new(ColorSpace::JCS_RGB);
    // mozjpeg's own defaults are progressive: start from libjpeg-turbo's baseline ones.
    compress.set_fastest_defaults();
    compress.set_size(image.width() as usize, image.height() as usize);
    compress.set_quality(80.0);
    configure(&mut compress);
    let mut started = compress.start_compress(Vec::new()).expect("start");
    for (marker, data) in markers {
        started.write_marker(*marker, data);
    }
    started.write_scanlines(image.as_raw()).expect("scanlines");
    started.finish().expect("finish")
}

fn gray_jpeg(width: u32, height: u32) -> Vec<u8> {
    let pixels: Vec<u8> = (0..width * height).map(|i| (i % 251) as u8).collect();
    let mut compress = Compress::new(ColorSpace::JCS_GRAYSCALE);
    compress.set_fastest_defaults();
    compress.set_size(width as usize, height as usize);
    let mut started = compress.start_compress(Vec::new()).expect("start");
    started.write_scanlines(&pixels).expect("scanlines");
    started.finish().expect("finish")
}

fn cmyk_jpeg(width: u32, height: u32) -> Vec<u8> {
    let pixels: Vec<u8> = (0..width * height * 4)
        .map(|i| (i * 7 % 256) as u8)
        .collect();
    let mut compress = Compress::new(ColorSpace::JCS_CMYK);
    compress.set_fastest_defaults();
    compress.set_size(width as usize, height as usize);
    let mut started = compress.start_compress(Vec::new()).expect("start");
    started.write_scanlines(&pixels).expect("scanlines");
    started.finish().expect("finish")
}

/// A big-endian TIFF with one IFD entry: Orientation.
fn exif_orientation(value: u16) -> Vec<u8> {
    let mut exif = b"Exif\0\0MM\0\x2a\0\0\0\x08\0\x01".to_vec();
    exif.extend_from_slice(&[0x01, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01]);
    exif.extend_from_slice(&value.to_be_bytes());
    exif.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    exif
}

/// An indexed PNG with a transparent palette entry; with `animated`, an APNG of two frames.
fn palette_png(width: u32, height: u32, animated: bool) -> Vec<u8> {
    let mut bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut bytes, width, height);
        encoder.set_color(png::ColorType::Indexed);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_palette(vec![255, 0, 0, 0, 255, 0, 0, 0, 255, 250, 250, 250]);
        encoder.set_trns(vec![255, 128, 0]);
        if animated {
            encoder.set_animated(2, 0).expect("acTL");
        }
        let mut writer = encoder.write_header().expect("header");
        for frame in 0..if animated { 2 } else { 1 } {
            let data: Vec<u8> = (0..width * height)
                .map(|i| ((i / 7 + frame) % 4) as u8)
                .collect();
            writer.write_image_data(&data).expect("frame");
        }
    }
    bytes
}

fn bmp_header(width: i32, height: i32) -> Vec<u8> {
    let mut bmp = b"BM".to_vec();
    bmp.extend_from_slice(&(54u32 + 64).to_le_bytes());
    bmp.extend_from_slice(&[0, 0, 0, 0]);
    bmp.extend_from_slice(&54u32.to_le_bytes());
    bmp.extend_from_slice(&40u32.to_le_bytes());
    bmp.extend_from_slice(&width.to_le_bytes());
    bmp.extend_from_slice(&height.to_le_bytes());
    bmp.extend_from_slice(&1u16.to_le_bytes());
    bmp.extend_from_slice(&24u16.to_le_bytes());
    bmp.extend_from_slice(&[0; 24]);
    bmp.extend_from_slice(&[0x55; 64]);
    bmp
}

fn webp_vp8x_header(width: u32, height: u32) -> Vec<u8> {
    let mut chunk = b"VP8X".to_vec();
    chunk.extend_from_slice(&10u32.to_le_bytes());
    chunk.extend_from_slice(&[0, 0, 0, 0]);
    chunk.extend_from_slice(&(width - 1).to_le_bytes()[..3]);
    chunk.extend_from_slice(&(height - 1).to_le_bytes()[..3]);
    chunk.extend_from_slice(b"VP8L\x05\0\0\0\x2f\0\0\0\0\0");
    let mut webp = b"RIFF".to_vec();
    webp.extend_from_slice(&(4 + chunk.len() as u32).to_le_bytes());
    webp.extend_from_slice(b"WEBP");
    webp.extend_from_slice(&chunk);
    webp
}
