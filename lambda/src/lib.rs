//! imgresize: the image-resize Lambda and the engine it shares with the `imgresize` CLI.
//!
//! The data flows one way: runtime glue (`bin/lambda.rs`) → [`request`] → [`fetch`] →
//! [`engine`] (decode → resize → orient → encode) → [`store`] → [`response`], driven by [`handler`].

pub mod config;
pub mod delete;
pub mod engine;
pub mod error;
pub mod fetch;
pub mod handler;
pub mod keys;
pub mod logging;
pub mod memory;
pub mod provenance;
pub mod request;
pub mod response;
#[cfg(feature = "s3")]
pub mod s3;
pub mod store;

pub use error::Error;
