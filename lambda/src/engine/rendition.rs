//! What one output of an upload is: a named box, how the picture meets it (`fit`, `gravity`), and the
//! formats it is written in. The set is read once (configuration or request) and checked here, before
//! any byte is fetched.

use serde::{Deserialize, Serialize};

use super::geometry::{self, MAX_SIZE};
use super::gravity::Gravity;
use super::sniff::{InputFormat, OutputFormat};
use super::{QUALITY_RANGE, SIZE_RANGE};

/// The rendition a configuration without `RENDITIONS` makes: today's single output, named so that the
/// default key pattern gives today's keys (`output/b_resized.jpg`).
pub const DEFAULT_NAME: &str = "resized";
/// Renditions per upload.
pub const MAX_RENDITIONS: usize = 10;
/// Output pixels per upload, summed over renditions and their formats (a box with one side given
/// counts as its square). One 10000 px output, the largest a single `size` could always ask for, fits.
pub const MAX_OUTPUT_PIXELS: u64 = 100_000_000;
const MAX_NAME_BYTES: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rendition {
    /// Used in the key (`{name}`): lower-case letters, digits, `-` and `_`.
    pub name: String,
    /// Longest edge: a `size`×`size` box. Give this, or `width` and/or `height`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    #[serde(default)]
    pub fit: Fit,
    /// Where `cover` crops and `contain` places the picture.
    #[serde(default)]
    pub gravity: Gravity,
    #[serde(default = "same_format")]
    pub formats: Vec<FormatChoice>,
    /// JPEG/WebP/AVIF quality; default: the request's or the configuration's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quality: Option<u8>,
    /// `contain`'s padding, `#rrggbb` or `#rrggbbaa`; default white for JPEG, transparent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub background: Option<Background>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Fit {
    /// Fit inside the box, never enlarged: the seed's behaviour.
    #[default]
    Inside,
    /// Fill the box exactly and crop what is outside it (enlarging a smaller picture if it must).
    Cover,
    /// Fit inside the box, enlarged if smaller, and pad the rest of the box.
    Contain,
}

impl Fit {
    pub fn name(self) -> &'static str {
        match self {
            Fit::Inside => "inside",
            Fit::Cover => "cover",
            Fit::Contain => "contain",
        }
    }
}

/// A format a rendition is written in: a named one, or the input's own (`same`; GIF/BMP → PNG).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum FormatChoice {
    Same,
    Format(OutputFormat),
}

impl FormatChoice {
    pub fn resolve(self, input: InputFormat) -> OutputFormat {
        match self {
            FormatChoice::Same => input.default_output(),
            FormatChoice::Format(format) => format,
        }
    }
}

impl TryFrom<String> for FormatChoice {
    type Error = String;
    fn try_from(name: String) -> Result<Self, String> {
        if name.eq_ignore_ascii_case("same") {
            return Ok(FormatChoice::Same);
        }
        OutputFormat::parse(&name)
            .map(FormatChoice::Format)
            .ok_or_else(|| {
                format!(
                    "format {name:?} is not same, {}",
                    OutputFormat::NAMES.join(", ")
                )
            })
    }
}

impl From<FormatChoice> for String {
    fn from(choice: FormatChoice) -> String {
        match choice {
            FormatChoice::Same => "same".into(),
            FormatChoice::Format(format) => format.name().into(),
        }
    }
}

fn same_format() -> Vec<FormatChoice> {
    vec![FormatChoice::Same]
}

/// RGBA, from `#rrggbb` (opaque) or `#rrggbbaa`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Background(pub [u8; 4]);

impl TryFrom<String> for Background {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        let wrong = || format!("background {text:?} is not #rrggbb or #rrggbbaa");
        let hex = text.strip_prefix('#').ok_or_else(wrong)?;
        if !(hex.len() == 6 || hex.len() == 8) || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(wrong());
        }
        let mut rgba = [255u8; 4];
        for (channel, pair) in rgba.iter_mut().zip(hex.as_bytes().chunks(2)) {
            let pair = std::str::from_utf8(pair).map_err(|_| wrong())?;
            *channel = u8::from_str_radix(pair, 16).map_err(|_| wrong())?;
        }
        Ok(Background(rgba))
    }
}

impl From<Background> for String {
    fn from(Background([r, g, b, a]): Background) -> String {
        format!("#{r:02x}{g:02x}{b:02x}{a:02x}")
    }
}

impl Rendition {
    /// Today's single output: `size` inside, in `format` (or the input's).
    pub fn single(size: u32, format: Option<OutputFormat>) -> Rendition {
        Rendition {
            name: DEFAULT_NAME.to_string(),
            size: Some(size),
            width: None,
            height: None,
            fit: Fit::Inside,
            gravity: Gravity::Centre,
            formats: vec![format.map_or(FormatChoice::Same, FormatChoice::Format)],
            quality: None,
            background: None,
        }
    }

    /// The box: `size` is a square; a missing side is unbounded (`inside` only).
    pub fn bounds(&self) -> (u32, u32) {
        match (self.size, self.width, self.height) {
            (Some(size), _, _) => (size, size),
            (None, width, height) => (width.unwrap_or(MAX_SIZE), height.unwrap_or(MAX_SIZE)),
        }
    }

    /// The `{size}` of the key: `size`, or the larger side given.
    pub fn key_size(&self) -> u32 {
        self.size
            .unwrap_or_else(|| self.width.unwrap_or(0).max(self.height.unwrap_or(0)))
    }

    /// The formats for an input, in the order given.
    pub fn formats_for(&self, input: InputFormat) -> Vec<OutputFormat> {
        self.formats.iter().map(|f| f.resolve(input)).collect()
    }

    /// The longest edge a decode must keep for this rendition of a `width`×`height` stored image, in
    /// whichever way it turns out to stand (its EXIF orientation is read with its pixels): JPEG decodes
    /// shrink towards the largest of these over the set.
    pub fn decode_edge(&self, width: u32, height: u32) -> u32 {
        if let (Fit::Inside, Some(size)) = (self.fit, self.size) {
            // Exactly what the single output always asked for: the decode, so the output, is unchanged.
            return size;
        }
        let (bw, bh) = self.bounds();
        if width == 0 || height == 0 {
            return bw.max(bh);
        }
        let long = f64::from(width.max(height));
        let either = |(w, h): (u32, u32)| -> f64 {
            let (w, h, bw, bh) = (f64::from(w), f64::from(h), f64::from(bw), f64::from(bh));
            let scale = match self.fit {
                Fit::Inside => (bw / w).min(bh / h).min(1.0),
                Fit::Cover => (bw / w).max(bh / h),
                Fit::Contain => (bw / w).min(bh / h),
            };
            (scale * long).ceil()
        };
        let edge = either((width, height)).max(either((height, width)));
        // Beyond the stored size nothing is gained: decode whole.
        edge.min(f64::from(u32::MAX)) as u32
    }

    fn output_pixels(&self) -> u64 {
        let (width, height) = match (self.size, self.width, self.height) {
            (Some(size), _, _) => (size, size),
            (None, Some(w), None) => (w, w),
            (None, None, Some(h)) => (h, h),
            (None, w, h) => (w.unwrap_or(1), h.unwrap_or(1)),
        };
        u64::from(width) * u64::from(height) * self.formats.len() as u64
    }

    fn check(&self) -> Result<(), String> {
        let name = &self.name;
        let name_ok = !name.is_empty()
            && name.len() <= MAX_NAME_BYTES
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if !name_ok {
            return Err(format!(
                "rendition name {name:?} must be 1 to {MAX_NAME_BYTES} of a-z, 0-9, - and _"
            ));
        }
        let edge = |what: &str, value: Option<u32>| match value {
            Some(v) if !SIZE_RANGE.contains(&v) => Err(format!(
                "rendition {name:?}: {what} must be from {} to {}, got {v}",
                SIZE_RANGE.start(),
                SIZE_RANGE.end()
            )),
            _ => Ok(()),
        };
        edge("size", self.size)?;
        edge("width", self.width)?;
        edge("height", self.height)?;
        match (self.size, self.width, self.height) {
            (Some(_), None, None) => {}
            (Some(_), _, _) => {
                return Err(format!(
                    "rendition {name:?}: give size, or width and/or height, not both"
                ))
            }
            (None, None, None) => {
                return Err(format!(
                    "rendition {name:?}: give size, or width and/or height"
                ))
            }
            (None, Some(_), Some(_)) => {}
            (None, _, _) if self.fit != Fit::Inside => {
                return Err(format!(
                    "rendition {name:?}: fit {} needs a whole box: size, or width and height",
                    self.fit.name()
                ))
            }
            (None, _, _) => {}
        }
        if self.fit == Fit::Inside && self.gravity != Gravity::Centre {
            return Err(format!(
                "rendition {name:?}: gravity applies to fit cover or contain; inside keeps the whole picture"
            ));
        }
        if self.fit == Fit::Contain && self.gravity.looks_at_content() {
            return Err(format!(
                "rendition {name:?}: contain keeps the whole picture; place it with the centre, an edge or a corner"
            ));
        }
        if self.background.is_some() && self.fit != Fit::Contain {
            return Err(format!(
                "rendition {name:?}: background applies to fit contain only"
            ));
        }
        if self.formats.is_empty() || self.formats.len() > 4 {
            return Err(format!("rendition {name:?}: give 1 to 4 formats"));
        }
        for (i, format) in self.formats.iter().enumerate() {
            if self.formats[..i].contains(format) {
                return Err(format!(
                    "rendition {name:?}: format {} is listed twice",
                    String::from(*format)
                ));
            }
        }
        if let Some(quality) = self.quality {
            if !QUALITY_RANGE.contains(&quality) {
                return Err(format!(
                    "rendition {name:?}: quality must be from {} to {}, got {quality}",
                    QUALITY_RANGE.start(),
                    QUALITY_RANGE.end()
                ));
            }
        }
        Ok(())
    }
}

/// Checks a whole set: each rendition, distinct names, and the bounds on count and output pixels.
/// Outputs that would share a key are checked where the key pattern is known ([`crate::keys`]).
pub fn check_set(renditions: &[Rendition]) -> Result<(), String> {
    if renditions.is_empty() || renditions.len() > MAX_RENDITIONS {
        return Err(format!(
            "give 1 to {MAX_RENDITIONS} renditions, got {}",
            renditions.len()
        ));
    }
    for (i, rendition) in renditions.iter().enumerate() {
        rendition.check()?;
        if renditions[..i].iter().any(|r| r.name == rendition.name) {
            return Err(format!("rendition name {:?} is used twice", rendition.name));
        }
    }
    let pixels: u64 = renditions.iter().map(Rendition::output_pixels).sum();
    if pixels > MAX_OUTPUT_PIXELS {
        return Err(format!(
            "the renditions ask for {pixels} output pixels, over the limit of {MAX_OUTPUT_PIXELS}"
        ));
    }
    Ok(())
}

/// Reads and checks a set from JSON (`RENDITIONS`, a request's `renditions`, the CLI's `--renditions`).
pub fn parse_set(json: &serde_json::Value) -> Result<Vec<Rendition>, String> {
    let renditions: Vec<Rendition> =
        serde_json::from_value(json.clone()).map_err(|e| format!("renditions: {e}"))?;
    check_set(&renditions)?;
    Ok(renditions)
}

/// The output size of `fit` for an upright `width`×`height` picture.
pub fn output_size(rendition: &Rendition, width: u32, height: u32) -> (u32, u32) {
    let (bw, bh) = rendition.bounds();
    match rendition.fit {
        Fit::Inside => geometry::fit_inside(width, height, bw, bh),
        Fit::Cover | Fit::Contain => (bw, bh),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(value: serde_json::Value) -> Result<Vec<Rendition>, String> {
        parse_set(&value)
    }

    #[test]
    fn a_full_set_reads() {
        let set = parse(json!([
            {"name": "thumb", "size": 320, "fit": "cover", "gravity": "attention", "formats": ["avif", "jpeg"]},
            {"name": "card", "width": 640, "formats": ["webp"], "quality": 70},
            {"name": "tile", "width": 500, "height": 500, "fit": "contain", "gravity": "north", "background": "#102030"},
        ]));
        let set = match set {
            Ok(set) => set,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(set[0].gravity, Gravity::Attention);
        assert_eq!(set[1].bounds(), (640, MAX_SIZE));
        assert_eq!(set[2].background, Some(Background([0x10, 0x20, 0x30, 255])));
        assert_eq!(
            set[1].formats_for(InputFormat::Gif),
            vec![OutputFormat::Webp]
        );
    }

    #[test]
    fn the_default_is_todays_single_output() {
        let single = Rendition::single(1000, None);
        assert_eq!(single.name, "resized");
        assert_eq!(
            single.formats_for(InputFormat::Jpeg),
            vec![OutputFormat::Jpeg]
        );
        assert_eq!(
            single.formats_for(InputFormat::Bmp),
            vec![OutputFormat::Png]
        );
        assert_eq!(single.decode_edge(4032, 3024), 1000);
        assert!(check_set(&[single]).is_ok());
    }

    #[test]
    fn mistakes_are_named() {
        let cases = [
            (json!([]), "1 to 10"),
            (json!([{"name": "a"}]), "give size"),
            (json!([{"name": "A", "size": 10}]), "a-z"),
            (json!([{"name": "a", "size": 10, "width": 5}]), "not both"),
            (
                json!([{"name": "a", "width": 10, "fit": "cover"}]),
                "whole box",
            ),
            (
                json!([{"name": "a", "size": 10, "gravity": "east"}]),
                "cover or contain",
            ),
            (
                json!([{"name": "a", "size": 10, "fit": "contain", "gravity": "entropy"}]),
                "contain keeps",
            ),
            (
                json!([{"name": "a", "size": 10, "background": "#ffffff"}]),
                "contain only",
            ),
            (
                json!([{"name": "a", "size": 10, "fit": "contain", "background": "white"}]),
                "#rrggbb",
            ),
            (json!([{"name": "a", "size": 0}]), "from 1"),
            (
                json!([{"name": "a", "size": 10, "formats": ["tiff"]}]),
                "not same",
            ),
            (
                json!([{"name": "a", "size": 10, "formats": ["jpeg", "jpeg"]}]),
                "twice",
            ),
            (json!([{"name": "a", "size": 10, "formats": []}]), "1 to 4"),
            (json!([{"name": "a", "size": 10, "quality": 0}]), "quality"),
            (
                json!([{"name": "a", "size": 10}, {"name": "a", "size": 20}]),
                "used twice",
            ),
            (
                json!([{"name": "a", "size": 10, "crop": true}]),
                "unknown field",
            ),
            (
                json!([{"name": "a", "size": 10000, "formats": ["jpeg", "webp"]}]),
                "output pixels",
            ),
            (json!({"name": "a"}), "renditions"),
        ];
        for (value, wanted) in cases {
            match parse(value.clone()) {
                Ok(_) => panic!("{value} was accepted"),
                Err(message) => assert!(message.contains(wanted), "{value}: {message}"),
            }
        }
    }

    #[test]
    fn the_decode_keeps_enough_for_every_fit() {
        let cover = |w, h| Rendition {
            fit: Fit::Cover,
            size: None,
            width: Some(w),
            height: Some(h),
            ..Rendition::single(1, None)
        };
        // A 4000x1000 panorama covering a 320 square: the short side must keep 320 px, so the long 1280.
        assert_eq!(cover(320, 320).decode_edge(4000, 1000), 1280);
        // A 1600x900 box from a 4000x3000 photo that may stand either way: 1600/3000 of 4000.
        assert_eq!(cover(1600, 900).decode_edge(4000, 3000), 2134);
        let inside = Rendition {
            size: None,
            width: Some(640),
            ..Rendition::single(1, None)
        };
        assert_eq!(inside.decode_edge(4000, 3000), 854);
        assert_eq!(inside.decode_edge(400, 300), 400);
    }
}
