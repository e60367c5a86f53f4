//! Dialect `appkey`: seed `002_071c5ce6bbd151f5.txt` (`http-contract.md`, "Dialect `appkey`").

pub mod render;
pub mod routes;
pub mod wire;
