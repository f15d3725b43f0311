//! How alike two renderings of one picture are, for comparing the outputs of two builds of the engine.
//!
//! DSSIM here is `1 / SSIM - 1` (the scale of the `dssim` tool the benchmark uses: 0 is identical), from
//! the reference single-scale SSIM of Wang et al. (2004) on BT.601 luma: an 11x11 Gaussian window
//! (sigma 1.5), C1 = (0.01 L)^2, C2 = (0.03 L)^2, L = 255. The `dssim` tool itself is multi-scale in L*a*b*
//! and AGPL-licensed (a separate program for the benchmark, not a library to link here); both read 0 for
//! identical pictures and grow alike with structural change. Colour shifts, which luma SSIM barely sees,
//! are measured apart by [`mean_difference`].

use image::RgbImage;

const WINDOW_RADIUS: i64 = 5;
const SIGMA: f64 = 1.5;
const C1: f64 = (0.01 * 255.0) * (0.01 * 255.0);
const C2: f64 = (0.03 * 255.0) * (0.03 * 255.0);

/// `1 / SSIM - 1` of two images of the same size (see the module docs). Images smaller than the window
/// are compared whole, as one window.
pub fn dssim(a: &RgbImage, b: &RgbImage) -> f64 {
    assert_eq!(a.dimensions(), b.dimensions(), "compare images of one size");
    let (width, height) = (a.width() as usize, a.height() as usize);
    let (x, y) = (luma(a), luma(b));
    let ssim = if width < 11 || height < 11 {
        ssim_of_window(&x, &y, &vec![1.0 / (x.len() as f64); x.len()])
    } else {
        let blur = |values: &[f64]| gaussian_blur(values, width, height);
        let (mu_x, mu_y) = (blur(&x), blur(&y));
        let xx: Vec<f64> = x.iter().map(|v| v * v).collect();
        let yy: Vec<f64> = y.iter().map(|v| v * v).collect();
        let xy: Vec<f64> = x.iter().zip(&y).map(|(p, q)| p * q).collect();
        let (sxx, syy, sxy) = (blur(&xx), blur(&yy), blur(&xy));
        let r = WINDOW_RADIUS as usize;
        let mut total = 0.0;
        let mut count = 0usize;
        // Only where the whole window lies inside the image (the reference implementation's "valid").
        for row in r..height - r {
            for column in r..width - r {
                let i = row * width + column;
                let (mx, my) = (mu_x[i], mu_y[i]);
                let var_x = sxx[i] - mx * mx;
                let var_y = syy[i] - my * my;
                let cov = sxy[i] - mx * my;
                total += ((2.0 * mx * my + C1) * (2.0 * cov + C2))
                    / ((mx * mx + my * my + C1) * (var_x + var_y + C2));
                count += 1;
            }
        }
        total / count as f64
    };
    1.0 / ssim - 1.0
}

/// Mean absolute difference per channel, 0..=255.
pub fn mean_difference(a: &RgbImage, b: &RgbImage) -> f64 {
    assert_eq!(a.dimensions(), b.dimensions(), "compare images of one size");
    let total: u64 = a
        .as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(p, q)| u64::from(p.abs_diff(*q)))
        .sum();
    total as f64 / a.as_raw().len().max(1) as f64
}

fn luma(image: &RgbImage) -> Vec<f64> {
    image
        .pixels()
        .map(|p| 0.299 * f64::from(p[0]) + 0.587 * f64::from(p[1]) + 0.114 * f64::from(p[2]))
        .collect()
}

fn ssim_of_window(x: &[f64], y: &[f64], weights: &[f64]) -> f64 {
    let mean = |v: &[f64]| v.iter().zip(weights).map(|(a, w)| a * w).sum::<f64>();
    let (mx, my) = (mean(x), mean(y));
    let var = |v: &[f64], m: f64| {
        v.iter()
            .zip(weights)
            .map(|(a, w)| w * (a - m) * (a - m))
            .sum::<f64>()
    };
    let cov = x
        .iter()
        .zip(y)
        .zip(weights)
        .map(|((a, b), w)| w * (a - mx) * (b - my))
        .sum::<f64>();
    ((2.0 * mx * my + C1) * (2.0 * cov + C2))
        / ((mx * mx + my * my + C1) * (var(x, mx) + var(y, my) + C2))
}

/// Separable normalised Gaussian; values near the border are only used for windows that fit, so the
/// clamping there never reaches a result.
fn gaussian_blur(values: &[f64], width: usize, height: usize) -> Vec<f64> {
    let kernel: Vec<f64> = (-WINDOW_RADIUS..=WINDOW_RADIUS)
        .map(|d| (-((d * d) as f64) / (2.0 * SIGMA * SIGMA)).exp())
        .collect();
    let sum: f64 = kernel.iter().sum();
    let kernel: Vec<f64> = kernel.iter().map(|k| k / sum).collect();
    let clamp = |v: i64, max: usize| v.clamp(0, max as i64 - 1) as usize;
    let mut horizontal = vec![0.0; values.len()];
    for row in 0..height {
        for column in 0..width {
            horizontal[row * width + column] = kernel
                .iter()
                .enumerate()
                .map(|(k, weight)| {
                    let c = clamp(column as i64 + k as i64 - WINDOW_RADIUS, width);
                    weight * values[row * width + c]
                })
                .sum();
        }
    }
    let mut out = vec![0.0; values.len()];
    for row in 0..height {
        for column in 0..width {
            out[row * width + column] = kernel
                .iter()
                .enumerate()
                .map(|(k, weight)| {
                    let r = clamp(row as i64 + k as i64 - WINDOW_RADIUS, height);
                    weight * horizontal[r * width + column]
                })
                .sum();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgb;

    fn picture(seed: u32) -> RgbImage {
        RgbImage::from_fn(64, 48, |x, y| {
            let v = ((x * 7 + y * 13 + seed) % 256) as u8;
            Rgb([v, v / 2, 255 - v])
        })
    }

    #[test]
    fn identical_is_zero_and_noise_is_not() {
        let a = picture(0);
        assert!(dssim(&a, &a).abs() < 1e-12);
        let mut noisy = a.clone();
        for (i, p) in noisy.pixels_mut().enumerate() {
            p[0] = p[0].wrapping_add((i % 7) as u8 * 9);
        }
        // Visible noise is far above the 0.0005 the arm64 test allows.
        assert!(dssim(&a, &noisy) > 0.005, "{}", dssim(&a, &noisy));
        // One level everywhere is structurally nothing.
        let brighter = RgbImage::from_fn(64, 48, |x, y| {
            let p = a.get_pixel(x, y);
            Rgb([
                p[0].saturating_add(1),
                p[1].saturating_add(1),
                p[2].saturating_add(1),
            ])
        });
        assert!(dssim(&a, &brighter) < 0.0005);
        assert!(mean_difference(&a, &brighter) <= 1.0);
    }
}
