//! Test images made on the spot, so the suites run without ../shared.

use image::{DynamicImage, ImageFormat, Rgb, RgbImage};

/// A JPEG with a gradient and some detail, `width`×`height`.
pub fn jpeg(width: u32, height: u32) -> Vec<u8> {
    encode(gradient(width, height), ImageFormat::Jpeg)
}

/// A PNG of the same picture.
pub fn png(width: u32, height: u32) -> Vec<u8> {
    encode(gradient(width, height), ImageFormat::Png)
}

fn gradient(width: u32, height: u32) -> DynamicImage {
    DynamicImage::ImageRgb8(RgbImage::from_fn(width, height, |x, y| {
        let checker = if (x / 16 + y / 16) % 2 == 0 { 40 } else { 0 };
        Rgb([
            (x * 255 / width.max(1)) as u8,
            (y * 255 / height.max(1)) as u8,
            128u8.saturating_add(checker),
        ])
    }))
}

fn encode(image: DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut bytes = std::io::Cursor::new(Vec::new());
    image
        .write_to(&mut bytes, format)
        .expect("encoding a test image");
    bytes.into_inner()
}

/// The dimensions of an encoded image.
pub fn dimensions(bytes: &[u8]) -> (u32, u32) {
    let image = image::load_from_memory(bytes).expect("a decodable image");
    (image.width(), image.height())
}
