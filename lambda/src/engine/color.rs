//! The colour step: what the decoded pixels mean, and what the output says they mean.
//!
//! Browsers show an untagged image as sRGB, so the default ([`ColorMode::Srgb`]) converts pixels from
//! the input's embedded profile into sRGB and writes no profile: what sharp and imgproxy do by default.
//! Dropping a wide-gamut profile without converting desaturates the picture (ProPhoto by a block mean of
//! 14 levels, ../shared/corpus/SOURCES.md). [`ColorMode::Keep`] embeds the input's profile untouched
//! instead, and only where it still describes the output's pixels: CMYK is always converted, since the
//! outputs are RGB.
//!
//! It runs in two halves around the resampler. CMYK becomes sRGB before resampling (the resampler
//! works on RGB and gray). RGB and gray profiles are applied after it, on the output's few pixels
//! rather than the decoded many: resampling values in the source's encoding instead of sRGB's moves a
//! 40x30 block mean by at most half a level (0.29-0.48 measured) on the colour corpus
//! (`converting_after_resampling_matches_converting_before` in lambda/tests/colour.rs), while the
//! transform's cost scales with the pixel count (bench/report.md).
//!
//! Colour is judged with relative colorimetric intent, as LittleCMS renders the corpus references.
//! A profile that cannot be read or does not fit the pixels (an RGB profile on a gray image) is
//! metadata, not pixels: the picture is treated as sRGB rather than rejected.

use std::str::FromStr;
use std::sync::OnceLock;

use image::{DynamicImage, GrayAlphaImage, GrayImage, RgbImage, RgbaImage};
use moxcms::{ColorProfile, DataColorSpace, Layout, RenderingIntent, TransformOptions};
use serde::{Deserialize, Serialize};

use crate::error::Error;

/// What outputs say about colour: `COLOR` in the configuration, `color` in a request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColorMode {
    /// Pixels converted to sRGB, no profile written.
    #[default]
    Srgb,
    /// The input's RGB or gray profile written untouched; pixels not converted.
    Keep,
}

impl ColorMode {
    pub const NAMES: [&'static str; 2] = ["srgb", "keep"];

    pub fn as_str(self) -> &'static str {
        match self {
            ColorMode::Srgb => "srgb",
            ColorMode::Keep => "keep",
        }
    }
}

impl FromStr for ColorMode {
    type Err = Error;

    fn from_str(value: &str) -> Result<Self, Error> {
        match value.to_ascii_lowercase().as_str() {
            "srgb" => Ok(ColorMode::Srgb),
            "keep" => Ok(ColorMode::Keep),
            _ => Err(Error::InvalidRequest(format!(
                "color must be one of {}, not {value:?}",
                ColorMode::NAMES.join(", ")
            ))),
        }
    }
}

/// CMYK samples as ICC profiles define them: ink coverage, 0 = no ink (Adobe's inverted JPEGs already
/// turned around by the decoder).
pub struct CmykImage {
    width: u32,
    height: u32,
    ink: Vec<u8>,
}

impl CmykImage {
    /// `None` unless `ink` holds exactly four samples per pixel.
    pub fn from_raw(width: u32, height: u32, ink: Vec<u8>) -> Option<Self> {
        let samples = u64::from(width) * u64::from(height) * 4;
        (ink.len() as u64 == samples).then_some(CmykImage { width, height, ink })
    }

    pub fn dimensions(&self) -> (u32, u32) {
        (self.width, self.height)
    }
}

/// The profile of pixels that are not (yet) sRGB, or an sRGB one that `keep` would carry on.
#[derive(Debug, Clone)]
pub struct SourceProfile {
    icc: Vec<u8>,
    /// Converting through it changes no 8-bit value by more than one level: nothing to do for `srgb`.
    is_srgb: bool,
    profile: ColorProfile,
}

/// A CMYK JPEG without a profile is read through U.S. Web Coated (SWOP) v2, as libvips falls back to a
/// standard press profile; naive inversion (1 - C)(1 - K) is off by 4 levels on Pillow's CMYK/RGB
/// pair, SWOP by 3. Adobe's profile, redistributed unmodified (profiles/README.md).
const FALLBACK_CMYK: &[u8] = include_bytes!("profiles/us-web-coated-swop-v2.icc");
/// The fallback profile is a guess about an unknown press, so its whole range is mapped onto the
/// screen's: relative colorimetric without black-point compensation (which moxcms lacks) leaves SWOP's
/// black at sRGB (35, 37, 37), 33 levels off Pillow's RGB twin; perceptual is 3 off.
const FALLBACK_CMYK_INTENT: RenderingIntent = RenderingIntent::Perceptual;

/// First half: CMYK becomes sRGB; an RGB or gray profile that fits the pixels is returned, for
/// [`after_resampling`] to apply or keep.
pub fn before_resampling(
    pixels: super::decode::Pixels,
    icc: Option<Vec<u8>>,
) -> Result<(DynamicImage, Option<SourceProfile>), Error> {
    match pixels {
        super::decode::Pixels::Cmyk(cmyk) => Ok((cmyk_to_srgb(cmyk, icc.as_deref())?, None)),
        super::decode::Pixels::Image(image) => {
            let profile = icc.and_then(|icc| source_profile(icc, &image));
            Ok((image, profile))
        }
    }
}

/// Second half: the output's pixels and the profile to embed, if any. `output_is_gray` says whether the
/// encoder will write these pixels as gray ([`super::encode::writes_gray`]): a gray profile kept on an
/// output written as RGB would describe pixels it does not have, so there `keep` converts instead.
pub fn after_resampling(
    image: DynamicImage,
    profile: Option<SourceProfile>,
    mode: ColorMode,
    output_is_gray: bool,
) -> (DynamicImage, Option<Vec<u8>>) {
    let Some(profile) = profile else {
        return (image, None);
    };
    let describes_output = output_is_gray || profile.profile.color_space != DataColorSpace::Gray;
    match mode {
        ColorMode::Keep if describes_output => (image, Some(profile.icc)),
        _ if profile.is_srgb => (image, None),
        _ => match to_srgb(&image, &profile.profile) {
            Ok(converted) => (converted, None),
            Err(error) => {
                tracing::warn!(%error, "colour profile not applied; the pixels are treated as sRGB");
                (image, None)
            }
        },
    }
}

/// The embedded profile, if it can be read and describes pixels of this kind.
fn source_profile(icc: Vec<u8>, image: &DynamicImage) -> Option<SourceProfile> {
    let profile = match ColorProfile::new_from_slice(&icc) {
        Ok(profile) => profile,
        Err(error) => {
            tracing::warn!(%error, "unreadable colour profile ignored; the pixels are treated as sRGB");
            return None;
        }
    };
    let fits = match profile.color_space {
        DataColorSpace::Rgb => image.color().has_color(),
        DataColorSpace::Gray => !image.color().has_color(),
        _ => false,
    };
    if !fits {
        tracing::warn!(
            space = ?profile.color_space,
            "colour profile does not describe the pixels; ignored"
        );
        return None;
    }
    let is_srgb = converts_like_srgb(&profile, image.color().has_color());
    Some(SourceProfile {
        icc,
        is_srgb,
        profile,
    })
}

/// Whether converting through `profile` to sRGB leaves every value of a 9-level grid within one
/// level: then the profile is sRGB in all but name (or in name too), and the pixels need no work.
fn converts_like_srgb(profile: &ColorProfile, has_color: bool) -> bool {
    let levels: [u8; 9] = std::array::from_fn(|step| (step * 255 / 8) as u8);
    let (layout, samples): (Layout, Vec<u8>) = if has_color {
        let mut grid = Vec::with_capacity(levels.len().pow(3) * 3);
        for r in levels {
            for g in levels {
                for b in levels {
                    grid.extend([r, g, b]);
                }
            }
        }
        (Layout::Rgb, grid)
    } else {
        (Layout::Gray, levels.to_vec())
    };
    let Ok(transform) =
        profile.create_transform_8bit(layout, srgb_for(has_color), layout, options())
    else {
        return false;
    };
    let mut converted = vec![0; samples.len()];
    transform.transform(&samples, &mut converted).is_ok()
        && samples
            .iter()
            .zip(&converted)
            .all(|(a, b)| a.abs_diff(*b) <= 1)
}

fn to_srgb(image: &DynamicImage, profile: &ColorProfile) -> Result<DynamicImage, Error> {
    let (width, height) = (image.width(), image.height());
    let (layout, has_color) = match image {
        DynamicImage::ImageRgb8(_) => (Layout::Rgb, true),
        DynamicImage::ImageRgba8(_) => (Layout::Rgba, true),
        DynamicImage::ImageLuma8(_) => (Layout::Gray, false),
        DynamicImage::ImageLumaA8(_) => (Layout::GrayAlpha, false),
        other => {
            return Err(Error::Internal(format!(
                "the colour step expects 8-bit pixels, not {:?}",
                other.color()
            )))
        }
    };
    let transform = profile
        .create_transform_8bit(layout, srgb_for(has_color), layout, options())
        .map_err(|e| Error::Internal(format!("no transform from the colour profile: {e}")))?;
    let mut converted = vec![0; image.as_bytes().len()];
    transform
        .transform(image.as_bytes(), &mut converted)
        .map_err(|e| Error::Internal(format!("colour conversion failed: {e}")))?;
    let rebuilt = match layout {
        Layout::Rgb => RgbImage::from_raw(width, height, converted).map(DynamicImage::ImageRgb8),
        Layout::Rgba => RgbaImage::from_raw(width, height, converted).map(DynamicImage::ImageRgba8),
        Layout::Gray => GrayImage::from_raw(width, height, converted).map(DynamicImage::ImageLuma8),
        _ => GrayAlphaImage::from_raw(width, height, converted).map(DynamicImage::ImageLumaA8),
    };
    rebuilt.ok_or_else(|| Error::Internal("colour conversion changed the buffer size".into()))
}

fn cmyk_to_srgb(cmyk: CmykImage, icc: Option<&[u8]>) -> Result<DynamicImage, Error> {
    let to_srgb = |profile: &ColorProfile, intent| {
        let options = TransformOptions {
            rendering_intent: intent,
            ..options()
        };
        profile.create_transform_8bit(Layout::Rgba, srgb_for(true), Layout::Rgb, options)
    };
    let embedded = icc
        .and_then(|icc| ColorProfile::new_from_slice(icc).ok())
        .filter(|profile| profile.color_space == DataColorSpace::Cmyk)
        .and_then(
            |profile| match to_srgb(&profile, RenderingIntent::RelativeColorimetric) {
                Ok(transform) => Some(transform),
                Err(error) => {
                    tracing::warn!(%error, "embedded CMYK profile unusable; the standard one is used");
                    None
                }
            },
        );
    let transform = match embedded {
        Some(transform) => transform,
        // The bundled profile is ours: if it cannot be used, that is our failure, not the image's.
        None => to_srgb(fallback_cmyk()?, FALLBACK_CMYK_INTENT).map_err(|e| {
            Error::Internal(format!("no transform from the bundled CMYK profile: {e}"))
        })?,
    };
    let mut rgb = vec![0; cmyk.ink.len() / 4 * 3];
    transform
        .transform(&cmyk.ink, &mut rgb)
        .map_err(|e| Error::Internal(format!("CMYK conversion failed: {e}")))?;
    RgbImage::from_raw(cmyk.width, cmyk.height, rgb)
        .map(DynamicImage::ImageRgb8)
        .ok_or_else(|| Error::Internal("CMYK buffer does not match its size".into()))
}

fn fallback_cmyk() -> Result<&'static ColorProfile, Error> {
    static PROFILE: OnceLock<Option<ColorProfile>> = OnceLock::new();
    PROFILE
        .get_or_init(|| ColorProfile::new_from_slice(FALLBACK_CMYK).ok())
        .as_ref()
        .ok_or_else(|| Error::Internal("the bundled CMYK profile does not parse".into()))
}

/// sRGB, or for gray pixels a gray profile with sRGB's tone curve (gray stays gray: a third of the bytes).
fn srgb_for(has_color: bool) -> &'static ColorProfile {
    static SRGB: OnceLock<ColorProfile> = OnceLock::new();
    static SRGB_GRAY: OnceLock<ColorProfile> = OnceLock::new();
    if has_color {
        SRGB.get_or_init(ColorProfile::new_srgb)
    } else {
        SRGB_GRAY.get_or_init(|| {
            let srgb = ColorProfile::new_srgb();
            let mut gray = ColorProfile::new_gray_with_gamma(2.2);
            gray.gray_trc = srgb.red_trc.clone();
            gray
        })
    }
}

fn options() -> TransformOptions {
    TransformOptions {
        rendering_intent: RenderingIntent::RelativeColorimetric,
        ..TransformOptions::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rgb(pixel: [u8; 3]) -> DynamicImage {
        DynamicImage::ImageRgb8(RgbImage::from_pixel(4, 4, image::Rgb(pixel)))
    }

    #[test]
    fn modes_parse_and_name_themselves() {
        for name in ColorMode::NAMES {
            assert_eq!(name.parse::<ColorMode>().expect(name).as_str(), name);
        }
        assert_eq!("SRGB".parse::<ColorMode>().ok(), Some(ColorMode::Srgb));
        assert!(matches!(
            "p3".parse::<ColorMode>(),
            Err(Error::InvalidRequest(_))
        ));
    }

    #[test]
    fn the_srgb_profile_needs_no_conversion() {
        let icc = ColorProfile::new_srgb().encode().expect("encodes");
        let profile = source_profile(icc, &rgb([10, 20, 30])).expect("fits");
        assert!(profile.is_srgb);
    }

    #[test]
    fn a_wide_gamut_profile_is_converted_and_dropped_or_kept_untouched() {
        let icc = ColorProfile::new_adobe_rgb().encode().expect("encodes");
        let pure_green = rgb([0, 255, 0]);
        let profile = source_profile(icc.clone(), &pure_green).expect("fits");
        assert!(!profile.is_srgb);
        let (converted, embedded) =
            after_resampling(pure_green.clone(), Some(profile), ColorMode::Srgb, false);
        assert_eq!(embedded, None);
        // Adobe RGB's green lies outside sRGB: it clips to sRGB's most saturated green, less red than 0
        // cannot be, but its blue and red channels stay near 0 and green saturates.
        let pixel = converted.to_rgb8().get_pixel(0, 0).0;
        assert!(pixel[1] == 255 && pixel[0] < 10, "{pixel:?}");

        let profile = source_profile(icc.clone(), &pure_green).expect("fits");
        let (kept, embedded) =
            after_resampling(pure_green.clone(), Some(profile), ColorMode::Keep, false);
        assert_eq!(embedded.as_deref(), Some(icc.as_slice()));
        assert_eq!(kept, pure_green);
    }

    #[test]
    fn a_profile_that_does_not_fit_the_pixels_is_ignored() {
        let rgb_profile = ColorProfile::new_adobe_rgb().encode().expect("encodes");
        let gray = DynamicImage::ImageLuma8(GrayImage::new(2, 2));
        assert!(source_profile(rgb_profile, &gray).is_none());
        assert!(source_profile(b"not a profile".to_vec(), &rgb([1, 2, 3])).is_none());
        assert!(source_profile(FALLBACK_CMYK.to_vec(), &rgb([1, 2, 3])).is_none());
    }

    #[test]
    fn cmyk_without_a_profile_goes_through_the_press_profile() {
        let ink = |c, m, y, k| CmykImage::from_raw(1, 1, vec![c, m, y, k]).expect("one pixel");
        let white = cmyk_to_srgb(ink(0, 0, 0, 0), None).expect("white");
        assert!(white.to_rgb8().get_pixel(0, 0).0.iter().all(|&c| c > 245));
        let black = cmyk_to_srgb(ink(255, 255, 255, 255), None).expect("black");
        assert!(black.to_rgb8().get_pixel(0, 0).0.iter().all(|&c| c < 40));
        let cyan = cmyk_to_srgb(ink(255, 0, 0, 0), None)
            .expect("cyan")
            .to_rgb8();
        let [r, g, b] = cyan.get_pixel(0, 0).0;
        assert!(r < 60 && g > 140 && b > 200, "{:?}", [r, g, b]);
    }

    #[test]
    fn gray_stays_gray() {
        let gray =
            DynamicImage::ImageLumaA8(GrayAlphaImage::from_pixel(2, 2, image::LumaA([100, 7])));
        let icc = ColorProfile::new_gray_with_gamma(1.8)
            .encode()
            .expect("encodes");
        let profile = source_profile(icc, &gray).expect("fits");
        let (converted, _) = after_resampling(gray, Some(profile), ColorMode::Srgb, true);
        let DynamicImage::ImageLumaA8(converted) = converted else {
            panic!("not gray+alpha")
        };
        let [value, alpha] = converted.get_pixel(0, 0).0;
        assert_eq!(alpha, 7);
        // Gamma 1.8's 100 is (100/255)^1.8 = 0.186 in linear light, which sRGB encodes as 120.
        assert!((118..=122).contains(&value), "{value}");
    }

    #[test]
    fn keep_carries_a_gray_profile_only_onto_gray_output() {
        let gray = DynamicImage::ImageLuma8(GrayImage::from_pixel(2, 2, image::Luma([100])));
        let icc = ColorProfile::new_gray_with_gamma(1.8)
            .encode()
            .expect("encodes");
        let profile = |image: &DynamicImage| source_profile(icc.clone(), image).expect("fits");
        let (kept, embedded) =
            after_resampling(gray.clone(), Some(profile(&gray)), ColorMode::Keep, true);
        assert_eq!(
            (kept, embedded.as_deref()),
            (gray.clone(), Some(icc.as_slice()))
        );
        // Written as RGB (WebP; JPEG of gray+alpha): converted as for srgb, no profile.
        let (converted, embedded) =
            after_resampling(gray.clone(), Some(profile(&gray)), ColorMode::Keep, false);
        assert_eq!(embedded, None);
        assert!((118..=122).contains(&converted.to_luma8().get_pixel(0, 0)[0]));
    }
}
