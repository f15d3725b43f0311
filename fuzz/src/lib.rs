//! What the fuzz targets share: an independent model of the key mapping, a form encoder (the inverse
//! of `keys::form_decode`), and the tests' in-memory object store and tiny JPEG.

#[path = "../../lambda/tests/support/key_model.rs"]
mod key_model;
pub use key_model::{form_encode, model_destination};

#[path = "../../lambda/tests/support/memory_store.rs"]
mod memory_store;
pub use memory_store::{tiny_jpeg, MemoryStore};
