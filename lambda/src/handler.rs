//! One invocation, top to bottom: request → fetch → engine → store → response.

use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::Value;
use tracing::{info, warn, Instrument};

use crate::config::Config;
use crate::engine::{self, Options, Resized};
use crate::error::Error;
use crate::fetch::fetch;
use crate::keys::destination_key;
use crate::request::{self, ResizeRequest};
use crate::response::{to_json, Rejected, SourceSummary, Success};
use crate::store::{store, NewObject, ObjectStore};

pub struct Handler<S> {
    config: Config,
    store: S,
}

impl<S: ObjectStore> Handler<S> {
    pub fn new(config: Config, store: S) -> Self {
        Handler { config, store }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The Lambda entry point: rejections are answers (`ok: false`), other failures are Lambda
    /// errors whose type (`TransientError`, `InternalError`) the state machine's Retry matches.
    pub async fn invoke(&self, event: LambdaEvent<Value>) -> Result<Value, Diagnostic> {
        // The span is attached to the future, not entered: a guard held across `.await` would leave it
        // entered on whatever else the runtime polls meanwhile (clippy.toml forbids that guard there).
        let span = tracing::info_span!("resize", request_id = %event.context.request_id);
        self.handle(&event.payload)
            .instrument(span)
            .await
            .map_err(Diagnostic::from)
    }

    /// Everything but the Lambda types: `Ok` holds the answer, success or rejection.
    pub async fn handle(&self, event: &Value) -> Result<Value, Error> {
        match self.process(event).await {
            Ok(success) => Ok(to_json(&success)),
            Err(error) if error.is_rejection() => {
                warn!(code = error.code(), error = %error, "rejected");
                Ok(to_json(&Rejected::from(&error)))
            }
            Err(error) => {
                warn!(code = error.code(), error = %error, "failed");
                Err(error)
            }
        }
    }

    async fn process(&self, event: &Value) -> Result<Success, Error> {
        let request = request::parse(event, &self.config)?;
        info!(bucket = %request.bucket, key = %request.key, size = request.size, "request");
        self.check_bucket(&request)?;
        let source = fetch(
            &self.store,
            &request.bucket,
            &request.key,
            request.key_encoding,
            self.config.max_input_bytes,
        )
        .await?;
        if source.key != request.key {
            info!(key = %source.key, "found under the other reading of the key");
        }
        self.check_not_own_output(&request.bucket, &source.key)?;

        let options = Options {
            size: request.size,
            format: request.format,
            quality: request.quality,
            color: request.color,
        };
        let source_bytes = source.data.len();
        let resized = run_engine(source.data, options, self.config.limits()).await?;
        let dest_key = destination_key(
            &self.config.dest_prefix,
            &self.config.dest_key_pattern,
            &source.key,
            resized.format,
            request.size,
        )?;
        store(
            &self.store,
            NewObject {
                bucket: &self.config.dest_bucket,
                key: &dest_key,
                body: &resized.bytes,
                content_type: resized.format.content_type(),
                cache_control: self.config.cache_control.as_deref(),
            },
        )
        .await?;
        info!(
            bucket = %request.bucket, key = %source.key, dest_key = %dest_key,
            width = resized.width, height = resized.height, bytes = resized.bytes.len(),
            "resized"
        );
        let summary = SourceSummary {
            bucket: request.bucket,
            key: source.key,
            width: resized.source.width,
            height: resized.source.height,
            format: resized.source.format,
            bytes: source_bytes,
        };
        Ok(Success::new(
            self.config.dest_bucket.clone(),
            dest_key,
            &resized,
            summary,
        ))
    }

    fn check_bucket(&self, request: &ResizeRequest) -> Result<(), Error> {
        if self.config.allows_bucket(&request.bucket) {
            Ok(())
        } else {
            Err(Error::BucketNotAllowed {
                bucket: request.bucket.clone(),
                reason: "not in ALLOWED_SOURCE_BUCKETS".into(),
            })
        }
    }

    /// Writing back into the source bucket is allowed only where the output cannot trigger the
    /// function again: under a prefix, and never from an object already under it.
    fn check_not_own_output(&self, bucket: &str, key: &str) -> Result<(), Error> {
        if bucket != self.config.dest_bucket {
            return Ok(());
        }
        let prefix = &self.config.dest_prefix;
        if prefix.is_empty() || key.starts_with(prefix.as_str()) {
            return Err(Error::BucketNotAllowed {
                bucket: bucket.to_string(),
                reason: format!(
                    "the output would be written under {prefix:?} of the source bucket and trigger the function again"
                ),
            });
        }
        Ok(())
    }
}

/// The engine is CPU-bound: it runs off the async runtime.
async fn run_engine(
    data: Vec<u8>,
    options: Options,
    limits: engine::Limits,
) -> Result<Resized, Error> {
    off_the_runtime(move || engine::resize(&data, &options, &limits)).await
}

/// Runs `work` on the blocking pool. A panic in it (a bug of ours: the JPEG decoder lets only libjpeg's
/// own fatal errors become `CORRUPT_IMAGE`) becomes an [`Error::Internal`], a Lambda error that alarms,
/// instead of taking the process down or passing for the user's bad input.
async fn off_the_runtime<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| Error::Internal(format!("the engine stopped: {e}")))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panic_in_the_engine_is_an_internal_failure() {
        let result = off_the_runtime(|| -> Result<(), Error> { panic!("a bug of ours") }).await;
        match result {
            Err(error) => {
                assert_eq!(error.code(), "INTERNAL");
                assert!(!error.is_rejection());
                assert_eq!(error.lambda_error_type(), "InternalError");
            }
            Ok(()) => panic!("the panic was swallowed"),
        }
    }
}
