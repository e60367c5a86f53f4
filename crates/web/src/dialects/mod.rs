//! The seed dialects: each parses its own wire format, makes one engine call, and renders the
//! engine's typed outcome in its own shape (`wire.rs`, `routes.rs`, `render.rs`). They see the
//! engine only, never storage.

pub mod appkey;
pub mod cluster;
pub mod hoth;
pub mod maxkey;
