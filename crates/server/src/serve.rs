//! The HTTP listener (issue 15, `docs/decisions.md`, "Edge limits"): hyper's HTTP/1.1
//! connections with a header-read timeout, at most [`EdgeLimits::max_connections`] open at once,
//! over plain TCP or rustls, with a graceful stop.
//!
//! - A client that sends nothing, or a header line now and then, is cut off once its request
//!   head has taken [`HEADER_READ_TIMEOUT`] (hyper's `http1::Builder::header_read_timeout`,
//!   on tokio's timer). The clock starts when hyper waits for a request head, so an idle
//!   keep-alive connection is closed after the same time.
//! - Each connection holds a permit of a `tokio::sync::Semaphore` from before its `accept` until
//!   it closes (TLS handshake included): at the cap, the listener stops accepting and new
//!   connections wait in the kernel's backlog, so a flood of slow clients cannot exhaust the
//!   process's file descriptors, which the database and the key files need too.
//!
//! axum's `serve` has neither setting (it builds hyper's connection itself, without a timer),
//! so this is hyper-util's own serving loop, as in axum's `serve-with-hyper` example.

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_rustls::rustls;
use tokio_rustls::TlsAcceptor;
use tower::Layer as _;

/// How long a client may take to send a request's head (request line and headers), counted
/// from when the server waits for it: from the connection's start, or from the previous
/// answer on a keep-alive connection.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// The most connections open at once, unless the process's open-files limit is lower
/// ([`max_connections`]).
pub const MAX_CONNECTIONS: usize = 4096;

/// How long a client may take over its TLS handshake.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// File descriptors kept back from the connection cap for everything else: the database pool
/// (`database.max_connections` more), SQLite's files, the key files, Redis, the SMS webhook.
const FD_RESERVE: u64 = 128;

/// The limits of the listener.
#[derive(Debug, Clone, Copy)]
pub struct EdgeLimits {
    pub header_read_timeout: Duration,
    pub max_connections: usize,
    pub handshake_timeout: Duration,
}

/// [`MAX_CONNECTIONS`], or fewer when the open-files limit (`RLIMIT_NOFILE`, soft) would run
/// out first: that limit less [`FD_RESERVE`] and the database pool, at least 64.
pub fn max_connections(database_pool: u32) -> usize {
    let reserve = FD_RESERVE + u64::from(database_pool);
    match open_files_limit() {
        Some(limit) => usize::try_from(limit.saturating_sub(reserve).max(64))
            .unwrap_or(MAX_CONNECTIONS)
            .min(MAX_CONNECTIONS),
        None => MAX_CONNECTIONS,
    }
}

#[cfg(unix)]
fn open_files_limit() -> Option<u64> {
    rustix::process::getrlimit(rustix::process::Resource::Nofile).current
}

#[cfg(not(unix))]
fn open_files_limit() -> Option<u64> {
    None
}

/// Serves `app` on `listener` (over TLS when `tls` is set) until `stop` completes; then stops
/// accepting, lets the requests in flight finish, and returns.
pub async fn serve(
    listener: TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    app: Router,
    limits: EdgeLimits,
    stop: impl Future<Output = ()>,
) {
    let acceptor = tls.map(TlsAcceptor::from);
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let mut warned_full: Option<Instant> = None;
    tokio::pin!(stop);
    loop {
        let permit = match permits.clone().try_acquire_owned() {
            Ok(p) => p,
            Err(_) => {
                // At most one line a minute while connections wait for a free place.
                if warned_full.is_none_or(|t| t.elapsed() >= Duration::from_secs(60)) {
                    tracing::warn!(
                        max_connections = limits.max_connections,
                        "connection limit reached: new connections wait"
                    );
                    warned_full = Some(Instant::now());
                }
                tokio::select! {
                    p = permits.clone().acquire_owned() => match p {
                        Ok(p) => p,
                        Err(_) => break,
                    },
                    () = &mut stop => break,
                }
            }
        };
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(conn) => conn,
                Err(e) => {
                    accept_error(e).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let _ = stream.set_nodelay(true);
        // What axum's `into_make_service_with_connect_info` gives each request.
        let svc = TowerToHyperService::new(axum::Extension(ConnectInfo(peer)).layer(app.clone()));
        let (http, watcher, acceptor) = (http.clone(), graceful.watcher(), acceptor.clone());
        tokio::spawn(async move {
            let _permit = permit;
            match acceptor {
                None => serve_connection(&http, stream, svc, watcher, peer).await,
                Some(a) => {
                    match tokio::time::timeout(limits.handshake_timeout, a.accept(stream)).await {
                        Ok(Ok(tls)) => serve_connection(&http, tls, svc, watcher, peer).await,
                        Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                }
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

async fn serve_connection<I, S>(
    http: &http1::Builder,
    io: I,
    svc: TowerToHyperService<S>,
    watcher: Watcher,
    peer: SocketAddr,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: tower::Service<
            axum::http::Request<hyper::body::Incoming>,
            Response = axum::response::Response,
            Error = std::convert::Infallible,
        > + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    let conn = http.serve_connection(TokioIo::new(io), svc);
    if let Err(e) = watcher.watch(conn).await {
        // A header-read timeout, a malformed request, a client gone: nothing the operator
        // must act on.
        tracing::debug!(%peer, error = %e, "connection ended with an error");
    }
}

/// As axum's listener: a connection that failed before it was accepted is skipped; anything
/// else (out of file descriptors, …) is logged and accepting pauses for a second.
async fn accept_error(e: std::io::Error) {
    use std::io::ErrorKind::*;
    if matches!(
        e.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "accept failed");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    async fn start(limits: EdgeLimits) -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = Router::new().route(
            "/",
            axum::routing::get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move {
                peer.ip().to_string()
            }),
        );
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(serve(listener, None, app, limits, async move {
            let _ = rx.await;
        }));
        (addr, tx)
    }

    /// Reads until the server closes; the bytes read, or `None` if it is still open after `t`.
    async fn read_to_close(s: &mut TcpStream, t: Duration) -> Option<Vec<u8>> {
        let mut all = Vec::new();
        tokio::time::timeout(t, async {
            let mut buf = [0u8; 1024];
            loop {
                match s.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => all.extend_from_slice(&buf[..n]),
                }
            }
        })
        .await
        .ok()
        .map(|()| all)
    }

    const GET: &[u8] = b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";

    #[tokio::test]
    async fn a_silent_or_slow_client_is_cut_off_after_the_header_read_timeout() {
        let (addr, _stop) = start(EdgeLimits {
            header_read_timeout: Duration::from_millis(300),
            max_connections: 8,
            handshake_timeout: HANDSHAKE_TIMEOUT,
        })
        .await;
        let t0 = Instant::now();
        let mut silent = TcpStream::connect(addr).await.unwrap();
        assert!(read_to_close(&mut silent, Duration::from_secs(5))
            .await
            .is_some());
        let mut slow = TcpStream::connect(addr).await.unwrap();
        slow.write_all(b"GET / HTTP/1.1\r\n").await.unwrap();
        let dribble = async {
            for _ in 0..20 {
                tokio::time::sleep(Duration::from_millis(100)).await;
                if slow.write_all(b"X-A: b\r\n").await.is_err() {
                    break;
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(5), dribble)
            .await
            .unwrap();
        assert!(read_to_close(&mut slow, Duration::from_secs(5))
            .await
            .is_some());
        assert!(t0.elapsed() < Duration::from_secs(4));
        // A prompt client is served.
        let mut ok = TcpStream::connect(addr).await.unwrap();
        ok.write_all(GET).await.unwrap();
        let answer = read_to_close(&mut ok, Duration::from_secs(5))
            .await
            .unwrap();
        assert!(answer.starts_with(b"HTTP/1.1 200"), "{answer:?}");
        assert!(answer.ends_with(b"127.0.0.1"), "ConnectInfo is set");
    }

    #[tokio::test]
    async fn past_the_connection_cap_a_client_waits_for_a_free_place() {
        let (addr, _stop) = start(EdgeLimits {
            header_read_timeout: Duration::from_secs(30),
            max_connections: 2,
            handshake_timeout: HANDSHAKE_TIMEOUT,
        })
        .await;
        let first = TcpStream::connect(addr).await.unwrap();
        let _second = TcpStream::connect(addr).await.unwrap();
        // Let the server accept both before the third arrives.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let mut third = TcpStream::connect(addr).await.unwrap();
        third.write_all(GET).await.unwrap();
        assert!(
            read_to_close(&mut third, Duration::from_millis(500))
                .await
                .is_none(),
            "not served while two connections are open"
        );
        drop(first);
        let answer = read_to_close(&mut third, Duration::from_secs(5))
            .await
            .expect("served once a place is free");
        assert!(answer.starts_with(b"HTTP/1.1 200"), "{answer:?}");
    }

    #[test]
    fn the_cap_stays_within_the_open_files_limit() {
        let n = max_connections(16);
        assert!((64..=MAX_CONNECTIONS).contains(&n), "{n}");
        if let Some(limit) = open_files_limit() {
            assert!(n as u64 <= limit.saturating_sub(144).max(64));
        }
    }
}
