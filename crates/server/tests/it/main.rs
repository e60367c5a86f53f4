//! Integration tests: the real server on a free port, spoken to over HTTP, and the real binary
//! for the command line. Each test is named for the promise it checks.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod admin;
mod admin_scope;
mod appkey;
mod bootstrap;
mod cli;
mod cluster;
mod fixtures;
mod garbage;
mod hoth;
mod oauth;
mod openapi;
mod ops;
mod sso;
mod tls;
