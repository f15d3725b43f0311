//! Renditions: many outputs from one upload, through the real handler (on the in-memory store of
//! `support/memory_store.rs`) and the engine.
//!
//! - the configured set and a request's own, their keys and the answer listing every output;
//! - all or nothing: a failed write removes what this invocation wrote, and only that;
//! - `cover`, `contain` and `inside` on a picture stored sideways (EXIF 6): crops and padding are chosen on
//!   the upright picture, whichever way its pixels are stored;
//! - renditions made in parallel are the same bytes as made one after another.

use image::{DynamicImage, GenericImageView, Rgb, RgbImage};
#[path = "support/config.rs"]
mod support_config;
use imgresize::engine::{self, encode, ColorMode, Job, Limits, OutputFormat, Rendition};
use imgresize::handler::Handler;
use serde_json::{json, Value};
use support_config::config;

#[path = "support/memory_store.rs"]
mod memory_store;
use memory_store::{tiny_jpeg, MemoryStore};

const SOURCE: &str = "originals";
const DEST: &str = "resized";
const KEY: &str = "photos/cat.jpg";

fn handler(store: &MemoryStore, extra: &[(&str, &str)]) -> Handler<MemoryStore> {
    let mut vars = vec![("DEST_BUCKET", DEST), ("ALLOWED_SOURCE_BUCKETS", SOURCE)];
    vars.extend_from_slice(extra);
    Handler::new(config(&vars), store.clone())
}

/// A 300x200 photo-like JPEG.
fn photo() -> Vec<u8> {
    let picture = RgbImage::from_fn(300, 200, |x, y| {
        Rgb([(x % 256) as u8, (y * 255 / 200) as u8, ((x + y) % 97) as u8])
    });
    encode::encode(
        &DynamicImage::ImageRgb8(picture),
        OutputFormat::Jpeg,
        90,
        None,
        std::time::Duration::MAX,
    )
    .expect("a test JPEG")
}

fn store_with(body: Vec<u8>) -> MemoryStore {
    let store = MemoryStore::default();
    store.insert(SOURCE, KEY, body);
    store
}

const SET: &str = r#"[
    {"name": "thumb", "size": 64, "fit": "cover", "formats": ["webp", "jpeg"]},
    {"name": "card", "width": 150},
    {"name": "tile", "width": 120, "height": 90, "fit": "contain", "formats": ["png"]}
]"#;

fn dimensions(bytes: &[u8]) -> (u32, u32) {
    image::load_from_memory(bytes)
        .map(|image| image.dimensions())
        .unwrap_or_else(|e| panic!("an output that does not decode: {e}"))
}

#[tokio::test]
async fn the_configured_renditions_are_all_written_and_listed() {
    let store = store_with(photo());
    let handler = handler(&store, &[("RENDITIONS", SET)]);
    // The upload path's input when renditions are configured: the module renders `size` as null.
    let event = json!({"bucket": SOURCE, "key": KEY, "size": null, "keyEncoding": "url", "sequencer": "0A"});
    let answer = handler.handle(&event).await.expect("an answer");
    assert_eq!(answer["ok"], json!(true), "{answer}");
    let expected = [
        ("thumb", "webp", "output/photos/cat_thumb.webp", (64, 64)),
        ("thumb", "jpeg", "output/photos/cat_thumb.jpg", (64, 64)),
        ("card", "jpeg", "output/photos/cat_card.jpg", (150, 100)),
        ("tile", "png", "output/photos/cat_tile.png", (120, 90)),
    ];
    let outputs = answer["outputs"].as_array().expect("outputs");
    assert_eq!(outputs.len(), expected.len(), "{answer}");
    for (output, (name, format, key, (width, height))) in outputs.iter().zip(expected) {
        assert_eq!(output["name"], json!(name), "{output}");
        assert_eq!(output["format"], json!(format), "{output}");
        assert_eq!(output["key"], json!(key), "{output}");
        assert_eq!(
            (output["width"].clone(), output["height"].clone()),
            (json!(width), json!(height))
        );
        let bytes = store
            .object(DEST, key)
            .unwrap_or_else(|| panic!("{key} not written"));
        assert_eq!(output["bytes"], json!(bytes.len()));
        assert_eq!(dimensions(&bytes), (width, height), "{key}");
    }
    // The seed's fields describe the first output.
    assert_eq!(answer["destKey"], json!("output/photos/cat_thumb.webp"));
    assert_eq!(answer["format"], json!("webp"));
    // One GetObject for every output.
    assert_eq!(store.gets().len(), 1);

    // The same event again: every output is current, nothing is decoded or written.
    store.reset_calls();
    let again = handler.handle(&event).await.expect("an answer");
    assert_eq!(again["skipped"], json!(true), "{again}");
    assert_eq!(again["reason"], json!("UP_TO_DATE"));
    assert_eq!(again["outputs"].as_array().map(Vec::len), Some(4));
    assert!(store.puts().is_empty());
}

#[tokio::test]
async fn the_seeds_input_still_makes_the_seeds_single_output() {
    let store = store_with(photo());
    // Even with renditions configured, `size` (or `format`) asks for the one classic output.
    let handler = handler(&store, &[("RENDITIONS", SET)]);
    let answer = handler
        .handle(&json!({"bucket": SOURCE, "key": KEY, "size": 100}))
        .await
        .expect("an answer");
    assert_eq!(
        answer["destKey"],
        json!("output/photos/cat_resized.jpg"),
        "{answer}"
    );
    assert_eq!(answer["outputs"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        (answer["width"].clone(), answer["height"].clone()),
        (json!(100), json!(67))
    );
}

#[tokio::test]
async fn a_request_may_bring_its_own_renditions() {
    let store = store_with(photo());
    let handler = handler(&store, &[]);
    let request = json!({"bucket": SOURCE, "key": KEY, "renditions": [
        {"name": "square", "size": 50, "fit": "cover", "gravity": "attention"},
        {"name": "wide", "width": 200, "height": 50, "fit": "cover", "gravity": "north"}
    ]});
    let answer = handler.handle(&request).await.expect("an answer");
    assert_eq!(
        answer["outputs"][0]["key"],
        json!("output/photos/cat_square.jpg"),
        "{answer}"
    );
    assert_eq!(
        answer["outputs"][1]["key"],
        json!("output/photos/cat_wide.jpg")
    );
    let wide = store
        .object(DEST, "output/photos/cat_wide.jpg")
        .expect("written");
    assert_eq!(dimensions(&wide), (200, 50));
    // A set that is not allowed is a rejection naming the problem, before anything is read.
    let store = store_with(photo());
    let handler = self::handler(&store, &[]);
    let too_many: Vec<Value> = (0..11)
        .map(|i| json!({"name": format!("r{i}"), "size": 10}))
        .collect();
    let answer = handler
        .handle(&json!({"bucket": SOURCE, "key": KEY, "renditions": too_many}))
        .await
        .expect("an answer");
    assert_eq!(
        answer["error"]["code"],
        json!("INVALID_REQUEST"),
        "{answer}"
    );
    assert!(store.gets().is_empty());
}

#[tokio::test]
async fn a_failed_write_removes_what_this_invocation_wrote_and_nothing_else() {
    let store = store_with(photo());
    // An earlier run made `card` alone: it stays current and must survive the failure below.
    let earlier = handler(
        &store,
        &[("RENDITIONS", r#"[{"name": "card", "width": 150}]"#)],
    );
    let first = earlier
        .handle(&json!({"bucket": SOURCE, "key": KEY}))
        .await
        .expect("an answer");
    assert_eq!(first["ok"], json!(true), "{first}");
    let card = store
        .object(DEST, "output/photos/cat_card.jpg")
        .expect("card");
    // An object of someone else's under the prefix.
    store.insert(DEST, "output/photos/other.jpg", tiny_jpeg());

    store.fail_puts_of("_tile");
    let handler = handler(&store, &[("RENDITIONS", SET)]);
    let result = handler.handle(&json!({"bucket": SOURCE, "key": KEY})).await;
    let error = match result {
        Err(error) => error,
        Ok(answer) => panic!("a failed write answered {answer}"),
    };
    // S3 trouble: a retryable failure naming the rendition, not a rejection.
    assert_eq!(error.code(), "TRANSIENT");
    assert!(error.to_string().contains("\"tile\""), "{error}");
    // thumb (both formats) was written before tile failed, and removed; card was current, not touched.
    assert_eq!(store.object(DEST, "output/photos/cat_thumb.webp"), None);
    assert_eq!(store.object(DEST, "output/photos/cat_thumb.jpg"), None);
    assert_eq!(store.object(DEST, "output/photos/cat_tile.png"), None);
    assert_eq!(store.object(DEST, "output/photos/cat_card.jpg"), Some(card));
    assert!(store.object(DEST, "output/photos/other.jpg").is_some());
    let mut deleted = store.deletes();
    deleted.sort();
    assert_eq!(
        deleted,
        [
            "output/photos/cat_thumb.jpg",
            "output/photos/cat_thumb.webp"
        ]
    );
}

#[tokio::test]
async fn a_broken_image_writes_nothing() {
    let mut broken = photo();
    broken.truncate(broken.len() / 2);
    let store = store_with(broken);
    let handler = handler(&store, &[("RENDITIONS", SET)]);
    let answer = handler
        .handle(&json!({"bucket": SOURCE, "key": KEY}))
        .await
        .expect("an answer");
    assert_eq!(answer["error"]["code"], json!("CORRUPT_IMAGE"), "{answer}");
    assert!(store.puts().is_empty());
}

// ---- the engine on a picture stored sideways ---------------------------------------------------

/// `fixtures/orientation/png-exif-before-idat-exiftool.png`: 48x32 stored with EXIF 6; upright 32x48
/// with lime top-left, red top-right, white bottom-left, blue bottom-right (orientation_containers.rs).
fn sideways() -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/orientation/png-exif-before-idat-exiftool.png");
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

const LIME: [u8; 3] = [0, 255, 0];
const RED: [u8; 3] = [255, 0, 0];
const WHITE: [u8; 3] = [255, 255, 255];
const BLUE: [u8; 3] = [0, 0, 255];

fn render(data: &[u8], renditions: Value, parallelism: usize) -> engine::Rendered {
    let renditions: Vec<Rendition> = serde_json::from_value(renditions).expect("renditions");
    let job = Job {
        renditions,
        quality: 90,
        color: ColorMode::Srgb,
        parallelism,
        avif_budget: std::time::Duration::from_secs(30),
    };
    engine::render(
        data,
        &job,
        &Limits {
            max_pixels: 1 << 24,
        },
    )
    .expect("rendered")
}

/// The colour at the centre of each quadrant of the area `x0..x1` × the whole height.
fn quadrants(bytes: &[u8], x0: u32, x1: u32) -> [[u8; 3]; 4] {
    let image = image::load_from_memory(bytes).expect("decodes").to_rgb8();
    let h = image.height();
    let w = x1 - x0;
    let at = |x: u32, y: u32| image.get_pixel(x0 + x, y).0;
    [
        at(w / 4, h / 4),
        at(3 * w / 4, h / 4),
        at(w / 4, 3 * h / 4),
        at(3 * w / 4, 3 * h / 4),
    ]
}

fn near(actual: [[u8; 3]; 4], expected: [[u8; 3]; 4]) -> bool {
    actual
        .iter()
        .flatten()
        .zip(expected.iter().flatten())
        .all(|(a, e)| a.abs_diff(*e) <= 40)
}

#[test]
fn cover_crops_the_upright_picture() {
    let rendered = render(
        &sideways(),
        json!([
            {"name": "centre", "width": 40, "height": 20, "fit": "cover", "formats": ["png"]},
            {"name": "north", "width": 40, "height": 20, "fit": "cover", "gravity": "north", "formats": ["png"]},
            {"name": "south", "width": 40, "height": 20, "fit": "cover", "gravity": "south", "formats": ["png"]},
            {"name": "east", "size": 16, "fit": "cover", "gravity": "east", "formats": ["png"]},
        ]),
        1,
    );
    let by_name = |name: &str| {
        let output = rendered
            .outputs
            .iter()
            .find(|o| o.name == name)
            .expect("an output");
        assert_eq!((output.width, output.height), dimensions(&output.bytes));
        output
    };
    let centre = by_name("centre");
    assert_eq!((centre.width, centre.height), (40, 20));
    // The middle band of the upright picture straddles its top and bottom halves.
    assert!(near(
        quadrants(&centre.bytes, 0, 40),
        [LIME, RED, WHITE, BLUE]
    ));
    assert!(near(
        quadrants(&by_name("north").bytes, 0, 40),
        [LIME, RED, LIME, RED]
    ));
    assert!(near(
        quadrants(&by_name("south").bytes, 0, 40),
        [WHITE, BLUE, WHITE, BLUE]
    ));
    // A square from a portrait picture keeps the whole width: east changes nothing across, the centre
    // band is cut from the middle of the height.
    let east = by_name("east");
    assert_eq!((east.width, east.height), (16, 16));
    assert!(near(
        quadrants(&east.bytes, 0, 16),
        [LIME, RED, WHITE, BLUE]
    ));
}

#[test]
fn contain_pads_the_upright_picture_and_inside_never_enlarges() {
    let rendered = render(
        &sideways(),
        json!([
            {"name": "padded", "size": 96, "fit": "contain", "formats": ["png", "jpeg"]},
            {"name": "coloured", "size": 96, "fit": "contain", "gravity": "west", "background": "#000000", "formats": ["png"]},
            {"name": "inside", "width": 1000, "height": 20, "formats": ["png"]},
        ]),
        1,
    );
    let output = |name: &str, format: OutputFormat| {
        rendered
            .outputs
            .iter()
            .find(|o| o.name == name && o.format == format)
            .expect("an output")
    };
    // Upright 32x48 in a 96 box: enlarged to 64x96, centred, 16 px of padding either side.
    let png = output("padded", OutputFormat::Png);
    assert_eq!((png.width, png.height), (96, 96));
    let padded = image::load_from_memory(&png.bytes)
        .expect("decodes")
        .to_rgba8();
    assert_eq!(padded.get_pixel(2, 48)[3], 0, "PNG padding is transparent");
    assert_eq!(padded.get_pixel(93, 48)[3], 0);
    assert!(near(
        quadrants(&png.bytes, 16, 80),
        [LIME, RED, WHITE, BLUE]
    ));
    let jpeg = image::load_from_memory(&output("padded", OutputFormat::Jpeg).bytes)
        .expect("decodes")
        .to_rgb8();
    assert!(
        jpeg.get_pixel(2, 48).0.iter().all(|&c| c > 240),
        "JPEG padding is white"
    );
    // West: the picture at the left edge, the background on the right.
    let west = image::load_from_memory(&output("coloured", OutputFormat::Png).bytes)
        .expect("decodes")
        .to_rgb8();
    assert!(near([west.get_pixel(8, 10).0; 4], [LIME; 4]));
    assert_eq!(west.get_pixel(90, 48).0, [0, 0, 0]);
    // Inside a 1000x20 box: the height sets the scale; never enlarged past the box.
    let inside = output("inside", OutputFormat::Png);
    assert_eq!((inside.width, inside.height), (13, 20));
}

#[test]
fn renditions_made_in_parallel_are_the_same_bytes() {
    let set = json!([
        {"name": "a", "size": 64, "fit": "cover", "gravity": "entropy", "formats": ["jpeg", "webp"]},
        {"name": "b", "width": 150},
        {"name": "c", "size": 90, "fit": "contain", "formats": ["png"]},
        {"name": "d", "size": 30, "fit": "cover", "gravity": "attention"},
    ]);
    let one = render(&photo(), set.clone(), 1);
    for parallelism in [2, 3, 8] {
        assert_eq!(
            render(&photo(), set.clone(), parallelism),
            one,
            "{parallelism}"
        );
    }
}
