//! The invocation's input, in any of the shapes the function is wired with, as one request.
//!
//! - the state machine's / API's `{"bucket", "key", "size", ...}` (CONTRACT.md);
//! - a raw EventBridge "Object Created" event from S3;
//! - an S3 event notification (`{"Records": [...]}`).
//!
//! The last two carry URL-encoded keys, the first says how its key is written.

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use aws_lambda_events::event::s3::S3Event;
use serde::Deserialize;
use serde_json::Value;

use crate::config::Config;
use crate::engine::{ColorMode, OutputFormat};
use crate::engine::{QUALITY_RANGE, SIZE_RANGE};
use crate::error::Error;
use crate::keys::{KeyEncoding, MAX_KEY_BYTES};
use crate::provenance::normalise_sequencer;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResizeRequest {
    pub bucket: String,
    pub key: String,
    pub key_encoding: KeyEncoding,
    /// Longest edge of the output, 1..=10000.
    pub size: u32,
    pub format: Option<OutputFormat>,
    pub quality: u8,
    pub color: ColorMode,
    /// The S3 event's `detail.object.sequencer` (upper-case hex): orders events of one key. `None` on the
    /// API and backfill paths, and when the event carried none (the input transformer then gives `""`).
    pub sequencer: Option<String>,
}

/// The direct shape. Unknown fields (such as `objectSize`) are ignored.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Direct {
    bucket: String,
    key: String,
    size: Option<i64>,
    format: Option<String>,
    quality: Option<i64>,
    color: Option<String>,
    key_encoding: Option<KeyEncoding>,
    sequencer: Option<String>,
}

pub fn parse(event: &Value, config: &Config) -> Result<ResizeRequest, Error> {
    let object = event
        .as_object()
        .ok_or_else(|| invalid("the input must be a JSON object"))?;
    let direct = if object.contains_key("Records") {
        from_s3_notification(event)?
    } else if object.contains_key("detail-type") {
        from_eventbridge(event)?
    } else {
        Direct::deserialize(event).map_err(|e| invalid(&e.to_string()))?
    };
    validate(direct, config)
}

fn from_s3_notification(event: &Value) -> Result<Direct, Error> {
    let event = S3Event::deserialize(event)
        .map_err(|e| invalid(&format!("not an S3 notification: {e}")))?;
    let record = event
        .records
        .into_iter()
        .next()
        .ok_or_else(|| invalid("the S3 notification has no records"))?;
    Ok(Direct {
        bucket: record.s3.bucket.name.unwrap_or_default(),
        key: record.s3.object.key.unwrap_or_default(),
        size: None,
        format: None,
        quality: None,
        color: None,
        key_encoding: Some(KeyEncoding::Url),
        sequencer: record.s3.object.sequencer,
    })
}

fn from_eventbridge(event: &Value) -> Result<Direct, Error> {
    let event = EventBridgeEvent::<Value>::deserialize(event)
        .map_err(|e| invalid(&format!("not an EventBridge event: {e}")))?;
    if event.source != "aws.s3" || event.detail_type != "Object Created" {
        return Err(invalid(&format!(
            "expected an S3 \"Object Created\" event, got {:?} from {:?}",
            event.detail_type, event.source
        )));
    }
    let text = |pointer: &str| event.detail.pointer(pointer).and_then(Value::as_str);
    Ok(Direct {
        bucket: text("/bucket/name").unwrap_or_default().to_string(),
        key: text("/object/key").unwrap_or_default().to_string(),
        size: None,
        format: None,
        quality: None,
        color: None,
        key_encoding: Some(KeyEncoding::Url),
        sequencer: text("/object/sequencer").map(String::from),
    })
}

fn validate(direct: Direct, config: &Config) -> Result<ResizeRequest, Error> {
    if direct.bucket.is_empty() {
        return Err(invalid("bucket must not be empty"));
    }
    if direct.key.is_empty() {
        return Err(invalid("key must not be empty"));
    }
    if direct.key.len() > MAX_KEY_BYTES * 3 {
        // Even fully URL-encoded, a valid key is at most three times S3's limit.
        return Err(invalid(&format!(
            "key is longer than S3's {MAX_KEY_BYTES} bytes"
        )));
    }
    let size = match direct.size {
        None => config.default_size,
        Some(size) => u32::try_from(size)
            .ok()
            .filter(|s| SIZE_RANGE.contains(s))
            .ok_or_else(|| {
                invalid(&format!(
                    "size must be from {} to {}, got {size}",
                    SIZE_RANGE.start(),
                    SIZE_RANGE.end()
                ))
            })?,
    };
    let quality = match direct.quality {
        None => config.quality,
        Some(q) => u8::try_from(q)
            .ok()
            .filter(|q| QUALITY_RANGE.contains(q))
            .ok_or_else(|| {
                invalid(&format!(
                    "quality must be from {} to {}, got {q}",
                    QUALITY_RANGE.start(),
                    QUALITY_RANGE.end()
                ))
            })?,
    };
    let format = match direct.format.as_deref() {
        None => None,
        Some(name) => Some(OutputFormat::parse(name).ok_or_else(|| {
            invalid(&format!(
                "format must be jpeg, png, webp or avif, got {name:?}"
            ))
        })?),
    };
    let color = match direct.color.as_deref() {
        None => config.color,
        Some(name) => name.parse()?,
    };
    let sequencer = match direct.sequencer.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => Some(normalise_sequencer(text).ok_or_else(|| {
            invalid(&format!(
                "sequencer must be up to 64 hexadecimal digits, got {text:?}"
            ))
        })?),
    };
    Ok(ResizeRequest {
        bucket: direct.bucket,
        key: direct.key,
        key_encoding: direct.key_encoding.unwrap_or_default(),
        size,
        format,
        quality,
        color,
        sequencer,
    })
}

fn invalid(message: &str) -> Error {
    Error::InvalidRequest(message.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn config() -> Config {
        Config::from_lookup(|name| (name == "DEST_BUCKET").then(|| "out".to_string()))
            .expect("config")
    }

    fn code(event: Value) -> &'static str {
        parse(&event, &config())
            .map(|_| "OK")
            .unwrap_or_else(|e| e.code())
    }

    #[test]
    fn the_seed_input() {
        let request = parse(
            &json!({"bucket": "in", "key": "a b.jpg", "size": 640}),
            &config(),
        )
        .expect("valid");
        assert_eq!(
            request,
            ResizeRequest {
                bucket: "in".into(),
                key: "a b.jpg".into(),
                key_encoding: KeyEncoding::Raw,
                size: 640,
                format: None,
                quality: 82,
                color: ColorMode::Srgb,
                sequencer: None,
            }
        );
    }

    #[test]
    fn color_comes_from_the_request_or_the_configuration() {
        let keep = parse(
            &json!({"bucket": "in", "key": "k", "color": "keep"}),
            &config(),
        )
        .expect("keep");
        assert_eq!(keep.color, ColorMode::Keep);
        let configured = Config {
            color: ColorMode::Keep,
            ..config()
        };
        let default = parse(&json!({"bucket": "in", "key": "k"}), &configured).expect("default");
        assert_eq!(default.color, ColorMode::Keep);
        assert_eq!(
            code(json!({"bucket": "in", "key": "k", "color": "p3"})),
            "INVALID_REQUEST"
        );
        assert_eq!(
            code(json!({"bucket": "in", "key": "k", "color": 1})),
            "INVALID_REQUEST"
        );
    }

    #[test]
    fn the_input_transformer_output() {
        let event = json!({"bucket": "in", "key": "my%20photo.jpg", "size": 1000,
                           "objectSize": "", "keyEncoding": "url", "sequencer": "0062e99a88dc407460"});
        let request = parse(&event, &config()).expect("valid");
        assert_eq!(request.key_encoding, KeyEncoding::Url);
        assert_eq!(request.size, 1000);
        assert_eq!(request.sequencer.as_deref(), Some("0062E99A88DC407460"));
        // An event without a sequencer: the transformer fills the placeholder with "".
        let mut without = event.clone();
        without["sequencer"] = json!("");
        assert_eq!(parse(&without, &config()).expect("valid").sequencer, None);
    }

    #[test]
    fn optional_fields_and_defaults() {
        let request = parse(
            &json!({"bucket": "in", "key": "k", "format": "WEBP", "quality": 50}),
            &config(),
        )
        .expect("valid");
        assert_eq!((request.size, request.quality), (1000, 50));
        assert_eq!(request.format, Some(OutputFormat::Webp));
    }

    #[test]
    fn an_eventbridge_event() {
        let event = json!({
            "version": "0", "id": "1", "detail-type": "Object Created", "source": "aws.s3",
            "account": "1", "time": "2024-01-01T00:00:00Z", "region": "us-east-1", "resources": [],
            "detail": {"bucket": {"name": "in"}, "object": {"key": "red+flower.jpg", "size": 5,
                                                            "sequencer": "0A"}}
        });
        let request = parse(&event, &config()).expect("valid");
        assert_eq!(request.sequencer.as_deref(), Some("0A"));
        assert_eq!(
            (request.bucket.as_str(), request.key.as_str()),
            ("in", "red+flower.jpg")
        );
        assert_eq!(request.key_encoding, KeyEncoding::Url);
        let mut other = event.clone();
        other["detail-type"] = json!("Object Deleted");
        assert_eq!(code(other), "INVALID_REQUEST");
    }

    #[test]
    fn an_s3_notification() {
        let event = json!({"Records": [{
            "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
            "eventTime": "2024-01-01T00:00:00.000Z", "eventName": "ObjectCreated:Put",
            "userIdentity": {"principalId": "x"}, "requestParameters": {"sourceIPAddress": "1.2.3.4"},
            "responseElements": {},
            "s3": {"s3SchemaVersion": "1.0", "configurationId": "c",
                   "bucket": {"name": "in", "ownerIdentity": {"principalId": "x"}, "arn": "arn:aws:s3:::in"},
                   "object": {"key": "a%2Bb.jpg", "size": 5, "eTag": "e", "sequencer": "0"}}
        }]});
        let request = parse(&event, &config()).expect("valid");
        assert_eq!(
            (request.bucket.as_str(), request.key.as_str()),
            ("in", "a%2Bb.jpg")
        );
        assert_eq!(request.key_encoding, KeyEncoding::Url);
        assert_eq!(request.sequencer.as_deref(), Some("0"), "{request:?}");
        assert_eq!(code(json!({"Records": []})), "INVALID_REQUEST");
    }

    #[test]
    fn bad_requests_are_invalid() {
        for event in [
            json!(null),
            json!([]),
            json!("text"),
            json!({}),
            json!({"bucket": "in"}),
            json!({"key": "k"}),
            json!({"bucket": "", "key": "k"}),
            json!({"bucket": "in", "key": ""}),
            json!({"bucket": 7, "key": "k"}),
            json!({"bucket": "in", "key": "k", "size": 0}),
            json!({"bucket": "in", "key": "k", "size": 10001}),
            json!({"bucket": "in", "key": "k", "size": -1}),
            json!({"bucket": "in", "key": "k", "size": 1.5}),
            json!({"bucket": "in", "key": "k", "size": "100"}),
            json!({"bucket": "in", "key": "k", "quality": 0}),
            json!({"bucket": "in", "key": "k", "format": "tiff"}),
            json!({"bucket": "in", "key": "k", "keyEncoding": "base64"}),
            json!({"bucket": "in", "key": "k", "sequencer": "not hex"}),
            json!({"bucket": "in", "key": "k", "sequencer": 12}),
        ] {
            assert_eq!(code(event.clone()), "INVALID_REQUEST", "{event}");
        }
    }

    fn arbitrary_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            "\\PC{0,20}".prop_map(Value::from),
            prop_oneof![
                Just("bucket"),
                Just("key"),
                Just("size"),
                Just("Records"),
                Just("detail-type")
            ]
            .prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
                prop::collection::btree_map(
                    prop_oneof![
                        Just("bucket".to_string()),
                        Just("key".to_string()),
                        Just("size".to_string()),
                        Just("Records".to_string()),
                        Just("detail-type".to_string()),
                        Just("detail".to_string()),
                        Just("source".to_string()),
                        "\\PC{0,8}"
                    ],
                    inner,
                    0..6
                )
                .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn arbitrary_json_is_a_request_or_invalid(event in arbitrary_json()) {
            match parse(&event, &config()) {
                Ok(request) => {
                    prop_assert!(!request.bucket.is_empty() && !request.key.is_empty());
                    prop_assert!(SIZE_RANGE.contains(&request.size));
                }
                Err(error) => prop_assert_eq!(error.code(), "INVALID_REQUEST"),
            }
        }

        #[test]
        fn sizes_outside_the_range_are_invalid(size in prop_oneof![i64::MIN..=0, 10_001i64..=i64::MAX]) {
            prop_assert_eq!(code(json!({"bucket": "in", "key": "k", "size": size})), "INVALID_REQUEST");
        }
    }
}
