//! Turns the picture upright, so the output needs no EXIF orientation tag (it carries none).

use image::metadata::Orientation;
use image::DynamicImage;

use super::geometry::Rect;

pub fn upright(mut image: DynamicImage, orientation: Orientation) -> DynamicImage {
    if orientation != Orientation::NoTransforms {
        image.apply_orientation(orientation);
    }
    image
}

/// Whether turning upright swaps width and height.
pub fn swaps_sides(orientation: Orientation) -> bool {
    matches!(
        orientation,
        Orientation::Rotate90
            | Orientation::Rotate270
            | Orientation::Rotate90FlipH
            | Orientation::Rotate270FlipH
    )
}

/// The upright picture's size, from the stored image's.
pub fn upright_size(width: u32, height: u32, orientation: Orientation) -> (u32, u32) {
    if swaps_sides(orientation) {
        (height, width)
    } else {
        (width, height)
    }
}

/// Where a rectangle of the upright picture lies in the stored `width`×`height` image: crops are chosen
/// on the picture a person sees and cut from the stored pixels, so only the small output is turned.
pub fn stored_rect(rect: Rect, width: u32, height: u32, orientation: Orientation) -> Rect {
    let (w, h) = (f64::from(width), f64::from(height));
    let Rect {
        left: x,
        top: y,
        width: rw,
        height: rh,
    } = rect;
    let (left, top, across, down) = match orientation {
        Orientation::NoTransforms => (x, y, rw, rh),
        Orientation::FlipHorizontal => (w - x - rw, y, rw, rh),
        Orientation::Rotate180 => (w - x - rw, h - y - rh, rw, rh),
        Orientation::FlipVertical => (x, h - y - rh, rw, rh),
        // EXIF 5: transpose.
        Orientation::Rotate90FlipH => (y, x, rh, rw),
        // EXIF 6: the stored image is turned a quarter clockwise to stand upright.
        Orientation::Rotate90 => (y, h - x - rw, rh, rw),
        // EXIF 7: transverse.
        Orientation::Rotate270FlipH => (w - y - rh, h - x - rw, rh, rw),
        // EXIF 8.
        Orientation::Rotate270 => (w - y - rh, x, rh, rw),
    };
    Rect {
        left,
        top,
        width: across,
        height: down,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{GrayImage, Luma};

    /// A 3x2 image whose pixel values are their own index, so every transform is visible.
    fn sample() -> DynamicImage {
        DynamicImage::ImageLuma8(GrayImage::from_fn(3, 2, |x, y| Luma([(y * 3 + x) as u8])))
    }

    /// Width, height and the pixel values row by row.
    type Grid = (u32, u32, Vec<u8>);

    fn pixels(image: &DynamicImage) -> Grid {
        let gray = image.to_luma8();
        (gray.width(), gray.height(), gray.into_raw())
    }

    /// Cutting the stored image at `stored_rect` and turning it upright gives the same pixels as turning
    /// it upright and cutting at the upright rectangle: the proof that crops may be cut before turning.
    #[test]
    fn a_crop_cut_before_turning_is_the_crop_after() {
        let stored =
            DynamicImage::ImageLuma8(GrayImage::from_fn(7, 5, |x, y| Luma([(y * 7 + x) as u8])));
        for exif in 1..=8 {
            let orientation = Orientation::from_exif(exif).expect("valid EXIF value");
            let turned = upright(stored.clone(), orientation);
            let (uw, uh) = (turned.width(), turned.height());
            assert_eq!((uw, uh), upright_size(7, 5, orientation));
            for (x, y, w, h) in [
                (0, 0, uw, uh),
                (1, 2, 2, 1),
                (uw - 2, 0, 2, uh),
                (0, 1, uw, 2),
            ] {
                let rect = Rect {
                    left: f64::from(x),
                    top: f64::from(y),
                    width: f64::from(w),
                    height: f64::from(h),
                };
                let at = stored_rect(rect, 7, 5, orientation);
                let cut = stored.crop_imm(
                    at.left as u32,
                    at.top as u32,
                    at.width as u32,
                    at.height as u32,
                );
                assert_eq!(
                    pixels(&upright(cut, orientation)),
                    pixels(&turned.crop_imm(x, y, w, h)),
                    "orientation {exif}, rect {rect:?}"
                );
            }
        }
    }

    #[test]
    fn all_eight_orientations() {
        // EXIF value → expected result for the grid 0 1 2 / 3 4 5.
        let expected: [(u8, Grid); 8] = [
            (1, (3, 2, vec![0, 1, 2, 3, 4, 5])),
            (2, (3, 2, vec![2, 1, 0, 5, 4, 3])),
            (3, (3, 2, vec![5, 4, 3, 2, 1, 0])),
            (4, (3, 2, vec![3, 4, 5, 0, 1, 2])),
            (5, (2, 3, vec![0, 3, 1, 4, 2, 5])),
            (6, (2, 3, vec![3, 0, 4, 1, 5, 2])),
            (7, (2, 3, vec![5, 2, 4, 1, 3, 0])),
            (8, (2, 3, vec![2, 5, 1, 4, 0, 3])),
        ];
        for (exif, want) in expected {
            let orientation = Orientation::from_exif(exif).expect("valid EXIF value");
            assert_eq!(
                pixels(&upright(sample(), orientation)),
                want,
                "orientation {exif}"
            );
        }
    }
}
