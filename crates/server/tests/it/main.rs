//! Integration tests: the real server on a free port, spoken to over HTTP, and the real binary
//! for the command line. Each test is named for the promise it checks.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod admin;
mod admin_scope;
mod appkey;
mod bootstrap;
mod cli;
mod cluster;
mod console;
mod engine_flows;
mod engine_token_flows;
mod fixtures;
mod garbage;
mod hardening;
mod hoth;
mod live_state;
mod names;
mod oauth;
mod openapi;
mod ops;
mod review_findings;
mod sso;
mod tenant_isolation;
mod tls;
