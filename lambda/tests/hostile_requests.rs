//! Property tests over what callers send: arbitrary JSON and odd keys through the real handler, on the
//! in-memory `ObjectStore` of `support/memory_store.rs` (the crate's trait seam), which behaves like S3
//! where it matters here (keys over 1024 bytes are a 400 `KeyTooLongError`, not a missing object).
//!
//! The parser's own properties live in `src/request.rs` and `src/keys.rs`; these go through
//! `Handler::handle`, so they also cover the bucket check, both key readings, the engine and the write.

use imgresize::config::Config;
use imgresize::engine::{OutputFormat, QUALITY_RANGE, SIZE_RANGE};
use imgresize::handler::Handler;
use imgresize::keys::{self, MAX_KEY_BYTES};
use proptest::prelude::*;
use serde_json::{json, Value};

#[path = "support/key_model.rs"]
mod key_model;
use key_model::{form_encode, model_destination};
#[path = "support/memory_store.rs"]
mod memory_store;
use memory_store::{tiny_jpeg, MemoryStore};

const SOURCE: &str = "originals";
const DEST: &str = "resized";
const PATTERN: &str = "{stem}_resized.{ext}";

struct Fixture {
    runtime: tokio::runtime::Runtime,
    handler: Handler<MemoryStore>,
    store: MemoryStore,
}

impl Fixture {
    fn new() -> Self {
        let config = Config::from_lookup(|name| match name {
            "DEST_BUCKET" => Some(DEST.to_string()),
            "ALLOWED_SOURCE_BUCKETS" => Some(format!("{SOURCE},{DEST}")),
            // The model below is written for this pattern; the default ({dir} first) is covered in
            // config.rs.
            "DEST_KEY_PATTERN" => Some(PATTERN.to_string()),
            _ => None,
        })
        .expect("config");
        let store = MemoryStore::default();
        for key in ["k", "k.jpg", "photos/b.jpg", "a b.jpg", "a+b.jpg"] {
            store.insert(SOURCE, key, tiny_jpeg());
        }
        Fixture {
            runtime: tokio::runtime::Builder::new_current_thread()
                .build()
                .expect("runtime"),
            handler: Handler::new(config, store.clone()),
            store,
        }
    }

    /// The handler's answer; a store that never fails transiently must never make it a Lambda error.
    fn answer(&self, event: &Value) -> Value {
        self.runtime
            .block_on(self.handler.handle(event))
            .unwrap_or_else(|e| panic!("{event} became a Lambda error ({}): {e}", e.code()))
    }

    /// Asserts a rejection with one of `codes` that wrote nothing; returns its code.
    fn rejected(&self, event: &Value, codes: &[&str]) -> String {
        self.store.reset_calls();
        let answer = self.answer(event);
        assert_eq!(answer["ok"], json!(false), "{event} -> {answer}");
        let code = answer["error"]["code"].as_str().unwrap_or_default();
        assert!(
            codes.contains(&code),
            "{event} -> {answer}, wanted {codes:?}"
        );
        assert!(
            answer["statusCode"]
                .as_u64()
                .is_some_and(|s| (400..500).contains(&s)),
            "{answer}"
        );
        assert!(
            self.store.puts().is_empty(),
            "{event} was rejected but wrote"
        );
        code.to_string()
    }
}

// ---- strategies -------------------------------------------------------------------------------

fn field_name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("bucket".to_string()),
        Just("key".to_string()),
        Just("size".to_string()),
        Just("format".to_string()),
        Just("quality".to_string()),
        Just("keyEncoding".to_string()),
        Just("objectSize".to_string()),
        Just("Records".to_string()),
        Just("detail-type".to_string()),
        Just("detail".to_string()),
        Just("source".to_string()),
        "\\PC{0,8}",
    ]
}

fn arbitrary_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (-20_000i64..20_000).prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "\\PC{0,20}".prop_map(Value::from),
        prop_oneof![
            Just(SOURCE),
            Just(DEST),
            Just("k"),
            Just("k.jpg"),
            Just("photos/b.jpg"),
            Just("a+b.jpg"),
            Just("url"),
            Just("raw"),
            Just("png"),
            Just("webp"),
            Just("Object Created"),
            Just("aws.s3"),
        ]
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 40, 7, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map(field_name(), inner, 0..7)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A valid event with some optional fields set, to perturb one field at a time.
fn valid_event() -> impl Strategy<Value = Value> {
    (
        prop::option::of(SIZE_RANGE),
        prop::option::of(prop_oneof![Just("jpeg"), Just("png"), Just("webp")]),
        prop::option::of(QUALITY_RANGE),
    )
        .prop_map(|(size, format, quality)| {
            let mut event = json!({"bucket": SOURCE, "key": "photos/b.jpg"});
            if let Some(size) = size {
                event["size"] = json!(size);
            }
            if let Some(format) = format {
                event["format"] = json!(format);
            }
            if let Some(quality) = quality {
                event["quality"] = json!(quality);
            }
            event
        })
}

/// Keys built from the pieces that break naive code: separators, escapes, quotes, both Unicode
/// normal forms, placeholders, dot segments; sometimes a leading `/`, a trailing `/`, no extension.
fn odd_key() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just(" "),
        Just("+"),
        Just("%"),
        Just("%2B"),
        Just("%20"),
        Just("%zz"),
        Just("caf\u{e9}"),   // NFC
        Just("cafe\u{301}"), // NFD
        Just("'"),
        Just("\""),
        Just("\\"),
        Just("/"),
        Just(".."),
        Just("."),
        Just("photo"),
        Just("{ext}"),
        Just("{stem}"),
        Just("\u{65e5}\u{672c}"),
        Just("\u{1f600}"),
    ];
    (
        any::<bool>(),
        prop::collection::vec(piece, 1..8),
        prop_oneof![
            Just(""),
            Just(".jpg"),
            Just(".JPEG"),
            Just(".png"),
            Just("/"),
            Just(".")
        ],
    )
        .prop_map(|(leading_slash, pieces, end)| {
            format!(
                "{}{}{end}",
                if leading_slash { "/" } else { "" },
                pieces.concat()
            )
        })
}

/// Pads a key to exactly `total` bytes by lengthening its folder part (or its name, `in_name`).
fn padded(key: &str, total: usize, in_name: bool) -> String {
    let pad = total.saturating_sub(key.len());
    if in_name {
        format!("{}{key}", "n".repeat(pad))
    } else {
        format!("{}/{key}", "d".repeat(pad.saturating_sub(1)))
    }
}

/// Sends `key` raw (as the API does) and form-encoded (as S3 events do): both must give the same,
/// deterministic answer, and that answer must be the contract's destination key or a clean rejection.
/// The three requests make one output: the first writes it (unless an earlier case made it already), the
/// others find it current and skip (see `tests/idempotency.rs`).
fn check_both_paths(fixture: &Fixture, key: &str) -> Result<(), TestCaseError> {
    fixture.store.insert(SOURCE, key, tiny_jpeg());
    fixture.store.reset_calls();
    let raw = fixture.answer(&json!({"bucket": SOURCE, "key": key, "size": 64}));
    let raw_again =
        fixture.answer(&json!({"bucket": SOURCE, "key": key, "size": 64, "keyEncoding": "raw"}));
    let encoded = form_encode(key);
    let url = fixture
        .answer(&json!({"bucket": SOURCE, "key": encoded, "size": 64, "keyEncoding": "url"}));
    // What must not depend on the path or on whether this run wrote or skipped.
    let essence = |answer: &Value| {
        json!({"ok": answer["ok"], "destKey": answer["destKey"], "error": answer["error"],
               "source": answer["source"]["key"]})
    };
    prop_assert_eq!(
        essence(&raw),
        essence(&raw_again),
        "raw path not deterministic for {:?}",
        key
    );
    prop_assert_eq!(
        essence(&raw),
        essence(&url),
        "raw and URL-encoded paths differ for {:?}",
        key
    );

    let puts = fixture.store.puts();
    match model_destination("output/", PATTERN, key, OutputFormat::Jpeg, 64, "resized") {
        Some(expected) => {
            prop_assert_eq!(&raw["ok"], &json!(true), "{:?} -> {}", key, raw);
            prop_assert_eq!(&raw["destKey"], &json!(expected), "{:?}", key);
            // Three runs, one destination, written at most once, and there.
            prop_assert!(puts.len() <= 1, "{} writes", puts.len());
            prop_assert!(puts.iter().all(|(b, k, _)| b == DEST && k == &expected));
            prop_assert!(fixture.store.object(DEST, &expected).is_some());
            for answer in [&raw_again, &url] {
                prop_assert_eq!(&answer["skipped"], &json!(true), "{}", answer);
            }
        }
        None => {
            prop_assert_eq!(&raw["ok"], &json!(false), "{:?} -> {}", key, raw);
            prop_assert_eq!(&raw["error"]["code"], &json!("INVALID_REQUEST"));
            prop_assert!(puts.is_empty(), "a rejected key wrote {:?}", puts);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_json_never_panics_the_handler(event in arbitrary_json()) {
        let fixture = Fixture::new();
        let answer = fixture.answer(&event);
        let puts = fixture.store.puts();
        match answer["ok"].as_bool() {
            Some(true) => {
                prop_assert_eq!(puts.len(), 1);
                prop_assert_eq!(&answer["destKey"], &json!(puts[0].1));
            }
            Some(false) => {
                prop_assert!(puts.is_empty());
                let code = answer["error"]["code"].as_str().unwrap_or_default();
                prop_assert!(
                    matches!(code, "INVALID_REQUEST" | "BUCKET_NOT_ALLOWED" | "NOT_FOUND"),
                    "{} -> {}", event, answer
                );
            }
            None => prop_assert!(false, "no ok in {}", answer),
        }
    }

    #[test]
    fn sizes_outside_the_range_are_invalid(
        event in valid_event(),
        size in prop_oneof![
            (i64::MIN..=0).prop_map(Value::from),
            (10_001i64..=i64::MAX).prop_map(Value::from),
            (10_001u64..=u64::MAX).prop_map(Value::from),
            any::<f64>()
                .prop_filter("finite, not whole", |f| f.is_finite() && f.fract() != 0.0)
                .prop_map(Value::from),
            "[0-9]{1,4}".prop_map(Value::from),
            Just(json!([1000])),
            Just(json!(true)),
        ],
    ) {
        let fixture = Fixture::new();
        let mut event = event;
        event["size"] = size;
        fixture.rejected(&event, &["INVALID_REQUEST"]);
    }

    #[test]
    fn a_missing_empty_or_non_string_key_is_invalid(
        event in valid_event(),
        key in prop_oneof![
            Just(None),
            Just(Some(json!(""))),
            Just(Some(Value::Null)),
            any::<i64>().prop_map(|n| Some(json!(n))),
            Just(Some(json!(["k.jpg"]))),
            Just(Some(json!({"key": "k.jpg"}))),
        ],
    ) {
        let fixture = Fixture::new();
        let mut event = event;
        match key {
            Some(key) => event["key"] = key,
            None => {
                if let Some(object) = event.as_object_mut() {
                    object.remove("key");
                }
            }
        }
        fixture.rejected(&event, &["INVALID_REQUEST"]);
    }

    #[test]
    fn a_missing_empty_or_non_string_bucket_is_invalid(
        event in valid_event(),
        bucket in prop_oneof![
            Just(None),
            Just(Some(json!(""))),
            Just(Some(Value::Null)),
            any::<i64>().prop_map(|n| Some(json!(n))),
            any::<bool>().prop_map(|b| Some(json!(b))),
            Just(Some(json!([SOURCE]))),
            Just(Some(json!({"name": SOURCE}))),
        ],
    ) {
        let fixture = Fixture::new();
        let mut event = event;
        match bucket {
            Some(bucket) => event["bucket"] = bucket,
            None => {
                if let Some(object) = event.as_object_mut() {
                    object.remove("bucket");
                }
            }
        }
        fixture.rejected(&event, &["INVALID_REQUEST"]);
    }

    #[test]
    fn an_unknown_bucket_is_refused_before_reading(event in valid_event(), bucket in "\\PC{1,63}") {
        prop_assume!(bucket != SOURCE && bucket != DEST);
        let fixture = Fixture::new();
        let mut event = event;
        event["bucket"] = json!(bucket);
        fixture.rejected(&event, &["BUCKET_NOT_ALLOWED"]);
        prop_assert!(fixture.store.gets().is_empty(), "read from a bucket not allowed");
    }

    #[test]
    fn odd_keys_map_the_same_on_the_api_and_event_paths(key in odd_key()) {
        check_both_paths(&Fixture::new(), &key)?;
    }

    #[test]
    fn keys_of_1024_bytes_map_or_are_refused(key in odd_key(), in_name in any::<bool>()) {
        check_both_paths(&Fixture::new(), &padded(&key, MAX_KEY_BYTES, in_name))?;
    }

    #[test]
    fn keys_over_1024_bytes_are_clean_rejections(key in odd_key(), extra in 1usize..2100) {
        let fixture = Fixture::new();
        let key = padded(&key, MAX_KEY_BYTES + extra, extra % 2 == 0);
        for event in [
            json!({"bucket": SOURCE, "key": key}),
            json!({"bucket": SOURCE, "key": form_encode(&key), "keyEncoding": "url"}),
        ] {
            fixture.rejected(&event, &["INVALID_REQUEST", "NOT_FOUND"]);
            prop_assert!(fixture.store.gets().iter().all(|k| k.len() <= MAX_KEY_BYTES));
        }
    }

    #[test]
    fn destination_keys_follow_the_contract(
        key in prop_oneof![odd_key(), "\\PC{0,64}"],
        pattern in prop_oneof![
            Just("{stem}_resized.{ext}".to_string()),
            Just("{dir}{stem}.{ext}".to_string()),
            Just("{dir}{size}/{stem}-{size}.{ext}".to_string()),
            Just("{dir}{stem}_{name}.{ext}".to_string()),
            "[a-z{}/._-]{0,6}\\{stem\\}[a-z{}/._-]{0,6}",
        ],
        size in SIZE_RANGE,
        name in "[a-z0-9_-]{1,32}",
    ) {
        prop_assume!(keys::validate_pattern(&pattern).is_ok());
        for format in [
            OutputFormat::Jpeg,
            OutputFormat::Png,
            OutputFormat::Webp,
            OutputFormat::Avif,
        ] {
            let actual = keys::destination_key("output/", &pattern, &key, format, size, &name).ok();
            prop_assert_eq!(actual, model_destination("output/", &pattern, &key, format, size, &name), "{:?} {:?}", pattern, key);
        }
    }
}

// ---- the brief's cases, spelled out, and regressions -------------------------------------------

#[test]
fn the_listed_odd_keys_on_both_paths() {
    let fixture = Fixture::new();
    let long_folder = padded("b.jpg", MAX_KEY_BYTES, false);
    let long_name = padded("b.jpg", MAX_KEY_BYTES, true);
    let cases: [(&str, Option<&str>); 17] = [
        ("my photo.jpg", Some("output/my photo_resized.jpg")),
        ("a+b.jpg", Some("output/a+b_resized.jpg")),
        ("100%.jpg", Some("output/100%_resized.jpg")),
        ("100%25.jpg", Some("output/100%25_resized.jpg")),
        ("caf\u{e9}.jpg", Some("output/caf\u{e9}_resized.jpg")),
        ("cafe\u{301}.jpg", Some("output/cafe\u{301}_resized.jpg")),
        ("bob's.jpg", Some("output/bob's_resized.jpg")),
        ("say \"hi\".jpg", Some("output/say \"hi\"_resized.jpg")),
        ("back\\slash.jpg", Some("output/back\\slash_resized.jpg")),
        ("/leading.jpg", Some("output/leading_resized.jpg")),
        ("a/../b.jpg", Some("output/b_resized.jpg")),
        ("no-extension", Some("output/no-extension_resized.jpg")),
        ("{ext}.jpg", Some("output/{ext}_resized.jpg")),
        (long_folder.as_str(), Some("output/b_resized.jpg")),
        (long_name.as_str(), None),
        ("folder/", None),
        ("/", None),
    ];
    for (key, expected) in cases {
        check_both_paths(&fixture, key).unwrap_or_else(|e| panic!("{key:?}: {e}"));
        let answer = fixture.answer(&json!({"bucket": SOURCE, "key": key, "size": 64}));
        match expected {
            Some(dest) => assert_eq!(answer["destKey"], json!(dest), "{key:?}: {answer}"),
            None => assert_eq!(
                answer["error"]["code"],
                json!("INVALID_REQUEST"),
                "{key:?}: {answer}"
            ),
        }
    }
    // NFC and NFD are different keys in S3: neither is normalised into the other.
    assert_ne!(
        fixture.answer(&json!({"bucket": SOURCE, "key": "caf\u{e9}.jpg"}))["destKey"],
        fixture.answer(&json!({"bucket": SOURCE, "key": "cafe\u{301}.jpg"}))["destKey"]
    );
}

/// Regression (found writing the `keys` fuzz target's independent model): the pattern was filled by one `replace`
/// after another, so placeholder text inside the key was substituted too — `{ext}.jpg` became
/// `jpg_resized.jpg`, colliding with the output of `jpg.jpg`.
#[test]
fn placeholder_text_in_a_key_is_kept_literally() {
    let dest = |key: &str, pattern: &str| {
        keys::destination_key("output/", pattern, key, OutputFormat::Jpeg, 640, "resized").ok()
    };
    assert_eq!(
        dest("{ext}.jpg", PATTERN).as_deref(),
        Some("output/{ext}_resized.jpg")
    );
    assert_eq!(
        dest("{size}.jpg", PATTERN).as_deref(),
        Some("output/{size}_resized.jpg")
    );
    assert_eq!(
        dest("a{stem}/b.jpg", "{dir}{stem}.{ext}").as_deref(),
        Some("output/a{stem}/b.jpg")
    );
    assert_ne!(dest("{ext}.jpg", PATTERN), dest("jpg.jpg", PATTERN));
}

/// Regression (found writing the `request` fuzz target's S3-like store): a raw key of 1025..=3072 bytes passed parsing
/// and was sent to S3, whose 400 KeyTooLongError became an `InternalError` Lambda error (no retry
/// helps, and the state machine saw a crash instead of `ok: false`).
#[test]
fn a_key_s3_cannot_hold_is_a_rejection_not_an_internal_error() {
    let fixture = Fixture::new();
    let key = format!("{}.jpg", "x".repeat(1500));
    let code = fixture.rejected(&json!({"bucket": SOURCE, "key": key}), &["INVALID_REQUEST"]);
    assert_eq!(code, "INVALID_REQUEST");
    assert!(
        fixture.store.gets().is_empty(),
        "asked S3 for an impossible key"
    );
    // A long encoded key whose decoded reading fits is still looked up under that reading.
    let encoded = "%41".repeat(400) + ".jpg";
    fixture
        .store
        .insert(SOURCE, &("A".repeat(400) + ".jpg"), tiny_jpeg());
    let answer = fixture.answer(&json!({"bucket": SOURCE, "key": encoded, "keyEncoding": "url"}));
    assert_eq!(answer["ok"], json!(true), "{answer}");
}
