//! The image engine: bytes in, resized bytes out. No AWS types: the Lambda and the CLI share it.
//!
//! sniff → check the header against the budget → decode once (shrinking JPEGs on load for the largest
//! output) → colour (CMYK to sRGB) → per rendition: resample (and crop) → colour (RGB and gray
//! profiles) → orient → pad → encode, once per format.

pub mod color;
pub mod decode;
pub mod encode;
pub mod geometry;
pub mod gravity;
pub mod orient;
pub mod placeholder;
pub mod probe;
pub mod rendition;
pub mod resize;
pub mod sniff;

use std::ops::RangeInclusive;
use std::time::Duration;

use image::metadata::Orientation;
use image::{DynamicImage, RgbImage, RgbaImage};
use serde::Serialize;

pub use color::ColorMode;
pub use gravity::Gravity;
pub use rendition::{Fit, FormatChoice, Rendition};
pub use sniff::{InputFormat, OutputFormat};

use color::SourceProfile;
use geometry::Axis;

use crate::error::Error;

/// What one resize may cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Width × height above which an image is refused from its header, before decoding.
    pub max_pixels: u64,
}

/// The `size` a request, the CLI or `DEFAULT_SIZE` may give: the one place this range is written.
pub const SIZE_RANGE: RangeInclusive<u32> = 1..=geometry::MAX_SIZE;
/// The JPEG/WebP `quality` a request, the CLI or `QUALITY` may give: the one place this range is written.
pub const QUALITY_RANGE: RangeInclusive<u8> = 1..=100;

/// What the caller wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Longest edge of the output (the image is fitted inside `size`×`size`, never upscaled), in
    /// [`SIZE_RANGE`].
    pub size: u32,
    /// Output format; `None` keeps the input's (GIF/BMP → PNG).
    pub format: Option<OutputFormat>,
    /// JPEG/WebP quality, in [`QUALITY_RANGE`].
    pub quality: u8,
    /// Convert to sRGB, or keep the input's profile.
    pub color: ColorMode,
    /// The time an AVIF encode may take by its predicted cost: the rav1e speed is chosen from it
    /// (`encode::avif::choose_speed`), and an output too large for it is refused.
    pub avif_budget: Duration,
}

/// A resized image and what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resized {
    pub bytes: Vec<u8>,
    pub width: u32,
    pub height: u32,
    pub format: OutputFormat,
    pub source: SourceInfo,
    /// [`placeholder::thumbhash`] of the picture.
    pub placeholder: String,
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
    let (width, height) = match probe::dimensions(data, format)? {
        Some((width, height)) => {
            probe::check_budget(width, height, limits)?;
            (clamp(width), clamp(height))
        }
        None => (0, 0),
    };
    Ok(SourceInfo {
        format,
        width,
        height,
    })
}

fn clamp(edge: u64) -> u32 {
    u32::try_from(edge).unwrap_or(u32::MAX)
}

/// One output's size.
pub fn resize(data: &[u8], options: &Options, limits: &Limits) -> Result<Resized, Error> {
    let job = Job {
        renditions: vec![Rendition::single(options.size, options.format)],
        quality: options.quality,
        color: options.color,
        parallelism: 1,
        avif_budget: options.avif_budget,
    };
    let Rendered {
        source,
        mut outputs,
        placeholder,
    } = render(data, &job, limits)?;
    let output = outputs
        .pop()
        .ok_or_else(|| Error::Internal("a single rendition made no output".into()))?;
    Ok(Resized {
        bytes: output.bytes,
        width: output.width,
        height: output.height,
        format: output.format,
        source,
        placeholder,
    })
}

/// Every output of one upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// Checked ([`rendition::check_set`]).
    pub renditions: Vec<Rendition>,
    /// For renditions that name none.
    pub quality: u8,
    pub color: ColorMode,
    /// Renditions made at once: the CPUs the function has (1 means one after another, no extra copies).
    pub parallelism: usize,
    /// The time all AVIF outputs of the job may take by their predicted cost, shared equally between
    /// them (each encode's rav1e speed is chosen before it starts: see [`Options::avif_budget`]).
    pub avif_budget: Duration,
}

/// One encoded output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    /// The rendition's name.
    pub name: String,
    pub format: OutputFormat,
    pub width: u32,
    pub height: u32,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub source: SourceInfo,
    /// In the order of the renditions, then of their formats.
    pub outputs: Vec<Output>,
    /// [`placeholder::thumbhash`] of the whole upright picture in sRGB, one for every output.
    pub placeholder: String,
}

/// Every rendition of `data`, from one decode. Fails whole: an error names the rendition it came from.
pub fn render(data: &[u8], job: &Job, limits: &Limits) -> Result<Rendered, Error> {
    let mut source = inspect(data, limits)?;
    let decode_edge = job
        .renditions
        .iter()
        .map(|r| r.decode_edge(source.width, source.height))
        .max()
        .unwrap_or(geometry::MAX_SIZE);
    let decoded = decode::decode(data, source.format, decode_edge, limits)?;
    if source.width == 0 {
        (source.width, source.height) = (decoded.source_width, decoded.source_height);
    }
    let (stored, profile) = color::before_resampling(decoded.pixels, decoded.icc)?;
    // One small upright sRGB copy: the placeholder of every output, and what content-aware crops see.
    let small = preview(&stored, profile.clone(), decoded.orientation)?;
    let placeholder = placeholder::thumbhash(&small);
    let picture = Picture {
        preview: job
            .renditions
            .iter()
            .any(|r| r.fit == Fit::Cover && r.gravity.looks_at_content())
            .then(|| small.to_rgb8()),
        stored,
        profile,
        orientation: decoded.orientation,
        input: source.format,
        avif_budget: avif_share(job, source.format),
    };
    let make = |rendition: &Rendition| {
        picture
            .rendition(rendition, job)
            .map_err(|error| error.in_rendition(&rendition.name))
    };
    let per_rendition: Vec<Result<Vec<Output>, Error>> = if job.parallelism <= 1 {
        job.renditions.iter().map(make).collect()
    } else {
        let chunk = job.renditions.len().div_ceil(job.parallelism).max(1);
        std::thread::scope(|scope| {
            let workers: Vec<_> = job
                .renditions
                .chunks(chunk)
                .map(|share| scope.spawn(move || share.iter().map(make).collect::<Vec<_>>()))
                .collect();
            workers
                .into_iter()
                .flat_map(|worker| match worker.join() {
                    Ok(results) => results,
                    // A panic is a bug of ours: re-raised, for the caller's guard to report as a failure.
                    Err(panic) => std::panic::resume_unwind(panic),
                })
                .collect()
        })
    };
    let mut outputs = Vec::new();
    for result in per_rendition {
        outputs.extend(result?);
    }
    Ok(Rendered {
        source,
        outputs,
        placeholder,
    })
}

/// What the colour step makes of one rendition for a format: written as gray, and the colour mode.
type Variant = (bool, ColorMode);

/// The budget of each AVIF output: the job's, shared equally (the speed of each is chosen before it
/// starts, so the shares must add up to the whole).
fn avif_share(job: &Job, input: InputFormat) -> Duration {
    let avifs = job
        .renditions
        .iter()
        .flat_map(|r| r.formats_for(input))
        .filter(|&f| f == OutputFormat::Avif)
        .count();
    job.avif_budget / u32::try_from(avifs.max(1)).unwrap_or(u32::MAX)
}

/// The decoded picture every rendition is made from.
struct Picture {
    /// As stored (not yet upright), sRGB or with `profile` still to apply.
    stored: DynamicImage,
    profile: Option<SourceProfile>,
    orientation: Orientation,
    input: InputFormat,
    /// Small and upright, for content-aware crops.
    preview: Option<RgbImage>,
    /// Each AVIF output's share of the job's budget.
    avif_budget: Duration,
}

/// A small upright sRGB copy, for [`placeholder`] and [`gravity`].
fn preview(
    stored: &DynamicImage,
    profile: Option<SourceProfile>,
    orientation: Orientation,
) -> Result<DynamicImage, Error> {
    let (width, height) = geometry::fit(stored.width(), stored.height(), gravity::PREVIEW_EDGE);
    let small = resize::resample_region(stored, None, width, height)?;
    let (small, _) = color::after_resampling(small, profile, ColorMode::Srgb, false);
    Ok(orient::upright(small, orientation))
}

impl Picture {
    fn rendition(&self, rendition: &Rendition, job: &Job) -> Result<Vec<Output>, Error> {
        let (stored_width, stored_height) = (self.stored.width(), self.stored.height());
        let turned = orient::swaps_sides(self.orientation);
        let (upright_width, upright_height) =
            orient::upright_size(stored_width, stored_height, self.orientation);
        let to_stored = |(w, h): (u32, u32)| if turned { (h, w) } else { (w, h) };
        let (bw, bh) = rendition.bounds();
        // Resample first, turn upright after: turning the small output is cheaper, and the crop is
        // mapped onto the stored pixels (`orient::stored_rect`, with its proof).
        let resampled = match (rendition.fit, rendition.size) {
            // The single output's own arithmetic, on the stored sides (`geometry::fit` is symmetric).
            (Fit::Inside, Some(size)) => {
                let (w, h) = geometry::fit(stored_width, stored_height, size);
                resize::resample_region(&self.stored, None, w, h)?
            }
            (Fit::Inside, None) => {
                let (w, h) = to_stored(geometry::fit_inside(upright_width, upright_height, bw, bh));
                resize::resample_region(&self.stored, None, w, h)?
            }
            (Fit::Contain, _) => {
                let (w, h) =
                    to_stored(geometry::fit_contain(upright_width, upright_height, bw, bh));
                resize::resample_region(&self.stored, None, w, h)?
            }
            (Fit::Cover, _) => {
                let place = |axis: Axis, crop: f64, side: f64| {
                    gravity::place(rendition.gravity, axis, crop / side, self.preview.as_ref())
                };
                let crop = geometry::cover_crop(upright_width, upright_height, bw, bh, place);
                let region =
                    orient::stored_rect(crop, stored_width, stored_height, self.orientation);
                let (w, h) = to_stored((bw, bh));
                resize::resample_region(&self.stored, Some(region), w, h)?
            }
        };
        let quality = rendition.quality.unwrap_or(job.quality);
        let formats = rendition.formats_for(self.input);
        // The colour step depends on the format only through whether it writes gray and whether it can
        // carry a profile (AVIF cannot: `keep` gives it sRGB pixels, never untagged ones): formats that
        // agree share one pass, so they encode the same pixels.
        let padded = rendition.fit == Fit::Contain;
        let variant_of = |format: OutputFormat| {
            let gray = !padded && encode::writes_gray(&resampled, format);
            let mode = if encode::carries_icc(format) {
                job.color
            } else {
                ColorMode::Srgb
            };
            (gray, mode)
        };
        let wanted: Vec<Variant> = formats.iter().map(|&f| variant_of(f)).collect();
        let mut variants: Vec<(Variant, DynamicImage, Option<Vec<u8>>)> = Vec::new();
        let mut resampled = Some(resampled);
        for (i, &variant) in wanted.iter().enumerate() {
            if variants.iter().any(|(v, _, _)| *v == variant) {
                continue;
            }
            // The last variant takes the resampled pixels; only a second variant copies them.
            let last = !wanted[i + 1..].iter().any(|&v| v != variant);
            let pixels = match (&mut resampled, last) {
                (slot, true) => slot.take(),
                (slot, false) => slot.clone(),
            }
            .ok_or_else(|| Error::Internal("the resampled pixels were used up".into()))?;
            let (output_is_gray, mode) = variant;
            let (pixels, icc) =
                color::after_resampling(pixels, self.profile.clone(), mode, output_is_gray);
            let mut upright = orient::upright(pixels, self.orientation);
            if padded {
                upright = pad(upright, (bw, bh), rendition);
            }
            variants.push((variant, upright, icc));
        }
        let mut outputs = Vec::with_capacity(formats.len());
        for (format, variant) in formats.into_iter().zip(wanted) {
            let Some((_, image, icc)) = variants.iter().find(|(v, _, _)| *v == variant) else {
                return Err(Error::Internal("a colour variant went missing".into()));
            };
            outputs.push(Output {
                name: rendition.name.clone(),
                format,
                width: image.width(),
                height: image.height(),
                bytes: encode::encode(image, format, quality, icc.as_deref(), self.avif_budget)?,
            });
        }
        Ok(outputs)
    }
}

/// `contain`'s box: the picture placed by the gravity, the rest transparent (JPEG flattens that onto
/// white) or the rendition's background.
fn pad(picture: DynamicImage, (width, height): (u32, u32), rendition: &Rendition) -> DynamicImage {
    if (picture.width(), picture.height()) == (width, height) {
        return picture;
    }
    let fill = rendition.background.map_or([0, 0, 0, 0], |b| b.0);
    let mut canvas = RgbaImage::from_pixel(width, height, image::Rgba(fill));
    let at = |axis: Axis, room: u32| {
        (f64::from(room) * rendition.gravity.fixed_place(axis)).round() as i64
    };
    let x = at(Axis::Horizontal, width.saturating_sub(picture.width()));
    let y = at(Axis::Vertical, height.saturating_sub(picture.height()));
    image::imageops::overlay(&mut canvas, &picture.to_rgba8(), x, y);
    if fill[3] == 255 && !picture.color().has_alpha() {
        DynamicImage::ImageRgb8(DynamicImage::ImageRgba8(canvas).to_rgb8())
    } else {
        DynamicImage::ImageRgba8(canvas)
    }
}
