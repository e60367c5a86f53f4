//! configuration.md: with `server.tls_cert` and `server.tls_key` both set, Tessera serves
//! HTTPS (rustls); with one of them only, or files that do not go together, it does not start.

use std::sync::Arc;
use tessera_testkit::TestApp;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};

/// The test certificate and key (`tests/it/tls/README.md`).
fn fixture(name: &str) -> String {
    format!("{}/tests/it/tls/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// `GET path` over TLS, trusting the test certificate only, for the name `localhost`.
async fn https_get(addr: &str, path: &str) -> String {
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(fixture("cert.pem")).unwrap() {
        roots.add(c.unwrap()).unwrap();
    }
    let cfg = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut tls = tokio_rustls::TlsConnector::from(Arc::new(cfg))
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .unwrap();
    tls.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await
    .unwrap();
    let mut out = Vec::new();
    // Read until the server closes (with or without a TLS close_notify).
    let mut buf = [0u8; 4096];
    while let Ok(n) = tls.read(&mut buf).await {
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn with_a_certificate_and_its_key_the_server_speaks_https() {
    let app = TestApp::spawn_with("", |c| {
        c.server.tls_cert = fixture("cert.pem");
        c.server.tls_key = fixture("key.pem");
    })
    .await;
    let addr = app.base.trim_start_matches("http://").to_string();
    let r = https_get(&addr, "/healthz").await;
    assert!(r.starts_with("HTTP/1.1 200"), "{r}");
    let r = https_get(&addr, "/.well-known/openid-configuration").await;
    assert!(
        r.starts_with("HTTP/1.1 200") && r.contains("\"issuer\""),
        "{r}"
    );
    // Plain HTTP on that port gets no answer.
    let plain = app.http.get(app.url("/healthz")).send().await;
    assert!(plain.is_err(), "{plain:?}");
    app.stop().await;
}

#[test]
fn one_tls_file_alone_or_files_that_do_not_go_together_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = tessera_testkit::test_config(dir.path());
    c.server.tls_cert = fixture("cert.pem");
    let e = c.derive().unwrap_err();
    assert_eq!(e.0, "server.tls_cert");
    c.server.tls_key = fixture("cert.pem");
    let e = c.derive().unwrap_err();
    assert_eq!(e.0, "server.tls_cert", "{e:?}");
    c.server.tls_key = fixture("key.pem");
    assert!(c.derive().is_ok_and(|d| d.tls.is_some()));
}
