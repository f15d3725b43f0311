//! The Lambda function (`bootstrap`): runtime glue only; the work is in `imgresize::handler`.
// The whole invocation is one future nested inside the runtime's (S3 SDK calls, the instrumented handler,
// lambda_runtime's service stack): computing its layout goes deeper than rustc's default of 128 queries.
#![recursion_limit = "256"]

use std::sync::Arc;

use imgresize::config::Config;
use imgresize::handler::Handler;
use imgresize::s3::S3Store;
use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    let memory_tuned = imgresize::memory::keep_buffers_between_images();
    imgresize::logging::init();
    if !memory_tuned {
        tracing::warn!(
            "the C library refused the allocator thresholds: buffers are re-faulted per image"
        );
    }
    let config = Config::from_env()?;
    let store = S3Store::from_env(config.s3).await;
    let handler = Arc::new(Handler::new(config, store));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let handler = Arc::clone(&handler);
        async move { handler.invoke(event).await }
    }))
    .await
}
