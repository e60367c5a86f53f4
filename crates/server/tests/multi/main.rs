//! Several processes, one database (issue 7): two real `tessera serve` processes, A and B, on one
//! fresh PostgreSQL database and one Redis, as behind a load balancer. Each test is named for the
//! promise it checks. PostgreSQL or Redis missing: the tests note it and pass, unless
//! `TESSERA_REQUIRE_POSTGRES=1` / `TESSERA_REQUIRE_REDIS=1`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod faults;
mod pair;
mod proxy;
mod shared;
