//! Output dimensions: fit inside a `size`×`size` box, keep the aspect ratio, never upscale.

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
    let scale = |edge: u32| -> u32 {
        let scaled = (u64::from(edge) * u64::from(size) + u64::from(long) / 2) / u64::from(long);
        u32::try_from(scaled).unwrap_or(size).max(1)
    };
    if width >= height {
        (size, scale(height))
    } else {
        (scale(width), size)
    }
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

    proptest! {
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
