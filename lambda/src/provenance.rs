//! What an output was made from, written into its metadata, and the decision taken from it before
//! any work: skip (the output is current, or a newer one is there), or write under which S3 condition.
//!
//! S3 and EventBridge deliver at least once and in no guaranteed order. Every output therefore records
//! its source (ETag, version id, last-modified, the event's `sequencer`, a hash of the source's bucket and
//! key) and a fingerprint of the settings that determine its bytes and key. Before decoding, the handler
//! reads the existing output's metadata (HeadObject) and calls [`decide`]:
//!
//! - same source, same settings → skip (`UP_TO_DATE`): a duplicate event changes nothing;
//! - the existing output comes from a later event for the same source key (greater `sequencer`) → skip
//!   (`NEWER_OUTPUT_EXISTS`): a late event never replaces a newer output;
//! - otherwise write, conditionally: `If-None-Match: *` when there is no output, `If-Match: <its ETag>`
//!   when there is one, so that an output written by another execution between our HeadObject and our
//!   PutObject fails our write (412) instead of being replaced; the handler then reads it and decides again.
//!
//! When the order cannot be told from sequencers (the API and backfill paths carry none; LocalStack gives
//! every event the same one), the handler re-reads the source's ETag right before writing and skips
//! (`SOURCE_CHANGED`) when it changed: the newer object's own event (or the next backfill) makes its output.
//! Last-Modified (one-second resolution) and ETags (content hashes) carry no order and are never compared
//! for it.

use std::cmp::Ordering;
use std::collections::HashMap;

use crate::engine::{ColorMode, Fit, Gravity, OutputFormat, Rendition};

/// Bump when the engine's output for the same input and settings changes (a new resampler, encoder
/// settings, colour handling): every output's fingerprint changes with it, so the next event or backfill
/// remakes it instead of skipping it.
pub const ENGINE_VERSION: u32 = 1;

/// User-metadata names (S3 stores them as `x-amz-meta-<name>`, lower case).
pub mod keys {
    pub const SOURCE_ETAG: &str = "imgresize-source-etag";
    pub const SOURCE_VERSION_ID: &str = "imgresize-source-version-id";
    pub const SOURCE_LAST_MODIFIED: &str = "imgresize-source-last-modified";
    /// A hash of the source's bucket and key: sequencers order events of one key only.
    pub const SOURCE: &str = "imgresize-source";
    pub const SEQUENCER: &str = "imgresize-sequencer";
    pub const SETTINGS: &str = "imgresize-settings";
    /// The output's ThumbHash (`engine::placeholder`), so that a `skipped` answer can carry it.
    pub const PLACEHOLDER: &str = "imgresize-placeholder";
}

/// S3's limit on an object's user metadata: names and values together, in bytes.
pub const USER_METADATA_LIMIT: usize = 2048;

/// The metadata of an output: its provenance plus its placeholder (known only once the image is decoded).
pub fn output_metadata(provenance: &Provenance, placeholder: &str) -> Vec<(String, String)> {
    let mut metadata = provenance.metadata();
    if !placeholder.is_empty() {
        metadata.push((keys::PLACEHOLDER.to_string(), placeholder.to_string()));
    }
    metadata
}

/// The placeholder recorded in an output's user metadata.
pub fn placeholder_from_metadata(metadata: &HashMap<String, String>) -> Option<String> {
    metadata
        .get(keys::PLACEHOLDER)
        .filter(|v| !v.is_empty())
        .cloned()
}

/// Everything that determines one output's bytes, key and headers, hashed.
#[derive(Debug, Clone, Copy)]
pub struct Settings<'a> {
    pub rendition: &'a Rendition,
    pub format: OutputFormat,
    /// The quality the output is encoded at (the rendition's, else the request's).
    pub quality: u8,
    pub color: ColorMode,
    pub dest_prefix: &'a str,
    pub dest_key_pattern: &'a str,
    pub cache_control: Option<&'a str>,
}

impl Settings<'_> {
    /// `e<ENGINE_VERSION>-<16 hex digits>`: FNV-1a 64 of a canonical text of the settings. Stable across
    /// builds and platforms (no `std` hasher, whose output Rust does not promise to keep).
    ///
    /// An output made like the single output before renditions (a `size` box, `inside`) hashes the text
    /// it hashed then, with the key pattern as it applies to this output (`{name}` filled in, which the
    /// default pattern now carries): upgrading does not remake every stored output. Other renditions
    /// add their box, fit, gravity and background.
    pub fn fingerprint(&self) -> String {
        let r = self.rendition;
        let pattern = self.dest_key_pattern.replace("{name}", &r.name);
        let mut text = format!(
            "engine={ENGINE_VERSION}\nsize={}\nformat={}\nquality={}\ncolor={}\nprefix={}\npattern={}\ncache-control={}",
            r.key_size(),
            self.format.name(),
            self.quality,
            self.color.as_str(),
            self.dest_prefix,
            pattern,
            self.cache_control.unwrap_or("")
        );
        let like_the_single_output = r.fit == Fit::Inside
            && r.size.is_some()
            && r.gravity == Gravity::Centre
            && r.background.is_none();
        if !like_the_single_output {
            let (width, height) = r.bounds();
            text.push_str(&format!(
                "\nbox={width}x{height}\nfit={}\ngravity={:?}\nbackground={}",
                r.fit.name(),
                r.gravity,
                r.background.map(String::from).unwrap_or_default()
            ));
        }
        format!("e{ENGINE_VERSION}-{:016x}", fnv1a(text.as_bytes()))
    }
}

/// FNV-1a, 64 bits.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The hash recorded under [`keys::SOURCE`].
pub fn source_id(bucket: &str, key: &str) -> String {
    format!(
        "{:016x}",
        fnv1a(format!("{}/{}", bucket.len(), bucket).as_bytes()) ^ fnv1a(key.as_bytes())
    )
}

/// What one output was made from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provenance {
    /// Without quotes.
    pub source_etag: String,
    pub source_version_id: Option<String>,
    pub source_last_modified: Option<String>,
    pub source: String,
    /// Upper-case hex, from the S3 event; `None` on the API and backfill paths.
    pub sequencer: Option<String>,
    pub settings: String,
}

impl Provenance {
    /// The user metadata to write with the output.
    pub fn metadata(&self) -> Vec<(String, String)> {
        let mut metadata = vec![
            (keys::SOURCE_ETAG.to_string(), self.source_etag.clone()),
            (keys::SOURCE.to_string(), self.source.clone()),
            (keys::SETTINGS.to_string(), self.settings.clone()),
        ];
        let optional = [
            (keys::SOURCE_VERSION_ID, &self.source_version_id),
            (keys::SOURCE_LAST_MODIFIED, &self.source_last_modified),
            (keys::SEQUENCER, &self.sequencer),
        ];
        for (name, value) in optional {
            if let Some(value) = value {
                metadata.push((name.to_string(), value.clone()));
            }
        }
        metadata
    }

    /// Reads it back from an output's user metadata; `None` for an output this code did not make.
    pub fn from_metadata(metadata: &HashMap<String, String>) -> Option<Provenance> {
        let get = |name: &str| metadata.get(name).filter(|v| !v.is_empty()).cloned();
        Some(Provenance {
            source_etag: get(keys::SOURCE_ETAG)?,
            settings: get(keys::SETTINGS)?,
            source: get(keys::SOURCE).unwrap_or_default(),
            source_version_id: get(keys::SOURCE_VERSION_ID),
            source_last_modified: get(keys::SOURCE_LAST_MODIFIED),
            sequencer: get(keys::SEQUENCER).and_then(|s| normalise_sequencer(&s)),
        })
    }

    /// Made from the same bytes of the same object: same ETag, and same version when both know one.
    fn same_source(&self, other: &Provenance) -> bool {
        !self.source_etag.is_empty()
            && self.source_etag == other.source_etag
            && self.source == other.source
            && match (&self.source_version_id, &other.source_version_id) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            }
    }

    /// The order of the two events, when sequencers tell it: same source key, both present.
    fn event_order(&self, other: &Provenance) -> Option<Ordering> {
        if self.source != other.source {
            return None;
        }
        Some(compare_sequencers(
            self.sequencer.as_deref()?,
            other.sequencer.as_deref()?,
        ))
    }
}

/// An ETag without its quotes (S3 answers `"abc"`; metadata keeps `abc`).
pub fn bare_etag(etag: &str) -> String {
    etag.trim().trim_matches('"').to_string()
}

/// A sequencer as the function keeps it: upper-case hex; `None` for an empty or non-hex value (the input
/// transformer gives `""` when the event has none).
pub fn normalise_sequencer(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty() && text.len() <= 64 && text.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| text.to_ascii_uppercase())
}

/// S3's rule for sequencers of one key: compare as hex strings after left-padding the shorter with zeros.
pub fn compare_sequencers(a: &str, b: &str) -> Ordering {
    let width = a.len().max(b.len());
    let pad = |s: &str| format!("{s:0>width$}").to_ascii_uppercase();
    pad(a).cmp(&pad(b))
}

/// What the output already there looks like.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExistingOutput {
    /// Its own ETag, for `If-Match`.
    pub etag: String,
    /// `None` when it lacks this function's metadata (made before it, or by someone else).
    pub provenance: Option<Provenance>,
    /// Its recorded placeholder, for a `skipped` answer.
    pub placeholder: Option<String>,
}

/// The S3 precondition of a write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// `If-None-Match: *`: only if there is still no output.
    Absent,
    /// `If-Match: <etag>`: only if the output is still the one we saw.
    Matches(String),
}

/// Why an invocation wrote nothing although it succeeded (the answer's `reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    /// The output was made from this very source with these settings.
    UpToDate,
    /// The output was made for a later event of the same source key.
    NewerOutputExists,
    /// The source changed (or went) after it was read: the newer object's event makes its output.
    SourceChanged,
}

impl SkipReason {
    pub fn code(self) -> &'static str {
        match self {
            SkipReason::UpToDate => "UP_TO_DATE",
            SkipReason::NewerOutputExists => "NEWER_OUTPUT_EXISTS",
            SkipReason::SourceChanged => "SOURCE_CHANGED",
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            SkipReason::UpToDate => {
                "the output was already made from this version of the source with these settings"
            }
            SkipReason::NewerOutputExists => {
                "the output was made for a later event of the same source object"
            }
            SkipReason::SourceChanged => {
                "the source object changed after it was read; its own event makes the new output"
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Skip(SkipReason),
    Write {
        condition: Condition,
        /// Re-read the source's ETag right before writing, and skip if it changed: the order of this
        /// request against the one that made the existing output is not known from sequencers.
        verify_source: bool,
    },
}

/// The decision for an output made from `ours`, given what is there (see the module doc).
pub fn decide(ours: &Provenance, existing: Option<&ExistingOutput>) -> Decision {
    let unordered = ours.sequencer.is_none();
    let Some(existing) = existing else {
        return Decision::Write {
            condition: Condition::Absent,
            verify_source: unordered,
        };
    };
    let condition = Condition::Matches(existing.etag.clone());
    let Some(theirs) = &existing.provenance else {
        return Decision::Write {
            condition,
            verify_source: unordered,
        };
    };
    if ours.same_source(theirs) {
        if ours.settings == theirs.settings {
            return Decision::Skip(SkipReason::UpToDate);
        }
        // The same source under other settings (a changed configuration, another `size`): remake it.
        return Decision::Write {
            condition,
            verify_source: unordered,
        };
    }
    match ours.event_order(theirs) {
        Some(Ordering::Less) => Decision::Skip(SkipReason::NewerOutputExists),
        Some(Ordering::Greater) => Decision::Write {
            condition,
            verify_source: false,
        },
        // Equal sequencers for different bytes (an emulator's constant one), or no order at all.
        Some(Ordering::Equal) | None => Decision::Write {
            condition,
            verify_source: true,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn provenance(etag: &str, sequencer: Option<&str>, settings: &str) -> Provenance {
        Provenance {
            source_etag: etag.into(),
            source_version_id: None,
            source_last_modified: Some("2026-11-28T11:00:00Z".into()),
            source: source_id("in", "a.jpg"),
            sequencer: sequencer.map(String::from),
            settings: settings.into(),
        }
    }

    fn existing(p: Provenance) -> ExistingOutput {
        ExistingOutput {
            etag: "out-etag".into(),
            provenance: Some(p),
            placeholder: None,
        }
    }

    fn write(verify_source: bool) -> Decision {
        Decision::Write {
            condition: Condition::Matches("out-etag".into()),
            verify_source,
        }
    }

    #[test]
    fn no_output_is_written_only_if_still_absent() {
        let ours = provenance("e1", Some("0A"), "s");
        assert_eq!(
            decide(&ours, None),
            Decision::Write {
                condition: Condition::Absent,
                verify_source: false
            }
        );
        let api = provenance("e1", None, "s");
        assert_eq!(
            decide(&api, None),
            Decision::Write {
                condition: Condition::Absent,
                verify_source: true
            }
        );
    }

    #[test]
    fn a_duplicate_is_skipped_whatever_its_sequencer() {
        let made = provenance("e1", Some("0A"), "s");
        for sequencer in [Some("0A"), Some("09"), Some("0B"), None] {
            let ours = provenance("e1", sequencer, "s");
            assert_eq!(
                decide(&ours, Some(&existing(made.clone()))),
                Decision::Skip(SkipReason::UpToDate),
                "{sequencer:?}"
            );
        }
    }

    #[test]
    fn a_settings_change_remakes_the_output() {
        let made = provenance("e1", Some("0A"), "old");
        let ours = provenance("e1", Some("0A"), "new");
        assert_eq!(decide(&ours, Some(&existing(made))), write(false));
    }

    #[test]
    fn an_older_event_never_replaces_a_newer_output() {
        let newer = provenance("e2", Some("0062E99A88DC407461"), "s");
        let older = provenance("e1", Some("0062E99A88DC407460"), "s");
        assert_eq!(
            decide(&older, Some(&existing(newer.clone()))),
            Decision::Skip(SkipReason::NewerOutputExists)
        );
        assert_eq!(decide(&newer, Some(&existing(older))), write(false));
    }

    #[test]
    fn unordered_requests_verify_the_source_before_writing() {
        // API/backfill (no sequencer), an output from an event, an emulator's equal sequencers, another key.
        let made = provenance("e1", Some("0A"), "s");
        assert_eq!(
            decide(&provenance("e2", None, "s"), Some(&existing(made.clone()))),
            write(true)
        );
        assert_eq!(
            decide(
                &provenance("e2", Some("0A"), "s"),
                Some(&existing(made.clone()))
            ),
            write(true)
        );
        let mut other_key = provenance("e2", Some("0B"), "s");
        other_key.source = source_id("in", "a.png");
        assert_eq!(decide(&other_key, Some(&existing(made))), write(true));
    }

    #[test]
    fn an_output_without_metadata_is_replaced_conditionally() {
        let legacy = ExistingOutput {
            etag: "out-etag".into(),
            provenance: None,
            placeholder: None,
        };
        assert_eq!(
            decide(&provenance("e1", Some("0A"), "s"), Some(&legacy)),
            write(false)
        );
    }

    #[test]
    fn other_versions_of_the_same_bytes_are_other_sources() {
        let mut made = provenance("e1", None, "s");
        made.source_version_id = Some("v1".into());
        let mut ours = made.clone();
        ours.source_version_id = Some("v2".into());
        assert_eq!(decide(&ours, Some(&existing(made))), write(true));
    }

    #[test]
    fn metadata_round_trips() {
        let mut p = provenance("e1", Some("0A"), "e1-0011223344556677");
        p.source_version_id = Some("v".into());
        let map: HashMap<String, String> = p.metadata().into_iter().collect();
        assert_eq!(Provenance::from_metadata(&map), Some(p));
        assert_eq!(Provenance::from_metadata(&HashMap::new()), None);
    }

    /// The placeholder rides with the provenance, and even the longest values of both (a 1,024-byte
    /// version id is S3's own limit; a ThumbHash with alpha is at most 44 base64 characters) stay
    /// within S3's 2 KB of user metadata: a write never fails for its metadata's size.
    #[test]
    fn the_placeholder_round_trips_within_the_metadata_limit() {
        let mut p = provenance(
            &"e".repeat(70),
            Some(&"F".repeat(64)),
            "e1-0011223344556677",
        );
        p.source_version_id = Some("v".repeat(1024));
        p.source_last_modified = Some("Sat, 28 Nov 2026 11:00:00 GMT".into());
        let placeholder = "x".repeat(44);
        let metadata = output_metadata(&p, &placeholder);
        let size: usize = metadata.iter().map(|(k, v)| k.len() + v.len()).sum();
        assert!(size <= USER_METADATA_LIMIT, "{size} bytes");
        let map: HashMap<String, String> = metadata.into_iter().collect();
        assert_eq!(placeholder_from_metadata(&map), Some(placeholder));
        assert_eq!(Provenance::from_metadata(&map), Some(p.clone()));
        let without: HashMap<String, String> = output_metadata(&p, "").into_iter().collect();
        assert_eq!(placeholder_from_metadata(&without), None);
    }

    #[test]
    fn sequencers_compare_as_left_padded_hex() {
        assert_eq!(compare_sequencers("A", "09"), Ordering::Greater);
        assert_eq!(compare_sequencers("0a", "A"), Ordering::Equal);
        assert_eq!(compare_sequencers("FF", "100"), Ordering::Less);
        assert_eq!(normalise_sequencer(""), None);
        assert_eq!(normalise_sequencer("xyz"), None);
        assert_eq!(normalise_sequencer(" 0a "), Some("0A".into()));
    }

    #[test]
    fn the_fingerprint_is_stable_and_covers_every_setting() {
        let single = Rendition::single(1000, None);
        let base = Settings {
            rendition: &single,
            format: OutputFormat::Jpeg,
            quality: 82,
            color: ColorMode::Srgb,
            dest_prefix: "output/",
            dest_key_pattern: "{dir}{stem}_{name}.{ext}",
            cache_control: None,
        };
        // A stored value (FNV-1a 64 checked with an independent Python one-liner): if this changes, every
        // deployed output is remade by the next event or backfill. Bump ENGINE_VERSION on purpose instead.
        // It is the value the single output had before renditions, under the pattern
        // `{dir}{stem}_resized.{ext}`, which the default pattern gives the default rendition.
        assert_eq!(base.fingerprint(), "e1-02d404f7a24a462d");
        let smaller = Rendition::single(999, None);
        let renamed = Rendition {
            name: "thumb".into(),
            ..single.clone()
        };
        let covered = Rendition {
            fit: Fit::Cover,
            ..single.clone()
        };
        let attention = Rendition {
            fit: Fit::Cover,
            gravity: Gravity::Attention,
            ..single.clone()
        };
        let variants = [
            Settings {
                rendition: &smaller,
                ..base
            },
            Settings {
                rendition: &renamed,
                ..base
            },
            Settings {
                rendition: &covered,
                ..base
            },
            Settings {
                rendition: &attention,
                ..base
            },
            Settings {
                format: OutputFormat::Webp,
                ..base
            },
            Settings {
                quality: 81,
                ..base
            },
            Settings {
                color: ColorMode::Keep,
                ..base
            },
            Settings {
                dest_prefix: "out/",
                ..base
            },
            Settings {
                dest_key_pattern: "{dir}{stem}.{ext}",
                ..base
            },
            Settings {
                cache_control: Some("max-age=60"),
                ..base
            },
        ];
        for variant in variants {
            assert_ne!(variant.fingerprint(), base.fingerprint(), "{variant:?}");
        }
        assert_ne!(
            Settings {
                rendition: &covered,
                ..base
            }
            .fingerprint(),
            Settings {
                rendition: &attention,
                ..base
            }
            .fingerprint()
        );
    }

    proptest! {
        /// Whatever order two events of one key are decided in, the output ends from the later one.
        #[test]
        fn the_later_event_wins_in_either_order(a in 0u64..1 << 40, b in 0u64..1 << 40) {
            prop_assume!(a != b);
            let (older, newer) = (a.min(b), a.max(b));
            let p = |n: u64| provenance(&format!("e{n}"), Some(&format!("{n:X}")), "s");
            // newer first, then the older arrives
            prop_assert_eq!(decide(&p(older), Some(&existing(p(newer)))), Decision::Skip(SkipReason::NewerOutputExists));
            // older first, then the newer replaces it
            prop_assert_eq!(decide(&p(newer), Some(&existing(p(older)))), write(false));
        }
    }
}
