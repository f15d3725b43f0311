//! Turns the picture upright, so the output needs no EXIF orientation tag (it carries none).

use image::metadata::Orientation;
use image::DynamicImage;

pub fn upright(mut image: DynamicImage, orientation: Orientation) -> DynamicImage {
    if orientation != Orientation::NoTransforms {
        image.apply_orientation(orientation);
    }
    image
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
