//! Object keys: how a key from an S3 event is decoded, and where a resized image is written.

use percent_encoding::percent_decode_str;
use serde::Deserialize;

use crate::engine::{InputFormat, OutputFormat, Rendition};
use crate::error::Error;

/// S3's limit on a key's length, in UTF-8 bytes.
pub const MAX_KEY_BYTES: usize = 1024;
const PLACEHOLDERS: [&str; 5] = ["{dir}", "{stem}", "{ext}", "{size}", "{name}"];

/// How the request's key is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyEncoding {
    /// As stored in S3: what API callers send.
    #[default]
    Raw,
    /// URL-encoded, form style (`+` for space): what S3 event notifications carry.
    Url,
}

/// Decodes a key from an S3 event notification: `+` is a space, then `%XX` escapes.
pub fn form_decode(key: &str) -> Result<String, Error> {
    let spaced = key.replace('+', " ");
    percent_decode_str(&spaced)
        .decode_utf8()
        .map(|decoded| decoded.into_owned())
        .map_err(|_| Error::InvalidRequest(format!("key {key:?} does not URL-decode to UTF-8")))
}

/// The keys to try, in order: the key as the request says it is written, then the other reading.
///
/// Both are tried because the marker can be wrong: a key uploaded as `a+b.jpg` reaches us as
/// `a%2Bb.jpg` from AWS but some emulators and hand-written events send it unencoded.
pub fn readings(key: &str, encoding: KeyEncoding) -> Vec<String> {
    let decoded = form_decode(key).ok();
    let mut keys = match encoding {
        KeyEncoding::Url => vec![decoded, Some(key.to_string())],
        KeyEncoding::Raw => vec![Some(key.to_string()), decoded],
    };
    keys.dedup();
    // A reading over S3's limit cannot name an object, and asking S3 for it is not a "no such key"
    // but a 400 KeyTooLongError, which would surface as an internal error instead of a rejection.
    keys.into_iter()
        .flatten()
        .filter(|k| !k.is_empty() && k.len() <= MAX_KEY_BYTES)
        .collect()
}

/// Refuses destination patterns that would send every image to the same key or use unknown names.
pub fn validate_pattern(pattern: &str) -> Result<(), Error> {
    if !pattern.contains("{stem}") {
        return Err(Error::Internal(format!(
            "DEST_KEY_PATTERN {pattern:?} must contain {{stem}}, or every output would share one key"
        )));
    }
    let mut rest = pattern.to_string();
    for placeholder in PLACEHOLDERS {
        rest = rest.replace(placeholder, "");
    }
    if rest.contains('{') || rest.contains('}') {
        return Err(Error::Internal(format!(
            "DEST_KEY_PATTERN {pattern:?} may only use {}",
            PLACEHOLDERS.join(", ")
        )));
    }
    Ok(())
}

/// Where the resized image of `source_key` is written: `prefix` + the pattern with `{dir}` (the
/// source's folder, with its `/`), `{stem}`, `{ext}` (the source's own extension when it names the
/// output format, else the format's usual one), `{size}` and `{name}` (the rendition's) filled in.
pub fn destination_key(
    prefix: &str,
    pattern: &str,
    source_key: &str,
    format: OutputFormat,
    size: u32,
    name: &str,
) -> Result<String, Error> {
    let (dir, stem, extension) = split_source(source_key)?;
    let extension = if format.accepts_extension(extension) {
        extension
    } else {
        format.extension()
    };
    let size = size.to_string();
    let mut key = String::from(prefix);
    // One pass over the pattern: text taken from the source key is never read as a placeholder
    // (one replace after another turned the key `{ext}.jpg` into `jpg_resized.jpg`).
    let mut rest = pattern;
    'scan: while !rest.is_empty() {
        for (placeholder, value) in
            PLACEHOLDERS
                .iter()
                .zip([dir, stem, extension, size.as_str(), name])
        {
            if let Some(after) = rest.strip_prefix(placeholder) {
                key.push_str(value);
                rest = after;
                continue 'scan;
            }
        }
        let first = rest.chars().next().map_or(1, char::len_utf8);
        let literal = rest[first..].find('{').map_or(rest.len(), |at| at + first);
        key.push_str(&rest[..literal]);
        rest = &rest[literal..];
    }
    if key.len() > MAX_KEY_BYTES {
        return Err(Error::InvalidRequest(format!(
            "the destination key would be {} bytes, over S3's {MAX_KEY_BYTES}",
            key.len()
        )));
    }
    Ok(key)
}

/// Refuses a set of renditions two of whose outputs would be written to one key, for a source of any
/// format: the later write would silently replace the other (`same` and `jpeg` for a JPEG; two
/// renditions under a pattern without `{name}` or a distinguishing `{size}`).
pub fn check_distinct(prefix: &str, pattern: &str, renditions: &[Rendition]) -> Result<(), String> {
    const PROBES: [(&str, InputFormat); 6] = [
        ("d/s.jpg", InputFormat::Jpeg),
        ("d/s.png", InputFormat::Png),
        ("d/s.webp", InputFormat::Webp),
        ("d/s.gif", InputFormat::Gif),
        ("d/s.bmp", InputFormat::Bmp),
        ("d/s", InputFormat::Jpeg),
    ];
    for (probe, input) in PROBES {
        let mut seen: Vec<(String, &str, OutputFormat)> = Vec::new();
        for rendition in renditions {
            for format in rendition.formats_for(input) {
                let key = destination_key(
                    prefix,
                    pattern,
                    probe,
                    format,
                    rendition.key_size(),
                    &rendition.name,
                )
                .map_err(|e| e.to_string())?;
                if let Some((_, other, other_format)) = seen.iter().find(|(k, _, _)| *k == key) {
                    return Err(format!(
                        "renditions {other:?} ({}) and {:?} ({}) would both be written to {key:?} for a {} \
                         source: give them distinct names and put {{name}} in the key pattern, or drop one format",
                        other_format.name(),
                        rendition.name,
                        format.name(),
                        input.default_output().name(),
                    ));
                }
                seen.push((key, &rendition.name, format));
            }
        }
    }
    Ok(())
}

/// A source key's folder (with its `/`, or empty), stem and extension (empty when there is none).
fn split_source(source_key: &str) -> Result<(&str, &str, &str), Error> {
    let (dir, file) = match source_key.rfind('/') {
        Some(slash) => source_key.split_at(slash + 1),
        None => ("", source_key),
    };
    if file.is_empty() {
        return Err(Error::InvalidRequest(format!(
            "key {source_key:?} names a folder, not a file"
        )));
    }
    // A leading dot starts a hidden name, not an extension.
    let (stem, extension) = match file.rfind('.') {
        Some(dot) if dot > 0 && dot + 1 < file.len() => (&file[..dot], &file[dot + 1..]),
        _ => (file, ""),
    };
    Ok((dir, stem, extension))
}

/// The longest key prefix every output of `source_key` starts with, whatever the request's format and
/// size: `prefix` + the pattern filled in up to its first placeholder that does not come from the source
/// key alone (only `{dir}` and `{stem}` do; `{ext}` depends on the format, `{size}` on the request, and
/// any placeholder added later counts as such). What a listing for the outputs of one source (deleting
/// them with it) can be narrowed to; other sources' outputs may share it, so each candidate's metadata
/// still decides (`provenance::keys::SOURCE`).
pub fn listing_prefix(prefix: &str, pattern: &str, source_key: &str) -> Result<String, Error> {
    let (dir, stem, _) = split_source(source_key)?;
    let mut key = String::from(prefix);
    let mut rest = pattern;
    // The same one-pass scan as `destination_key`, stopping at the first placeholder it cannot fill.
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("{dir}") {
            key.push_str(dir);
            rest = after;
            continue;
        }
        if let Some(after) = rest.strip_prefix("{stem}") {
            key.push_str(stem);
            rest = after;
            continue;
        }
        if PLACEHOLDERS.iter().any(|p| rest.starts_with(p)) {
            break;
        }
        let first = rest.chars().next().map_or(1, char::len_utf8);
        let literal = rest[first..].find('{').map_or(rest.len(), |at| at + first);
        key.push_str(&rest[..literal]);
        rest = &rest[literal..];
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const PATTERN: &str = "{stem}_resized.{ext}";

    fn dest(key: &str) -> Result<String, &'static str> {
        destination_key("output/", PATTERN, key, OutputFormat::Jpeg, 1000, "resized")
            .map_err(|e| e.code())
    }

    #[test]
    fn form_decoding_follows_s3_notifications() {
        assert_eq!(
            form_decode("red+flower.jpg").ok().as_deref(),
            Some("red flower.jpg")
        );
        assert_eq!(form_decode("a%2Bb.jpg").ok().as_deref(), Some("a+b.jpg"));
        assert_eq!(
            form_decode("dir/my%20photo%20%C3%A9%2Bx%27s.jpg")
                .ok()
                .as_deref(),
            Some("dir/my photo é+x's.jpg")
        );
        assert_eq!(form_decode("100%.jpg").ok().as_deref(), Some("100%.jpg"));
        assert!(form_decode("bad%FF.jpg").is_err());
    }

    #[test]
    fn readings_try_the_marked_form_first() {
        assert_eq!(
            readings("a+b.jpg", KeyEncoding::Url),
            vec!["a b.jpg", "a+b.jpg"]
        );
        assert_eq!(
            readings("a+b.jpg", KeyEncoding::Raw),
            vec!["a+b.jpg", "a b.jpg"]
        );
        assert_eq!(readings("plain.jpg", KeyEncoding::Url), vec!["plain.jpg"]);
        assert_eq!(readings("bad%FF.jpg", KeyEncoding::Url), vec!["bad%FF.jpg"]);
    }

    #[test]
    fn destination_keys() {
        assert_eq!(dest("b.jpg"), Ok("output/b_resized.jpg".into()));
        assert_eq!(
            dest("photos/2024/b.JPEG"),
            Ok("output/b_resized.JPEG".into())
        );
        assert_eq!(
            dest("no-extension"),
            Ok("output/no-extension_resized.jpg".into())
        );
        assert_eq!(
            dest("archive.tar.png"),
            Ok("output/archive.tar_resized.jpg".into())
        );
        assert_eq!(dest(".hidden"), Ok("output/.hidden_resized.jpg".into()));
        assert_eq!(dest("trailing."), Ok("output/trailing._resized.jpg".into()));
        assert_eq!(
            dest("my photo é+x's.jpg"),
            Ok("output/my photo é+x's_resized.jpg".into())
        );
        assert_eq!(dest("/leading/../b.jpg"), Ok("output/b_resized.jpg".into()));
        assert_eq!(dest("folder/"), Err("INVALID_REQUEST"));
        assert_eq!(
            dest(&format!("{}.jpg", "x".repeat(1020))),
            Err("INVALID_REQUEST")
        );
    }

    #[test]
    fn patterns_can_keep_folders_and_sizes() {
        let key = destination_key(
            "",
            "{dir}{size}/{stem}.{ext}",
            "a/b/c.png",
            OutputFormat::Webp,
            640,
            "card",
        );
        assert_eq!(key.ok().as_deref(), Some("a/b/640/c.webp"));
        let key = destination_key(
            "out/",
            "{dir}{stem}_{name}.{ext}",
            "a/c.JPG",
            OutputFormat::Jpeg,
            320,
            "thumb",
        );
        assert_eq!(key.ok().as_deref(), Some("out/a/c_thumb.JPG"));
        assert!(validate_pattern("{dir}{stem}-{size}.{ext}").is_ok());
        assert!(validate_pattern("{stem}.{extension}").is_err());
        assert!(validate_pattern("{ext}").is_err());
    }

    #[test]
    fn outputs_that_would_share_a_key_are_refused() {
        let set = |json: serde_json::Value| -> Vec<Rendition> {
            serde_json::from_value(json).unwrap_or_else(|e| panic!("{e}"))
        };
        let named = "{dir}{stem}_{name}.{ext}";
        let two = set(serde_json::json!([
            {"name": "thumb", "size": 320, "formats": ["webp", "jpeg"]},
            {"name": "full", "size": 1280, "formats": ["same"]}
        ]));
        assert_eq!(check_distinct("o/", named, &two), Ok(()));
        // Without {name} and {size}, the two renditions meet.
        let refused = check_distinct("o/", "{dir}{stem}.{ext}", &two);
        assert!(refused.is_err_and(|e| e.contains("\"thumb\"") && e.contains("\"full\"")));
        assert_eq!(
            check_distinct("o/", "{dir}{size}/{stem}.{ext}", &two),
            Ok(())
        );
        // `same` is `jpeg` for a JPEG and `png` for a PNG, GIF or BMP.
        for clash in ["jpeg", "png", "webp"] {
            let one =
                set(serde_json::json!([{"name": "a", "size": 1, "formats": ["same", clash]}]));
            assert!(check_distinct("o/", named, &one).is_err(), "same + {clash}");
        }
    }

    proptest! {
        #[test]
        fn any_key_maps_deterministically_or_is_refused(key in "\\PC{0,300}") {
            let first = dest(&key);
            prop_assert_eq!(&first, &dest(&key));
            if let Ok(dest_key) = first {
                prop_assert!(dest_key.starts_with("output/") && dest_key.len() <= MAX_KEY_BYTES);
                prop_assert!(!dest_key[7..].contains('/'));
            }
        }

        /// Listing under the prefix finds every output of the source, whatever its format and size.
        #[test]
        fn every_output_key_starts_with_its_listing_prefix(
            key in "\\PC{0,200}",
            pattern in prop::sample::select(vec![
                "{dir}{stem}_resized.{ext}", "{stem}.{ext}", "{size}/{dir}{stem}.{ext}",
                "{dir}{stem}-{size}.{ext}", "t/{stem}{stem}.{ext}", "{dir}x{ext}{stem}",
                "{dir}{stem}_{name}.{ext}", "{name}/{dir}{stem}.{ext}",
            ]),
            name in "[a-z0-9_-]{1,32}",
            size in 1u32..=10000,
            format in prop::sample::select(vec![OutputFormat::Jpeg, OutputFormat::Png, OutputFormat::Webp]),
        ) {
            if let Ok(dest_key) = destination_key("out/", pattern, &key, format, size, &name) {
                let listing = listing_prefix("out/", pattern, &key);
                prop_assert!(listing.as_ref().is_ok_and(|p| dest_key.starts_with(p.as_str())),
                             "{:?} vs {:?}", dest_key, listing);
            }
        }

        #[test]
        fn decoding_never_panics(key in "\\PC{0,200}") {
            let _ = form_decode(&key);
            let _ = readings(&key, KeyEncoding::Url);
        }
    }

    #[test]
    fn the_listing_prefix_stops_at_the_first_placeholder_not_from_the_key() {
        let listing = |pattern: &str, key: &str| listing_prefix("output/", pattern, key).unwrap();
        assert_eq!(
            listing("{dir}{stem}_resized.{ext}", "a/cat.jpg"),
            "output/a/cat_resized."
        );
        assert_eq!(listing("{size}/{dir}{stem}.{ext}", "a/cat.jpg"), "output/");
        // Every rendition of the default pattern: the name stops the prefix.
        assert_eq!(
            listing("{dir}{stem}_{name}.{ext}", "a/cat.jpg"),
            "output/a/cat_"
        );
        assert_eq!(
            listing("{dir}{stem}-{size}.{ext}", "cat.jpg"),
            "output/cat-"
        );
        // Sources sharing a name prefix (`cat2.jpg`, `a/cat.jpg`) have outputs outside `cat.jpg`'s.
        let pattern = "{dir}{stem}_resized.{ext}";
        let cat = listing(pattern, "cat.jpg");
        let output = |source: &str| {
            destination_key("output/", pattern, source, OutputFormat::Png, 9, "resized").unwrap()
        };
        for other in ["cat2.jpg", "a/cat.jpg"] {
            assert!(!output(other).starts_with(&cat), "{other}");
        }
        // ...but not always: `cat` (no extension) and `cat.png` share it. The prefix narrows the
        // listing; the outputs' recorded source decides.
        assert!(output("cat").starts_with(&cat) && output("cat.png").starts_with(&cat));
        assert_eq!(
            listing_prefix("output/", PATTERN, "dir/").map_err(|e| e.code()),
            Err("INVALID_REQUEST")
        );
    }
}
