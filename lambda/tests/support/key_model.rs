//! An independent model of the key mapping, shared by the property tests
//! (`lambda/tests/hostile_requests.rs`) and the fuzz targets (`fuzz/src/lib.rs`), which include this
//! file by path: one model, written from CONTRACT.md apart from `keys.rs` and calling nothing of the
//! crate's but the format enum, that both check the real mapping against.

use imgresize::engine::OutputFormat;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// What S3 leaves unescaped in event keys besides letters and digits (space becomes `+`).
const FORM: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'*')
    .remove(b'/')
    .remove(b' ');

/// S3's limit on a key, in UTF-8 bytes.
const S3_MAX_KEY_BYTES: usize = 1024;

/// CONTRACT.md's `{ext}`: the source's own extension (any case) where it names the output format, else
/// the format's usual one.
fn model_extension(format: OutputFormat, source_extension: &str) -> String {
    let (names, usual): (&[&str], &str) = match format {
        OutputFormat::Jpeg => (&["jpg", "jpeg", "jpe", "jfif"], "jpg"),
        OutputFormat::Png => (&["png"], "png"),
        OutputFormat::Webp => (&["webp"], "webp"),
        OutputFormat::Avif => (&["avif"], "avif"),
    };
    if names.contains(&source_extension.to_ascii_lowercase().as_str()) {
        source_extension.to_string()
    } else {
        usual.to_string()
    }
}

/// Encodes a key the way S3 event notifications do: `%XX` for bytes outside [`FORM`], `+` for space.
pub fn form_encode(key: &str) -> String {
    utf8_percent_encode(key, FORM).to_string().replace(' ', "+")
}

/// The destination key as CONTRACT.md describes it, written independently of `keys.rs`: the
/// pattern's placeholders are filled in one pass, so text from the source key is never re-read as a
/// placeholder. `None` where the mapping must refuse (a folder key, or a result over 1024 bytes).
pub fn model_destination(
    prefix: &str,
    pattern: &str,
    key: &str,
    format: OutputFormat,
    size: u32,
    name: &str,
) -> Option<String> {
    let (dir, file) = match key.rfind('/') {
        Some(slash) => (&key[..=slash], &key[slash + 1..]),
        None => ("", key),
    };
    if file.is_empty() {
        return None;
    }
    let (stem, extension) = match file.rfind('.') {
        Some(dot) if dot > 0 && dot + 1 < file.len() => (&file[..dot], &file[dot + 1..]),
        _ => (file, ""),
    };
    let extension = model_extension(format, extension);
    let size = size.to_string();
    let mut out = String::from(prefix);
    let mut rest = pattern;
    'scan: while !rest.is_empty() {
        for (name, value) in [
            ("{dir}", dir),
            ("{stem}", stem),
            ("{ext}", extension.as_str()),
            ("{size}", size.as_str()),
            ("{name}", name),
        ] {
            if let Some(after) = rest.strip_prefix(name) {
                out.push_str(value);
                rest = after;
                continue 'scan;
            }
        }
        let mut chars = rest.chars();
        if let Some(c) = chars.next() {
            out.push(c);
        }
        rest = chars.as_str();
    }
    (out.len() <= S3_MAX_KEY_BYTES).then_some(out)
}
