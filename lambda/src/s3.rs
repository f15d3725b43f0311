//! [`ObjectStore`] on Amazon S3 with the AWS SDK, every call bounded in time.

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::{ByteStream, DateTime, DateTimeFormat};
use aws_sdk_s3::Client;
use std::time::Duration;

use crate::config::S3Settings;
use crate::provenance::Condition;
use crate::store::{Fetched, NewObject, ObjectInfo, ObjectStore, StoreError};

#[derive(Debug, Clone)]
pub struct S3Store {
    client: Client,
    settings: S3Settings,
}

impl S3Store {
    /// A client from the standard AWS environment (region, credentials, `AWS_ENDPOINT_URL`).
    pub async fn from_env(settings: S3Settings) -> Self {
        let sdk_config = aws_config::defaults(BehaviorVersion::latest()).load().await;
        Self::from_sdk_config(&sdk_config, settings)
    }

    /// A client from an explicit SDK configuration, with this function's time bounds and retries.
    pub fn from_sdk_config(sdk_config: &SdkConfig, settings: S3Settings) -> Self {
        // A custom endpoint (an emulator, MinIO) rarely resolves `bucket.host`: use path style.
        let custom_endpoint = sdk_config.endpoint_url().is_some();
        let s3_config = aws_sdk_s3::config::Builder::from(sdk_config)
            .force_path_style(custom_endpoint)
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(settings.attempt_timeout.min(Duration::from_secs(3)))
                    .operation_attempt_timeout(settings.attempt_timeout)
                    .build(),
            )
            .retry_config(RetryConfig::standard().with_max_attempts(settings.max_attempts))
            .build();
        S3Store {
            client: Client::from_conf(s3_config),
            settings,
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }
}

impl ObjectStore for S3Store {
    async fn get(&self, bucket: &str, key: &str, max_bytes: u64) -> Result<Fetched, StoreError> {
        let output = self
            .client
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            // A missing object is a 404, which `classify` reads as NotFound.
            .map_err(|error| classify(&error))?;
        let declared = output.content_length().and_then(|n| u64::try_from(n).ok());
        if let Some(size) = declared.filter(|&size| size > max_bytes) {
            return Err(StoreError::TooLarge { size });
        }
        let info = ObjectInfo {
            etag: output.e_tag.clone(),
            version_id: output.version_id.clone(),
            last_modified: output.last_modified.as_ref().and_then(rfc3339),
            metadata: output.metadata.clone().unwrap_or_default(),
        };
        let read = read_body(output.body, declared, max_bytes);
        match tokio::time::timeout(self.settings.body_timeout, read).await {
            Ok(result) => result.map(|data| Fetched { data, info }),
            Err(_) => Err(StoreError::Transient(format!(
                "the body did not arrive within {:?}",
                self.settings.body_timeout
            ))),
        }
    }

    async fn head(&self, bucket: &str, key: &str) -> Result<ObjectInfo, StoreError> {
        let output = self
            .client
            .head_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            // A missing object is a 404, which `classify` reads as NotFound.
            .map_err(|error| classify(&error))?;
        Ok(ObjectInfo {
            etag: output.e_tag,
            version_id: output.version_id,
            last_modified: output.last_modified.as_ref().and_then(rfc3339),
            metadata: output.metadata.unwrap_or_default(),
        })
    }

    async fn put(&self, object: NewObject<'_>) -> Result<(), StoreError> {
        self.client
            .put_object()
            .bucket(object.bucket)
            .key(object.key)
            .body(ByteStream::from(object.body.to_vec()))
            .content_type(object.content_type)
            .set_cache_control(object.cache_control.map(String::from))
            .set_metadata(
                (!object.metadata.is_empty()).then(|| object.metadata.iter().cloned().collect()),
            )
            .set_if_none_match(
                matches!(object.condition, Some(Condition::Absent)).then(|| "*".to_string()),
            )
            .set_if_match(match object.condition {
                Some(Condition::Matches(etag)) => Some(quoted(etag)),
                _ => None,
            })
            .send()
            .await
            .map(|_| ())
            .map_err(|error| classify(&error))
    }

    async fn list(&self, bucket: &str, prefix: &str) -> Result<Vec<String>, StoreError> {
        let mut keys = Vec::new();
        let mut token = None;
        loop {
            let page = self
                .client
                .list_objects_v2()
                .bucket(bucket)
                .prefix(prefix)
                .set_continuation_token(token)
                .send()
                .await
                .map_err(|error| classify(&error))?;
            keys.extend(
                page.contents()
                    .iter()
                    .filter_map(|o| o.key().map(String::from)),
            );
            token = page.next_continuation_token().map(String::from);
            if token.is_none() || page.is_truncated() != Some(true) {
                return Ok(keys);
            }
        }
    }

    async fn delete(&self, bucket: &str, key: &str) -> Result<(), StoreError> {
        self.client
            .delete_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .map(|_| ())
            .map_err(|error| classify(&error))
    }
}

fn rfc3339(time: &DateTime) -> Option<String> {
    time.fmt(DateTimeFormat::DateTime).ok()
}

/// An ETag as `If-Match` wants it: in quotes.
fn quoted(etag: &str) -> String {
    format!("\"{}\"", crate::provenance::bare_etag(etag))
}

/// Streams the body in, never holding more than `max_bytes`, and insists on every declared byte:
/// a body cut short must not become a picture.
async fn read_body(
    mut body: ByteStream,
    declared: Option<u64>,
    max_bytes: u64,
) -> Result<Vec<u8>, StoreError> {
    let capacity = declared.unwrap_or(0).min(max_bytes);
    let mut data = Vec::with_capacity(usize::try_from(capacity).unwrap_or(0));
    while let Some(chunk) = body.try_next().await.map_err(|e| {
        StoreError::Transient(format!("reading the body: {}", DisplayErrorContext(&e)))
    })? {
        if (data.len() + chunk.len()) as u64 > max_bytes {
            return Err(StoreError::TooLarge {
                size: (data.len() + chunk.len()) as u64,
            });
        }
        data.extend_from_slice(&chunk);
    }
    if let Some(size) = declared.filter(|&size| size != data.len() as u64) {
        return Err(StoreError::Transient(format!(
            "the body ended after {} of {size} bytes",
            data.len()
        )));
    }
    Ok(data)
}

/// Sorts an SDK failure (after the SDK's own retries) into what the caller can do about it.
fn classify<E>(error: &SdkError<E, HttpResponse>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let detail = DisplayErrorContext(error).to_string();
    match error {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            StoreError::Transient(detail)
        }
        SdkError::ServiceError(context) => {
            let code = context.err().code().unwrap_or_default();
            match (Some(context.raw().status().as_u16()), code) {
                (Some(412), _) | (_, "PreconditionFailed") => StoreError::PreconditionFailed,
                // A conditional write racing another one on the same key: S3 asks for a retry.
                (Some(409), _) | (_, "ConditionalRequestConflict") => StoreError::Transient(detail),
                (Some(404), _) | (_, "NoSuchKey" | "NotFound") => StoreError::NotFound,
                (Some(403), _) | (_, "AccessDenied") => StoreError::AccessDenied,
                (Some(500..=599 | 429), _)
                | (
                    _,
                    "SlowDown"
                    | "Throttling"
                    | "ThrottlingException"
                    | "RequestTimeout"
                    | "InternalError"
                    | "ServiceUnavailable",
                ) => StoreError::Transient(detail),
                _ => StoreError::Other(detail),
            }
        }
        _ => StoreError::Other(detail),
    }
}
