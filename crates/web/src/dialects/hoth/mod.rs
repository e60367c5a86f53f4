//! Dialect `hoth`: seed `001_3f992f3849804658.txt` (`docs/reference/hoth.md`, "Dialect `hoth`").

pub mod render;
pub mod routes;
pub mod wire;
