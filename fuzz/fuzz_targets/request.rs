//! Arbitrary bytes → JSON → the whole handler (parse → bucket check → fetch → engine → store) with a
//! store that has the tests' tiny JPEG under every key (and answers empty or over-long keys as S3 does,
//! with an error the handler must never meet). Every event must be answered: `ok: true` with exactly
//! one object written where the answer says, or `ok: false` with a stable code and nothing written.
#![no_main]

use std::sync::OnceLock;

use imgresize::config::Config;
use imgresize::engine::rendition::check_set;
use imgresize::engine::QUALITY_RANGE;
use imgresize::handler::Handler;
use imgresize::request;
use imgresize_fuzz::{tiny_jpeg, MemoryStore};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

struct Fixture {
    runtime: tokio::runtime::Runtime,
    handler: Handler<MemoryStore>,
    store: MemoryStore,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let config = Config::from_lookup(|name| match name {
            "DEST_BUCKET" => Some("resized".to_string()),
            "ALLOWED_SOURCE_BUCKETS" => Some("originals,resized".to_string()),
            _ => None,
        })
        .expect("config");
        let store = MemoryStore::with_any_key(tiny_jpeg());
        Fixture {
            runtime: tokio::runtime::Builder::new_current_thread()
                .build()
                .expect("runtime"),
            handler: Handler::new(config, store.clone()),
            store,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(event) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let fixture = fixture();
    let config = fixture.handler.config();
    let parsed = request::parse(&event, config);
    if let Err(error) = &parsed {
        assert_eq!(error.code(), "INVALID_REQUEST", "{error}");
    }
    if let Ok(request) = &parsed {
        assert!(!request.bucket.is_empty() && !request.key.is_empty());
        assert!(check_set(&request.renditions).is_ok());
        assert!(QUALITY_RANGE.contains(&request.quality));
    }

    let answer = fixture
        .runtime
        .block_on(fixture.handler.handle(&event))
        .unwrap_or_else(|e| panic!("a store that never fails made the handler fail: {e}"));
    let written: Vec<(String, String, usize)> = fixture
        .store
        .take_puts()
        .into_iter()
        .map(|(bucket, key, body)| (bucket, key, body.len()))
        .collect();
    match answer["ok"].as_bool() {
        Some(true) => {
            assert!(parsed.is_ok(), "a rejected request was resized: {answer}");
            assert_eq!(answer["statusCode"], 200);
            // Every output listed is written (this store holds no current output to skip), the first
            // one is `destKey`.
            let outputs = answer["outputs"].as_array().map_or(0, Vec::len);
            assert!(outputs >= 1 && written.len() == outputs, "{answer}");
            let (bucket, key, bytes) = &written[0];
            assert_eq!(answer["destBucket"], bucket.as_str());
            assert_eq!(answer["destKey"], key.as_str());
            assert_eq!(answer["bytes"].as_u64(), Some(*bytes as u64));
            for (_, key, _) in &written {
                assert!(key.starts_with(config.dest_prefix.as_str()) && key.len() <= 1024);
            }
        }
        Some(false) => {
            assert!(written.is_empty(), "a rejection wrote {written:?}");
            let code = answer["error"]["code"].as_str().unwrap_or_default();
            assert!(
                matches!(code, "INVALID_REQUEST" | "BUCKET_NOT_ALLOWED"),
                "{answer}"
            );
            assert!(answer["statusCode"]
                .as_u64()
                .is_some_and(|s| (400..500).contains(&s)));
        }
        None => panic!("an answer without ok: {answer}"),
    }
});
