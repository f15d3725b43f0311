//! Bucket set-up and inspection the suites share, straight against the emulator's S3.

use aws_sdk_s3::error::DisplayErrorContext;
use aws_sdk_s3::Client;

/// Creates each of `names` (use [`crate::unique_name`] so runs never collide).
pub async fn create(s3: &Client, names: &[&str]) -> Result<(), String> {
    for name in names {
        s3.create_bucket()
            .bucket(*name)
            .send()
            .await
            .map_err(|e| format!("create bucket {name}: {}", DisplayErrorContext(e)))?;
    }
    Ok(())
}

/// Every key in `bucket`, in S3's (lexicographic) order, across all listing pages (the SDK's paginator
/// follows the continuation tokens).
pub async fn keys(s3: &Client, bucket: &str) -> Result<Vec<String>, String> {
    let mut pages = s3.list_objects_v2().bucket(bucket).into_paginator().send();
    let mut keys = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| format!("list {bucket}: {}", DisplayErrorContext(e)))?;
        keys.extend(
            page.contents()
                .iter()
                .filter_map(|o| o.key().map(String::from)),
        );
    }
    Ok(keys)
}

/// The bytes of `bucket`/`key`.
pub async fn object(s3: &Client, bucket: &str, key: &str) -> Result<Vec<u8>, String> {
    let object = s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| format!("get s3://{bucket}/{key}: {}", DisplayErrorContext(e)))?;
    let body = object
        .body
        .collect()
        .await
        .map_err(|e| format!("read s3://{bucket}/{key}: {e}"))?;
    Ok(body.into_bytes().to_vec())
}
