//! Where a `cover` crop sits (and where `contain` puts the picture in its box): a fixed place (the
//! centre, an edge or a corner), or the part of the picture a person looks at, found on a small preview.
//!
//! - `attention`, as libvips' smartcrop of that name: a saliency map summing edges (detail),
//!   skin tones and saturation, and the window along the cropped side that holds the most of it.
//! - `entropy`, as libvips' `entropy`: the cropped side is trimmed a slice at a time from whichever end
//!   holds less information (lower Shannon entropy of its luminance).
//!
//! Both look only along the side that is cropped: a cover crop keeps the whole of the other side.

use image::RgbImage;
use serde::{Deserialize, Serialize};

use super::geometry::Axis;

/// The long edge of the preview the content-aware choices look at. Saliency is a coarse measure:
/// 256 px is what libvips' smartcrop works at too, and costs about a millisecond to score.
pub const PREVIEW_EDGE: u32 = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Gravity {
    #[default]
    #[serde(alias = "center")]
    Centre,
    North,
    Northeast,
    East,
    Southeast,
    South,
    Southwest,
    West,
    Northwest,
    Attention,
    Entropy,
}

impl Gravity {
    pub const NAMES: [&'static str; 11] = [
        "centre",
        "north",
        "northeast",
        "east",
        "southeast",
        "south",
        "southwest",
        "west",
        "northwest",
        "attention",
        "entropy",
    ];

    /// Whether the choice needs to see the picture.
    pub fn looks_at_content(self) -> bool {
        matches!(self, Gravity::Attention | Gravity::Entropy)
    }

    /// The fixed place along `axis`, from 0 (left or top) to 1 (right or bottom); the centre for the
    /// content-aware choices, which [`place`] handles.
    pub fn fixed_place(self, axis: Axis) -> f64 {
        use Gravity::*;
        match (axis, self) {
            (Axis::Horizontal, West | Northwest | Southwest) => 0.0,
            (Axis::Horizontal, East | Northeast | Southeast) => 1.0,
            (Axis::Vertical, North | Northwest | Northeast) => 0.0,
            (Axis::Vertical, South | Southwest | Southeast) => 1.0,
            _ => 0.5,
        }
    }
}

/// Where along `axis` a window of `fraction` (0..=1) of the side should start, as a share of the room
/// left (0 = first pixel, 1 = flush with the far end). `preview` is the upright picture, small.
pub fn place(gravity: Gravity, axis: Axis, fraction: f64, preview: Option<&RgbImage>) -> f64 {
    let profile = match (gravity, preview) {
        (Gravity::Attention, Some(preview)) => attention_profile(preview, axis),
        (Gravity::Entropy, Some(preview)) => return entropy_place(preview, axis, fraction),
        _ => return gravity.fixed_place(axis),
    };
    best_window(&profile, fraction)
}

/// The saliency of every column (or row) of the preview: the sum over the other axis.
fn attention_profile(preview: &RgbImage, axis: Axis) -> Vec<f64> {
    let saliency = saliency(preview);
    let (width, height) = preview.dimensions();
    let (width, height) = (width as usize, height as usize);
    let mut profile = vec![
        0.0;
        if axis == Axis::Horizontal {
            width
        } else {
            height
        }
    ];
    for y in 0..height {
        for x in 0..width {
            let at = if axis == Axis::Horizontal { x } else { y };
            profile[at] += saliency[y * width + x];
        }
    }
    profile
}

/// libvips' three cues, each scaled to about 0..1 per pixel: detail (the luminance's gradient), skin
/// (a classic RGB skin-tone rule, Kovač et al. 2003) and saturation. Flat sky or a blank wall scores
/// nothing; a face scores on all three.
fn saliency(preview: &RgbImage) -> Vec<f64> {
    let (width, height) = preview.dimensions();
    let (width, height) = (width as usize, height as usize);
    let luma: Vec<f64> = preview
        .pixels()
        .map(|p| 0.299 * f64::from(p[0]) + 0.587 * f64::from(p[1]) + 0.114 * f64::from(p[2]))
        .collect();
    let mut map = vec![0.0; width * height];
    for y in 0..height {
        for x in 0..width {
            let at = |dx: isize, dy: isize| {
                let xx = (x as isize + dx).clamp(0, width as isize - 1) as usize;
                let yy = (y as isize + dy).clamp(0, height as isize - 1) as usize;
                luma[yy * width + xx]
            };
            let gx = at(1, 0) - at(-1, 0);
            let gy = at(0, 1) - at(0, -1);
            let edge = (gx.hypot(gy) / 64.0).min(1.0);
            let p = preview.get_pixel(x as u32, y as u32);
            let (r, g, b) = (i32::from(p[0]), i32::from(p[1]), i32::from(p[2]));
            let (max, min) = (r.max(g).max(b), r.min(g).min(b));
            let skin = r > 95
                && g > 40
                && b > 20
                && max - min > 15
                && (r - g).abs() > 15
                && r > g
                && r > b;
            let saturation = if max == 0 {
                0.0
            } else {
                f64::from(max - min) / f64::from(max)
            };
            map[y * width + x] = edge + if skin { 1.0 } else { 0.0 } + 0.5 * saturation;
        }
    }
    map
}

/// The start of the window of `fraction` of the profile's length with the largest sum, as a share of
/// the room left; ties go to the window nearest the centre.
fn best_window(profile: &[f64], fraction: f64) -> f64 {
    let n = profile.len();
    let window = ((fraction * n as f64).round() as usize).clamp(1, n.max(1));
    if n == 0 || window >= n {
        return 0.5;
    }
    let room = n - window;
    let mut sum: f64 = profile[..window].iter().sum();
    let mut best = (sum, 0usize);
    let centre = room as f64 / 2.0;
    for start in 1..=room {
        sum += profile[start + window - 1] - profile[start - 1];
        let better = sum > best.0 + 1e-9
            || ((sum - best.0).abs() <= 1e-9
                && (start as f64 - centre).abs() < (best.1 as f64 - centre).abs());
        if better {
            best = (sum, start);
        }
    }
    best.1 as f64 / room as f64
}

/// libvips' `entropy`: trim the cropped side from whichever end holds less information until the
/// window is `fraction` of it.
fn entropy_place(preview: &RgbImage, axis: Axis, fraction: f64) -> f64 {
    let (width, height) = preview.dimensions();
    let n = if axis == Axis::Horizontal {
        width
    } else {
        height
    } as usize;
    let window = ((fraction * n as f64).round() as usize).clamp(1, n.max(1));
    if n == 0 || window >= n {
        return 0.5;
    }
    let (mut start, mut end) = (0usize, n);
    // Slices of about 1/32 of the side: fine enough to land within a few output pixels.
    let step = (n / 32).max(1);
    // Equal ends are trimmed in turn, so a flat picture keeps its centre.
    let mut head_turn = true;
    while end - start > window {
        let cut = step.min(end - start - window);
        let head = entropy(preview, axis, start, start + cut);
        let tail = entropy(preview, axis, end - cut, end);
        let trim_head = if (head - tail).abs() < 1e-9 {
            head_turn = !head_turn;
            !head_turn
        } else {
            head < tail
        };
        if trim_head {
            start += cut;
        } else {
            end -= cut;
        }
    }
    start as f64 / (n - window) as f64
}

/// Shannon entropy of the luminance histogram of the columns (or rows) `from..to`.
fn entropy(preview: &RgbImage, axis: Axis, from: usize, to: usize) -> f64 {
    let mut histogram = [0u32; 256];
    let mut count = 0u32;
    for (x, y, p) in preview.enumerate_pixels() {
        let at = if axis == Axis::Horizontal { x } else { y } as usize;
        if (from..to).contains(&at) {
            let luma =
                (299 * u32::from(p[0]) + 587 * u32::from(p[1]) + 114 * u32::from(p[2])) / 1000;
            histogram[luma.min(255) as usize] += 1;
            count += 1;
        }
    }
    if count == 0 {
        return 0.0;
    }
    histogram
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / f64::from(count);
            -p * p.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgb;

    /// A flat grey picture with a `square`-sided patch at (`x`, `y`) painted by `paint`.
    fn scene(
        width: u32,
        height: u32,
        patch: (u32, u32, u32),
        paint: fn(u32, u32) -> Rgb<u8>,
    ) -> RgbImage {
        let (px, py, side) = patch;
        RgbImage::from_fn(width, height, |x, y| {
            if (px..px + side).contains(&x) && (py..py + side).contains(&y) {
                paint(x, y)
            } else {
                Rgb([128, 128, 128])
            }
        })
    }

    fn skin(_: u32, _: u32) -> Rgb<u8> {
        Rgb([224, 172, 140])
    }

    fn texture(x: u32, y: u32) -> Rgb<u8> {
        let v = ((x * 37 + y * 91) % 251) as u8;
        Rgb([v, v.wrapping_mul(3), 255 - v])
    }

    #[test]
    fn fixed_places() {
        assert_eq!(Gravity::Northwest.fixed_place(Axis::Horizontal), 0.0);
        assert_eq!(Gravity::Northwest.fixed_place(Axis::Vertical), 0.0);
        assert_eq!(Gravity::Southeast.fixed_place(Axis::Vertical), 1.0);
        assert_eq!(Gravity::East.fixed_place(Axis::Vertical), 0.5);
        assert_eq!(Gravity::Centre.fixed_place(Axis::Horizontal), 0.5);
    }

    #[test]
    fn attention_finds_a_face_off_centre() {
        // 256x128, a skin-toned patch near the right edge: a square crop must hold it.
        let preview = scene(256, 128, (200, 40, 40), skin);
        let at = place(Gravity::Attention, Axis::Horizontal, 0.5, Some(&preview));
        let (left, right) = (at * 128.0, at * 128.0 + 128.0);
        assert!(left <= 200.0 && right >= 240.0, "window {left}..{right}");
        // The same patch near the top of a portrait picture.
        let preview = scene(128, 256, (40, 10, 40), skin);
        let at = place(Gravity::Attention, Axis::Vertical, 0.5, Some(&preview));
        assert!(at * 128.0 <= 10.0, "window starts at {}", at * 128.0);
    }

    #[test]
    fn entropy_keeps_the_detailed_side() {
        let preview = scene(256, 128, (0, 0, 100), texture);
        let at = place(Gravity::Entropy, Axis::Horizontal, 0.5, Some(&preview));
        assert!(at < 0.1, "detail on the left, window at {at}");
        let preview = scene(256, 128, (156, 28, 100), texture);
        let at = place(Gravity::Entropy, Axis::Horizontal, 0.5, Some(&preview));
        assert!(at > 0.9, "detail on the right, window at {at}");
    }

    #[test]
    fn a_flat_picture_is_cropped_in_the_centre() {
        let flat = RgbImage::from_pixel(200, 100, Rgb([10, 200, 30]));
        assert_eq!(
            place(Gravity::Attention, Axis::Horizontal, 0.5, Some(&flat)),
            0.5
        );
        let at = place(Gravity::Entropy, Axis::Horizontal, 0.5, Some(&flat));
        assert!((at - 0.5).abs() <= 0.1, "{at}");
    }

    #[test]
    fn tiny_and_degenerate_previews_never_panic() {
        for (w, h) in [(1, 1), (1, 50), (50, 1), (2, 3)] {
            let preview = RgbImage::from_pixel(w, h, Rgb([1, 2, 3]));
            for gravity in [Gravity::Attention, Gravity::Entropy] {
                for axis in [Axis::Horizontal, Axis::Vertical] {
                    for fraction in [0.0, 0.01, 0.5, 1.0] {
                        let at = place(gravity, axis, fraction, Some(&preview));
                        assert!((0.0..=1.0).contains(&at));
                    }
                }
            }
        }
    }
}
