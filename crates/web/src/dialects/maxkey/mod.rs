//! Dialect `maxkey`: seed `003_24ad419e53bfb9b1.txt` (`docs/reference/maxkey.md`, "Dialect `maxkey`").

pub mod routes;
pub mod wire;
