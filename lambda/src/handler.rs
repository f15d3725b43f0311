//! One invocation, top to bottom: request → fetch → (are the outputs already current? see
//! [`crate::provenance`]) → engine (every rendition, one decode) → conditional stores, all or nothing →
//! response.

use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::Value;
use tracing::{info, warn, Instrument};

use crate::config::Config;
use crate::engine::{self, Job, OutputFormat, Rendered, Rendition};
use crate::error::Error;
use crate::fetch::{fetch, Source};
use crate::keys::destination_key;
use crate::provenance::{
    bare_etag, decide, output_metadata, placeholder_from_metadata, source_id, Decision,
    ExistingOutput, Provenance, Settings, SkipReason,
};
use crate::request::{self, ResizeRequest};
use crate::response::{to_json, Done, OutputSummary, Rejected, Skipped, SourceSummary, Success};
use crate::store::{head, remove, store, NewObject, ObjectStore, Stored};

/// Conditional writes lost in a row before giving up with a retryable error. Each loss means another
/// execution wrote the same output in between; two concurrent events of one key lose at most once each.
const MAX_CONDITIONAL_WRITES: usize = 4;

pub struct Handler<S> {
    config: Config,
    store: S,
}

/// One output to make: which rendition, in which format, where, recording what.
struct Planned<'a> {
    rendition: &'a Rendition,
    format: OutputFormat,
    key: String,
    provenance: Provenance,
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
        let result = if crate::delete::is_request(event) {
            crate::delete::run(&self.store, &self.config, event)
                .await
                .map(|deleted| deleted.to_json())
        } else {
            self.process(event).await.map(|done| done.to_json())
        };
        match result {
            Ok(answer) => Ok(answer),
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
        info!(bucket = %request.bucket, key = %request.key, renditions = request.renditions.len(),
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

        // The header alone tells the outputs' formats, so their keys: they are checked before decoding.
        let header = engine::inspect(&source.data, &self.config.limits())?;
        let planned = self.plan(&request, &source, header.format)?;
        let summary = SourceSummary {
            bucket: request.bucket.clone(),
            key: source.key.clone(),
            width: header.width,
            height: header.height,
            format: header.format,
            bytes: source.data.len(),
            etag: source.info.etag.as_deref().map(bare_etag),
        };

        let mut decisions = Vec::with_capacity(planned.len());
        // What a skip answers as its placeholder: the one recorded on the first output (nothing decoded).
        let mut recorded_placeholder = None;
        for (i, output) in planned.iter().enumerate() {
            let existing = self.existing_output(&output.key).await?;
            if i == 0 {
                recorded_placeholder = existing.as_ref().and_then(|o| o.placeholder.clone());
            }
            decisions.push(decide(&output.provenance, existing.as_ref()));
        }
        let to_make: Vec<bool> = decisions
            .iter()
            .map(|d| matches!(d, Decision::Write { .. }))
            .collect();
        if !to_make.contains(&true) {
            // Nothing to write. A newer output anywhere means a later event owns this key's outputs.
            let reason = decisions
                .iter()
                .find_map(|d| match d {
                    Decision::Skip(SkipReason::NewerOutputExists) => {
                        Some(SkipReason::NewerOutputExists)
                    }
                    _ => None,
                })
                .unwrap_or(SkipReason::UpToDate);
            return Ok(self.skipped(reason, &planned, &decisions, summary, recorded_placeholder));
        }

        // Every output is encoded before the first write: a rendition that cannot be made leaves
        // nothing behind. Only renditions with an output to write are made.
        let renditions: Vec<Rendition> = request
            .renditions
            .iter()
            .filter(|r| {
                planned
                    .iter()
                    .zip(&to_make)
                    .any(|(p, &make)| make && p.rendition.name == r.name)
            })
            .cloned()
            .collect();
        let job = Job {
            renditions,
            quality: request.quality,
            color: request.color,
            parallelism: self.config.parallelism,
            avif_budget: self.config.avif_time_budget,
        };
        let rendered = run_engine(source.data, job, self.config.limits()).await?;

        let verify_source = decisions.iter().any(|d| {
            matches!(
                d,
                Decision::Write {
                    verify_source: true,
                    ..
                }
            )
        });
        if verify_source
            && self
                .source_changed(&request.bucket, &source.key, &planned[0].provenance)
                .await?
        {
            return Ok(self.skipped(
                SkipReason::SourceChanged,
                &planned,
                &decisions,
                summary,
                recorded_placeholder,
            ));
        }

        let mut written: Vec<&Planned> = Vec::new();
        let mut outputs = Vec::with_capacity(planned.len());
        let mut first_skip = None;
        let mut left_as_it_is = |output: &Planned, reason: SkipReason, outputs: &mut Vec<_>| {
            first_skip = first_skip.or(Some(reason));
            outputs.push(OutputSummary::skipped(
                &output.rendition.name,
                output.format,
                &output.key,
                reason,
            ));
        };
        for (output, decision) in planned.iter().zip(decisions) {
            let condition = match decision {
                Decision::Write { condition, .. } => condition,
                Decision::Skip(reason) => {
                    left_as_it_is(output, reason, &mut outputs);
                    continue;
                }
            };
            let Some(image) = rendered
                .outputs
                .iter()
                .find(|o| o.name == output.rendition.name && o.format == output.format)
            else {
                self.remove_written(&written).await;
                return Err(Error::Internal(format!(
                    "rendition {:?} made no {} output",
                    output.rendition.name,
                    output.format.name()
                )));
            };
            match self
                .write(
                    output,
                    image,
                    condition,
                    (&request.bucket, &source.key),
                    &rendered.placeholder,
                )
                .await
            {
                Ok(Some(reason)) => left_as_it_is(output, reason, &mut outputs),
                Ok(None) => {
                    written.push(output);
                    outputs.push(OutputSummary::written(
                        &output.rendition.name,
                        output.format,
                        &output.key,
                        image.width,
                        image.height,
                        image.bytes.len(),
                    ));
                }
                Err(error) => {
                    let error = error.in_rendition(&output.rendition.name);
                    warn!(error = %error, written = written.len(), "a write failed; removing this invocation's outputs");
                    self.remove_written(&written).await;
                    return Err(error);
                }
            }
        }
        let Rendered {
            source: read,
            placeholder,
            ..
        } = rendered;
        let summary = SourceSummary {
            width: read.width,
            height: read.height,
            format: read.format,
            ..summary
        };
        info!(bucket = %request.bucket, key = %source.key, written = written.len(),
              outputs = outputs.len(), "resized");
        if written.is_empty() {
            let reason = first_skip.unwrap_or(SkipReason::UpToDate);
            return Ok(Done::Skipped(Skipped::new(
                self.config.dest_bucket.clone(),
                reason,
                summary,
                outputs,
                recorded_placeholder,
            )));
        }
        Ok(Done::Written(Success::new(
            self.config.dest_bucket.clone(),
            summary,
            outputs,
            placeholder,
        )))
    }

    /// Every output of the request: its key (refused if two would share one) and what it records.
    fn plan<'a>(
        &self,
        request: &'a ResizeRequest,
        source: &Source,
        input: engine::InputFormat,
    ) -> Result<Vec<Planned<'a>>, Error> {
        let mut planned: Vec<Planned> = Vec::new();
        for rendition in &request.renditions {
            for format in rendition.formats_for(input) {
                let key = destination_key(
                    &self.config.dest_prefix,
                    &self.config.dest_key_pattern,
                    &source.key,
                    format,
                    rendition.key_size(),
                    &rendition.name,
                )?;
                if planned.iter().any(|p| p.key == key) {
                    return Err(Error::InvalidRequest(format!(
                        "two outputs would be written to {key:?}"
                    )));
                }
                let settings = Settings {
                    rendition,
                    format,
                    quality: rendition.quality.unwrap_or(request.quality),
                    color: request.color,
                    dest_prefix: &self.config.dest_prefix,
                    dest_key_pattern: &self.config.dest_key_pattern,
                    cache_control: self.config.cache_control.as_deref(),
                };
                planned.push(Planned {
                    rendition,
                    format,
                    key,
                    provenance: self.provenance(request, source, settings.fingerprint()),
                });
            }
        }
        Ok(planned)
    }

    /// The answer when nothing is written.
    fn skipped(
        &self,
        reason: SkipReason,
        planned: &[Planned],
        decisions: &[Decision],
        summary: SourceSummary,
        placeholder: Option<String>,
    ) -> Done {
        let outputs = planned
            .iter()
            .zip(decisions)
            .map(|(p, d)| {
                let reason = match d {
                    Decision::Skip(own) => *own,
                    Decision::Write { .. } => reason,
                };
                OutputSummary::skipped(&p.rendition.name, p.format, &p.key, reason)
            })
            .collect();
        info!(bucket = %summary.bucket, key = %summary.key, reason = reason.code(), "skipped");
        Done::Skipped(Skipped::new(
            self.config.dest_bucket.clone(),
            reason,
            summary,
            outputs,
            placeholder,
        ))
    }

    /// Writes one output under `condition`; a lost race is decided again. `Some(reason)` when it was
    /// left as another execution wrote it, or because the source (`bucket`, `key`) changed meanwhile.
    async fn write(
        &self,
        output: &Planned<'_>,
        image: &engine::Output,
        mut condition: crate::provenance::Condition,
        (bucket, key): (&str, &str),
        placeholder: &str,
    ) -> Result<Option<SkipReason>, Error> {
        let metadata = output_metadata(&output.provenance, placeholder);
        for _ in 0..MAX_CONDITIONAL_WRITES {
            let stored = store(
                &self.store,
                NewObject {
                    bucket: &self.config.dest_bucket,
                    key: &output.key,
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
                    info!(dest_key = %output.key, rendition = %output.rendition.name,
                          width = image.width, height = image.height, bytes = image.bytes.len(), "written");
                    return Ok(None);
                }
                // Another execution wrote the output between our look and our write: look again.
                Stored::ConditionFailed => {
                    info!(dest_key = %output.key, "conditional write lost a race; deciding again");
                    let existing = self.existing_output(&output.key).await?;
                    match decide(&output.provenance, existing.as_ref()) {
                        Decision::Skip(reason) => return Ok(Some(reason)),
                        Decision::Write {
                            verify_source: true,
                            ..
                        } if self.source_changed(bucket, key, &output.provenance).await? => {
                            return Ok(Some(SkipReason::SourceChanged))
                        }
                        Decision::Write {
                            condition: next, ..
                        } => condition = next,
                    }
                }
            }
        }
        Err(Error::Transient(format!(
            "s3://{}/{} kept changing under {MAX_CONDITIONAL_WRITES} conditional writes",
            self.config.dest_bucket, output.key
        )))
    }

    /// All or nothing: removes the outputs this invocation wrote, each only while it still holds what
    /// this invocation wrote (another execution may have replaced it since; that one is kept).
    async fn remove_written(&self, written: &[&Planned<'_>]) {
        for output in written {
            let still_ours = match self.existing_output(&output.key).await {
                Ok(Some(existing)) => existing.provenance.as_ref() == Some(&output.provenance),
                Ok(None) => false,
                Err(error) => {
                    warn!(dest_key = %output.key, error = %error, "cannot tell whether an output is still ours; left in place");
                    false
                }
            };
            if !still_ours {
                continue;
            }
            match remove(&self.store, &self.config.dest_bucket, &output.key).await {
                Ok(()) => info!(dest_key = %output.key, "removed"),
                Err(error) => {
                    warn!(dest_key = %output.key, error = %error, "could not remove an output")
                }
            }
        }
    }

    /// What an output will record it was made from.
    fn provenance(&self, request: &ResizeRequest, source: &Source, settings: String) -> Provenance {
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
            settings,
        }
    }

    /// The output already at `dest_key`, if any (HeadObject).
    async fn existing_output(&self, dest_key: &str) -> Result<Option<ExistingOutput>, Error> {
        let info = head(&self.store, &self.config.dest_bucket, dest_key).await?;
        Ok(info.map(|info| ExistingOutput {
            etag: info.etag.as_deref().map(bare_etag).unwrap_or_default(),
            provenance: Provenance::from_metadata(&info.metadata),
            placeholder: placeholder_from_metadata(&info.metadata),
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
async fn run_engine(data: Vec<u8>, job: Job, limits: engine::Limits) -> Result<Rendered, Error> {
    off_the_runtime(move || engine::render(&data, &job, &limits)).await
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
