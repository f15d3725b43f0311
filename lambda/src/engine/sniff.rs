//! What the bytes are, from their magic numbers: never from the key's extension.

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// The formats the engine reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum InputFormat {
    Jpeg,
    Png,
    Webp,
    Gif,
    Bmp,
}

/// The formats the engine writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputFormat {
    Jpeg,
    Png,
    Webp,
    /// Output only: AVIF input is not decoded (that needs dav1d, a system library).
    Avif,
}

pub fn sniff(data: &[u8]) -> Result<InputFormat, Error> {
    if data.is_empty() {
        return Err(Error::UnsupportedFormat("the object is empty".into()));
    }
    match image::guess_format(data) {
        Ok(image::ImageFormat::Jpeg) => Ok(InputFormat::Jpeg),
        Ok(image::ImageFormat::Png) => Ok(InputFormat::Png),
        Ok(image::ImageFormat::WebP) => Ok(InputFormat::Webp),
        Ok(image::ImageFormat::Gif) => Ok(InputFormat::Gif),
        Ok(image::ImageFormat::Bmp) => Ok(InputFormat::Bmp),
        Ok(other) => Err(Error::UnsupportedFormat(format!(
            "{other:?} images are not supported"
        ))),
        Err(_) => Err(Error::UnsupportedFormat(
            "unrecognised file signature".into(),
        )),
    }
}

impl InputFormat {
    pub(crate) fn to_image_format(self) -> image::ImageFormat {
        match self {
            InputFormat::Jpeg => image::ImageFormat::Jpeg,
            InputFormat::Png => image::ImageFormat::Png,
            InputFormat::Webp => image::ImageFormat::WebP,
            InputFormat::Gif => image::ImageFormat::Gif,
            InputFormat::Bmp => image::ImageFormat::Bmp,
        }
    }

    /// What the output is when the request names no format: the same, except that GIF and BMP
    /// become PNG (lossless, keeps alpha, and far smaller than BMP).
    pub fn default_output(self) -> OutputFormat {
        match self {
            InputFormat::Jpeg => OutputFormat::Jpeg,
            InputFormat::Webp => OutputFormat::Webp,
            InputFormat::Png | InputFormat::Gif | InputFormat::Bmp => OutputFormat::Png,
        }
    }
}

impl OutputFormat {
    /// Every name [`OutputFormat::parse`] reads, for messages.
    pub const NAMES: [&'static str; 4] = ["jpeg", "png", "webp", "avif"];

    pub fn name(self) -> &'static str {
        match self {
            OutputFormat::Jpeg => "jpeg",
            OutputFormat::Png => "png",
            OutputFormat::Webp => "webp",
            OutputFormat::Avif => "avif",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            OutputFormat::Jpeg => "image/jpeg",
            OutputFormat::Png => "image/png",
            OutputFormat::Webp => "image/webp",
            OutputFormat::Avif => "image/avif",
        }
    }

    /// The file extension written when the source key's own does not fit the output.
    pub fn extension(self) -> &'static str {
        match self {
            OutputFormat::Jpeg => "jpg",
            OutputFormat::Png => "png",
            OutputFormat::Webp => "webp",
            OutputFormat::Avif => "avif",
        }
    }

    /// Whether a source extension (any case) already names this format, so it can be kept.
    pub fn accepts_extension(self, extension: &str) -> bool {
        let extension = extension.to_ascii_lowercase();
        match self {
            OutputFormat::Jpeg => matches!(extension.as_str(), "jpg" | "jpeg" | "jpe" | "jfif"),
            OutputFormat::Png => extension == "png",
            OutputFormat::Webp => extension == "webp",
            OutputFormat::Avif => extension == "avif",
        }
    }

    pub fn parse(name: &str) -> Option<OutputFormat> {
        match name.to_ascii_lowercase().as_str() {
            "jpeg" | "jpg" => Some(OutputFormat::Jpeg),
            "png" => Some(OutputFormat::Png),
            "webp" => Some(OutputFormat::Webp),
            "avif" => Some(OutputFormat::Avif),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_come_from_magic_bytes() {
        assert_eq!(sniff(b"\xFF\xD8\xFF\xE0rest").ok(), Some(InputFormat::Jpeg));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\nrest").ok(), Some(InputFormat::Png));
        assert_eq!(sniff(b"GIF89a....").ok(), Some(InputFormat::Gif));
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 ").ok(), Some(InputFormat::Webp));
        assert_eq!(sniff(b"BM\0\0\0\0\0\0\0\0").ok(), Some(InputFormat::Bmp));
    }

    #[test]
    fn anything_else_is_unsupported() {
        for data in [&b""[..], b"hello, world", b"II*\0 a tiff", b"%PDF-1.7"] {
            assert_eq!(sniff(data).map_err(|e| e.code()), Err("UNSUPPORTED_FORMAT"));
        }
    }

    #[test]
    fn gif_and_bmp_default_to_png() {
        assert_eq!(InputFormat::Gif.default_output(), OutputFormat::Png);
        assert_eq!(InputFormat::Bmp.default_output(), OutputFormat::Png);
        assert_eq!(InputFormat::Webp.default_output(), OutputFormat::Webp);
    }

    #[test]
    fn avif_is_an_output_format() {
        let avif = OutputFormat::parse("AVIF").expect("parses");
        assert_eq!(avif, OutputFormat::Avif);
        assert_eq!(
            (avif.name(), avif.content_type(), avif.extension()),
            ("avif", "image/avif", "avif")
        );
        assert!(avif.accepts_extension("AVIF") && !avif.accepts_extension("avifs"));
        assert_eq!(
            serde_json::to_value(avif).ok(),
            Some(serde_json::json!("avif"))
        );
    }
}
