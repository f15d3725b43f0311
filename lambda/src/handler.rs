//! One invocation, top to bottom: request → fetch → (is the output already current? see
//! [`crate::provenance`]) → engine → conditional store → response.

use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::Value;
use tracing::{info, warn, Instrument};

use crate::config::Config;
use crate::engine::{self, Options, Resized};
use crate::error::Error;
use crate::fetch::{fetch, Source};
use crate::keys::destination_key;
use crate::provenance::{
    bare_etag, decide, source_id, Decision, ExistingOutput, Provenance, Settings, SkipReason,
};
use crate::request::{self, ResizeRequest};
use crate::response::{to_json, Done, Rejected, Skipped, SourceSummary, Success};
use crate::store::{head, store, NewObject, ObjectStore, Stored};

/// Conditional writes lost in a row before giving up with a retryable error. Each loss means another
/// execution wrote the same output in between; two concurrent events of one key lose at most once each.
const MAX_CONDITIONAL_WRITES: usize = 4;

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
            Ok(done) => Ok(done.to_json()),
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

    async fn process(&self, event: &Value) -> Result<Done, Error> {
        let request = request::parse(event, &self.config)?;
        info!(bucket = %request.bucket, key = %request.key, size = request.size,
              sequencer = request.sequencer.as_deref().unwrap_or(""), "request");
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

        // The header alone tells the output's format, so its key: the output is checked before decoding.
        let header = engine::inspect(&source.data, &self.config.limits())?;
        let format = request
            .format
            .unwrap_or_else(|| header.format.default_output());
        let dest_key = destination_key(
            &self.config.dest_prefix,
            &self.config.dest_key_pattern,
            &source.key,
            format,
            request.size,
        )?;
        let provenance = self.provenance(&request, &source, format);
        let summary = SourceSummary {
            bucket: request.bucket.clone(),
            key: source.key.clone(),
            width: header.width,
            height: header.height,
            format: header.format,
            bytes: source.data.len(),
        };
        let skip = |reason: SkipReason| {
            info!(bucket = %request.bucket, key = %source.key, dest_key = %dest_key,
                  reason = reason.code(), "skipped");
            Ok(Done::Skipped(Skipped::new(
                self.config.dest_bucket.clone(),
                dest_key.clone(),
                reason,
                summary.clone(),
            )))
        };

        let metadata = provenance.metadata();
        let mut resized: Option<Resized> = None;
        let mut data = Some(source.data);
        for _ in 0..MAX_CONDITIONAL_WRITES {
            let existing = self.existing_output(&dest_key).await?;
            let (condition, verify_source) = match decide(&provenance, existing.as_ref()) {
                Decision::Skip(reason) => return skip(reason),
                Decision::Write {
                    condition,
                    verify_source,
                } => (condition, verify_source),
            };
            let options = Options {
                size: request.size,
                format: Some(format),
                quality: request.quality,
                color: request.color,
                avif_budget: self.config.avif_time_budget,
            };
            let image = match (resized.take(), data.take()) {
                (Some(image), _) => image,
                (None, Some(data)) => run_engine(data, options, self.config.limits()).await?,
                (None, None) => return Err(Error::Internal("the source was consumed".into())),
            };
            if verify_source
                && self
                    .source_changed(&request.bucket, &source.key, &provenance)
                    .await?
            {
                return skip(SkipReason::SourceChanged);
            }
            let stored = store(
                &self.store,
                NewObject {
                    bucket: &self.config.dest_bucket,
                    key: &dest_key,
                    body: &image.bytes,
                    content_type: image.format.content_type(),
                    cache_control: self.config.cache_control.as_deref(),
                    metadata: &metadata,
                    condition: Some(&condition),
                },
            )
            .await?;
            match stored {
                Stored::Written => {
                    info!(
                        bucket = %request.bucket, key = %source.key, dest_key = %dest_key,
                        width = image.width, height = image.height, bytes = image.bytes.len(),
                        "resized"
                    );
                    let summary = SourceSummary {
                        width: image.source.width,
                        height: image.source.height,
                        format: image.source.format,
                        ..summary
                    };
                    return Ok(Done::Written(Success::new(
                        self.config.dest_bucket.clone(),
                        dest_key,
                        &image,
                        summary,
                    )));
                }
                // Another execution wrote the output between our look and our write: look again.
                Stored::ConditionFailed => {
                    info!(dest_key = %dest_key, "conditional write lost a race; deciding again");
                    resized = Some(image);
                }
            }
        }
        Err(Error::Transient(format!(
            "s3://{}/{dest_key} kept changing under {MAX_CONDITIONAL_WRITES} conditional writes",
            self.config.dest_bucket
        )))
    }

    /// What the output will record it was made from.
    fn provenance(
        &self,
        request: &ResizeRequest,
        source: &Source,
        format: engine::OutputFormat,
    ) -> Provenance {
        let settings = Settings {
            size: request.size,
            format,
            quality: request.quality,
            color: request.color,
            dest_prefix: &self.config.dest_prefix,
            dest_key_pattern: &self.config.dest_key_pattern,
            cache_control: self.config.cache_control.as_deref(),
        };
        Provenance {
            source_etag: source
                .info
                .etag
                .as_deref()
                .map(bare_etag)
                .unwrap_or_default(),
            source_version_id: source.info.version_id.clone(),
            source_last_modified: source.info.last_modified.clone(),
            source: source_id(&request.bucket, &source.key),
            sequencer: request.sequencer.clone(),
            settings: settings.fingerprint(),
        }
    }

    /// The output already at `dest_key`, if any (HeadObject).
    async fn existing_output(&self, dest_key: &str) -> Result<Option<ExistingOutput>, Error> {
        let info = head(&self.store, &self.config.dest_bucket, dest_key).await?;
        Ok(info.map(|info| ExistingOutput {
            etag: info.etag.as_deref().map(bare_etag).unwrap_or_default(),
            provenance: Provenance::from_metadata(&info.metadata),
        }))
    }

    /// True if the source is no longer the object that was read (another ETag or version, or gone).
    async fn source_changed(
        &self,
        bucket: &str,
        key: &str,
        read: &Provenance,
    ) -> Result<bool, Error> {
        let Some(now) = head(&self.store, bucket, key).await? else {
            return Ok(true);
        };
        let etag = now.etag.as_deref().map(bare_etag).unwrap_or_default();
        Ok(etag != read.source_etag
            || (now.version_id.is_some() && now.version_id != read.source_version_id))
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
