//! The measurement behind `engine::encode::avif::SPEED_COST_MS_PER_MEGAPIXEL`: how long rav1e takes per
//! megapixel at each speed, on one core, for photos fitted the way the engine fits them.
//!
//!     cargo run --release -p imgresize --example avif_speed -- OUT_DIR SIZE QUALITY SPEEDS PHOTO...
//!     e.g. taskset -c 1 cargo run ... -- /tmp/avif 1000 82 4,5,6,7,8,9,10 ../shared/corpus/photos/*.jpg
//!
//! Prints one JSON line per photo and speed (median of 3 encodes) and writes each AVIF into OUT_DIR, for
//! DSSIM against the same fitted image (`OUT_DIR/<stem>.<size>.png`, also written).

use std::path::Path;
use std::time::{Duration, Instant};

use imgresize::engine::encode::avif;
use imgresize::engine::{self, ColorMode, Limits, Options, OutputFormat};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [out_dir, size, quality, speeds, photos @ ..] = args.as_slice() else {
        eprintln!("usage: avif_speed OUT_DIR SIZE QUALITY SPEEDS PHOTO...");
        std::process::exit(2);
    };
    let size: u32 = size.parse().expect("SIZE");
    let quality: u8 = quality.parse().expect("QUALITY");
    let speeds: Vec<u8> = speeds
        .split(',')
        .map(|s| s.parse().expect("SPEEDS"))
        .collect();
    std::fs::create_dir_all(out_dir).expect("OUT_DIR");
    for photo in photos {
        let data = std::fs::read(photo).expect("photo");
        // The engine's own pipeline up to the encoder, written losslessly.
        let options = Options {
            size,
            format: Some(OutputFormat::Png),
            quality,
            color: ColorMode::Srgb,
            avif_budget: Duration::from_secs(900),
        };
        let limits = Limits {
            max_pixels: u64::MAX,
        };
        let png = engine::resize(&data, &options, &limits).expect("resizes");
        let stem = Path::new(photo)
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("photo");
        let reference = format!("{out_dir}/{stem}.{size}.png");
        std::fs::write(&reference, &png.bytes).expect("write png");
        let fitted = image::load_from_memory(&png.bytes).expect("png");
        let megapixels = f64::from(fitted.width()) * f64::from(fitted.height()) / 1e6;
        for &speed in &speeds {
            let mut times = Vec::new();
            let mut bytes = Vec::new();
            for _ in 0..3 {
                let started = Instant::now();
                bytes = avif::encode_at_speed(&fitted, quality, speed).expect("encodes");
                times.push(started.elapsed().as_secs_f64() * 1000.0);
            }
            times.sort_by(f64::total_cmp);
            let out = format!("{out_dir}/{stem}.{size}.q{quality}.s{speed}.avif");
            std::fs::write(&out, &bytes).expect("write avif");
            println!(
                "{{\"photo\":\"{stem}\",\"size\":{size},\"quality\":{quality},\"speed\":{speed},\"megapixels\":{megapixels:.3},\"ms\":{:.1},\"ms_per_megapixel\":{:.0},\"bytes\":{},\"out\":\"{out}\",\"reference\":\"{reference}\"}}",
                times[1],
                times[1] / megapixels,
                bytes.len()
            );
        }
    }
}
