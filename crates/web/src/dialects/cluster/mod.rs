//! Dialect `cluster`: seed `000_f4d01fbcacf7a954.txt` (`docs/reference/cluster.md`, "Dialect `cluster`").

pub mod render;
pub mod routes;
pub mod wire;
