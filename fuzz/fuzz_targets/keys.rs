//! Arbitrary strings → key decoding and destination mapping. Decoding never panics, S3's encoding
//! round-trips, both readings of a key are tried in the promised order, and the destination key is
//! deterministic, bounded, and the one CONTRACT.md describes (checked against an independent model).
#![no_main]

use imgresize::engine::{OutputFormat, SIZE_RANGE};
use imgresize::keys::{self, KeyEncoding, MAX_KEY_BYTES};
use imgresize_fuzz::{form_encode, model_destination};
use libfuzzer_sys::fuzz_target;

const PATTERNS: [&str; 4] = [
    "{stem}_resized.{ext}",
    "{dir}{stem}.{ext}",
    "{dir}{size}/{stem}-{size}.{ext}",
    "thumbs/{stem}{stem}.{ext}",
];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };

    // Decoding: whatever comes in, the readings are non-empty keys S3 could hold, marked form first.
    let decoded = keys::form_decode(text).ok();
    for encoding in [KeyEncoding::Raw, KeyEncoding::Url] {
        let readings = keys::readings(text, encoding);
        assert!(readings.len() <= 2);
        assert!(readings
            .iter()
            .all(|k| !k.is_empty() && k.len() <= MAX_KEY_BYTES));
        let first = match encoding {
            KeyEncoding::Raw => Some(text.to_string()),
            KeyEncoding::Url => decoded.clone(),
        };
        if let Some(first) = first.filter(|k| !k.is_empty() && k.len() <= MAX_KEY_BYTES) {
            assert_eq!(readings.first(), Some(&first), "{encoding:?}");
        }
    }

    // S3 events carry the key form-encoded: decoding that gives the key back, read first.
    let encoded = form_encode(text);
    assert_eq!(keys::form_decode(&encoded).ok().as_deref(), Some(text));
    if !text.is_empty() && text.len() <= MAX_KEY_BYTES {
        assert_eq!(
            keys::readings(&encoded, KeyEncoding::Url)
                .first()
                .map(String::as_str),
            Some(text)
        );
    }

    // Destination keys: deterministic, within S3's limit, exactly as the contract describes.
    let size = SIZE_RANGE.start() + (data.len() as u32 % SIZE_RANGE.end());
    for pattern in PATTERNS {
        assert!(keys::validate_pattern(pattern).is_ok());
        for format in [
            OutputFormat::Jpeg,
            OutputFormat::Png,
            OutputFormat::Webp,
            OutputFormat::Avif,
        ] {
            let first = keys::destination_key("output/", pattern, text, format, size, "resized");
            let again = keys::destination_key("output/", pattern, text, format, size, "resized");
            assert_eq!(first, again);
            match &first {
                Ok(dest) => {
                    assert!(dest.starts_with("output/") && dest.len() <= MAX_KEY_BYTES);
                    assert!(!dest.ends_with('/'));
                }
                Err(error) => assert_eq!(error.code(), "INVALID_REQUEST"),
            }
            assert_eq!(
                first.ok(),
                model_destination("output/", pattern, text, format, size, "resized"),
                "pattern {pattern:?}, key {text:?}"
            );
        }
    }

    // The string as a configured pattern: refused cleanly, or usable.
    if keys::validate_pattern(text).is_ok() {
        let dest = keys::destination_key("", text, "dir/photo.jpg", OutputFormat::Jpeg, 100, "thumb");
        assert_eq!(
            dest.ok(),
            model_destination("", text, "dir/photo.jpg", OutputFormat::Jpeg, 100, "thumb")
        );
    }
});
