//! Dialect `appkey`: seed `002_071c5ce6bbd151f5.txt` (`docs/reference/appkey.md`, "Dialect `appkey`").

pub mod render;
pub mod routes;
pub mod wire;
