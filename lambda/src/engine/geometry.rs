//! Output dimensions and crops: fit inside a box (never upscale), cover it (crop), or contain it (pad).

/// The largest box edge a request may ask for.
pub const MAX_SIZE: u32 = 10_000;

/// Dimensions of a `width`×`height` image fitted inside a `size`-sided square.
///
/// The long edge becomes exactly `size` (or stays, if already inside); the short edge is rounded to
/// the nearest pixel and is never 0.
pub fn fit(width: u32, height: u32, size: u32) -> (u32, u32) {
    let long = width.max(height);
    if long <= size || long == 0 {
        return (width, height);
    }
    if width >= height {
        (size, scaled(height, size, long))
    } else {
        (scaled(width, size, long), size)
    }
}

/// `edge × numerator / denominator`, rounded to the nearest pixel, never 0.
fn scaled(edge: u32, numerator: u32, denominator: u32) -> u32 {
    let exact = (u64::from(edge) * u64::from(numerator) + u64::from(denominator) / 2)
        / u64::from(denominator.max(1));
    u32::try_from(exact).unwrap_or(u32::MAX).max(1)
}

/// Dimensions of a `width`×`height` image fitted inside a `box_width`×`box_height` box, never
/// upscaled. A square box gives exactly [`fit`]'s answer (a property test holds it to that).
pub fn fit_inside(width: u32, height: u32, box_width: u32, box_height: u32) -> (u32, u32) {
    if width == 0 || height == 0 || (width <= box_width && height <= box_height) {
        return (width, height);
    }
    // The side that meets its edge of the box first sets the scale; compared without division.
    if u64::from(width) * u64::from(box_height) >= u64::from(height) * u64::from(box_width) {
        (box_width, scaled(height, box_width, width).min(box_height))
    } else {
        (scaled(width, box_height, height).min(box_width), box_height)
    }
}

/// Dimensions of a `width`×`height` image scaled to fit a box exactly on one side and inside it on the
/// other, enlarging if it must (`contain`: the rest of the box is padding).
pub fn fit_contain(width: u32, height: u32, box_width: u32, box_height: u32) -> (u32, u32) {
    if width == 0 || height == 0 {
        return (box_width, box_height);
    }
    if u64::from(width) * u64::from(box_height) >= u64::from(height) * u64::from(box_width) {
        (box_width, scaled(height, box_width, width).min(box_height))
    } else {
        (scaled(width, box_height, height).min(box_width), box_height)
    }
}

/// A rectangle in an image's pixel coordinates; fractional, because a crop is passed to the resampler
/// as it is (rounding it first would shift the picture by up to half a source pixel).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    pub left: f64,
    pub top: f64,
    pub width: f64,
    pub height: f64,
}

/// The part of a `width`×`height` image that, scaled, fills a `box_width`×`box_height` box exactly
/// (`cover`): the whole of one side and the box's aspect ratio on the other. `place` says where along
/// the cropped side it sits, from 0 (left or top) to 1 (right or bottom), given the crop's length and
/// the side's length.
pub fn cover_crop(
    width: u32,
    height: u32,
    box_width: u32,
    box_height: u32,
    place: impl Fn(Axis, f64, f64) -> f64,
) -> Rect {
    let (w, h) = (f64::from(width), f64::from(height));
    let (bw, bh) = (f64::from(box_width), f64::from(box_height));
    if w * bh >= h * bw {
        // Wider than the box: full height, a slice of the width.
        let crop = (h * bw / bh).min(w);
        let left = (w - crop) * place(Axis::Horizontal, crop, w).clamp(0.0, 1.0);
        Rect {
            left,
            top: 0.0,
            width: crop,
            height: h,
        }
    } else {
        let crop = (w * bh / bw).min(h);
        let top = (h - crop) * place(Axis::Vertical, crop, h).clamp(0.0, 1.0);
        Rect {
            left: 0.0,
            top,
            width: w,
            height: crop,
        }
    }
}

/// Which side of the image a cover crop cuts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Axis {
    Horizontal,
    Vertical,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn landscape_and_portrait() {
        assert_eq!(fit(4032, 3024, 1000), (1000, 750));
        assert_eq!(fit(3024, 4032, 1000), (750, 1000));
        assert_eq!(fit(4608, 1976, 1000), (1000, 429));
        assert_eq!(fit(2000, 2000, 1000), (1000, 1000));
    }

    #[test]
    fn rounds_to_nearest_and_never_reaches_zero() {
        assert_eq!(fit(3000, 1001, 1000), (1000, 334));
        assert_eq!(fit(10_000, 1, 100), (100, 1));
        assert_eq!(fit(1, 10_000, 1), (1, 1));
    }

    #[test]
    fn never_upscales() {
        assert_eq!(fit(640, 480, 1000), (640, 480));
        assert_eq!(fit(1000, 10, 1000), (1000, 10));
    }

    #[test]
    fn boxes_that_are_not_square() {
        assert_eq!(fit_inside(4000, 3000, 1280, 10_000), (1280, 960));
        assert_eq!(fit_inside(4000, 3000, 10_000, 300), (400, 300));
        assert_eq!(fit_inside(600, 400, 1280, 1280), (600, 400));
        assert_eq!(fit_contain(600, 400, 1200, 1200), (1200, 800));
        assert_eq!(fit_contain(4000, 1000, 500, 500), (500, 125));
    }

    #[test]
    fn cover_crops_the_long_side_only() {
        let centre = |_: Axis, _: f64, _: f64| 0.5;
        let crop = cover_crop(4000, 3000, 320, 320, centre);
        assert_eq!(
            crop,
            Rect {
                left: 500.0,
                top: 0.0,
                width: 3000.0,
                height: 3000.0
            }
        );
        let top = cover_crop(3000, 4000, 1600, 900, |_, _, _| 0.0);
        assert_eq!((top.left, top.top, top.width), (0.0, 0.0, 3000.0));
        assert!((top.height - 1687.5).abs() < 1e-9);
    }

    proptest! {
        #[test]
        fn a_square_box_fits_like_fit(w in 1u32..100_000, h in 1u32..100_000, size in 1u32..=MAX_SIZE) {
            prop_assert_eq!(fit_inside(w, h, size, size), fit(w, h, size));
        }

        #[test]
        fn inside_and_contain_stay_in_the_box(w in 1u32..50_000, h in 1u32..50_000, bw in 1u32..=MAX_SIZE, bh in 1u32..=MAX_SIZE) {
            let (iw, ih) = fit_inside(w, h, bw, bh);
            prop_assert!(iw >= 1 && ih >= 1 && iw <= w && ih <= h);
            prop_assert!(iw <= bw && ih <= bh);
            let (cw, ch) = fit_contain(w, h, bw, bh);
            prop_assert!(cw >= 1 && ch >= 1 && cw <= bw && ch <= bh);
            prop_assert!(cw == bw || ch == bh);
        }

        #[test]
        fn a_cover_crop_has_the_box_aspect_and_stays_inside(
            w in 1u32..50_000, h in 1u32..50_000, bw in 1u32..=MAX_SIZE, bh in 1u32..=MAX_SIZE, at in 0.0f64..=1.0,
        ) {
            let crop = cover_crop(w, h, bw, bh, |_, _, _| at);
            prop_assert!(crop.left >= 0.0 && crop.top >= 0.0);
            prop_assert!(crop.left + crop.width <= f64::from(w) + 1e-6);
            prop_assert!(crop.top + crop.height <= f64::from(h) + 1e-6);
            prop_assert!(crop.width == f64::from(w) || crop.height == f64::from(h));
            let aspect = crop.width / crop.height - f64::from(bw) / f64::from(bh);
            prop_assert!(aspect.abs() <= 1e-6 * f64::from(bw).max(f64::from(bh)) || crop.width == f64::from(w) && crop.height == f64::from(h));
        }

        #[test]
        fn result_fits_and_keeps_aspect(w in 1u32..100_000, h in 1u32..100_000, size in 1u32..=MAX_SIZE) {
            let (tw, th) = fit(w, h, size);
            prop_assert!(tw >= 1 && th >= 1);
            prop_assert!(tw <= w && th <= h);
            prop_assert!(tw.max(th) == size.min(w.max(h)));
            // Aspect error is at most half a pixel on the short edge.
            let exact = f64::from(w.min(h)) * f64::from(tw.max(th)) / f64::from(w.max(h));
            prop_assert!((f64::from(tw.min(th)) - exact).abs() <= 0.5 + 1e-9 || tw.min(th) == 1);
        }

        /// The engine resamples before turning the picture upright: that is only right if fitting
        /// a turned picture gives the turned size.
        #[test]
        fn fitting_does_not_depend_on_orientation(w in 1u32..100_000, h in 1u32..100_000, size in 1u32..=MAX_SIZE) {
            let (tw, th) = fit(w, h, size);
            prop_assert_eq!(fit(h, w, size), (th, tw));
        }
    }
}
