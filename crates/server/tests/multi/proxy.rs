//! A TCP proxy between Tessera and the real Redis or PostgreSQL, so that a test can take the
//! service away from Tessera without stopping it for the rest of the machine: [`Proxy::cut`]
//! closes every live connection and closes the listening port (new connections are refused,
//! as when the service is stopped); [`Proxy::restore`] listens on the same port again.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::task::AbortHandle;

pub struct Proxy {
    /// Where Tessera connects.
    pub addr: SocketAddr,
    upstream: SocketAddr,
    /// The accepting task and every connection's task: aborting one drops its sockets.
    tasks: Arc<Mutex<Vec<AbortHandle>>>,
}

fn listen(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let s = TcpSocket::new_v4()?;
    s.set_reuseaddr(true)?;
    s.bind(addr)?;
    s.listen(128)
}

impl Proxy {
    /// A proxy on a free port of 127.0.0.1 to `upstream`.
    pub async fn start(upstream: SocketAddr) -> Proxy {
        let listener = listen(SocketAddr::from(([127, 0, 0, 1], 0))).unwrap();
        let p = Proxy {
            addr: listener.local_addr().unwrap(),
            upstream,
            tasks: Arc::default(),
        };
        p.serve(listener);
        p
    }

    fn serve(&self, listener: TcpListener) {
        let tasks = self.tasks.clone();
        let upstream = self.upstream;
        let accept = tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    continue;
                };
                let conn = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(upstream).await {
                        let _ = inbound.set_nodelay(true);
                        let _ = outbound.set_nodelay(true);
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                let mut t = tasks.lock().unwrap();
                t.retain(|h| !h.is_finished());
                t.push(conn.abort_handle());
            }
        });
        self.tasks.lock().unwrap().push(accept.abort_handle());
    }

    /// The service goes away: live connections are closed, new ones refused.
    pub async fn cut(&self) {
        for h in self.tasks.lock().unwrap().drain(..) {
            h.abort();
        }
        // Let the runtime drop the aborted tasks (and with them the sockets and the listener).
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    /// The service comes back on the same port.
    pub async fn restore(&self) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        let listener = loop {
            match listen(self.addr) {
                Ok(l) => break l,
                Err(e) if tokio::time::Instant::now() > deadline => {
                    panic!("cannot listen on {} again: {e}", self.addr)
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        };
        self.serve(listener);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Ok(mut t) = self.tasks.lock() {
            for h in t.drain(..) {
                h.abort();
            }
        }
    }
}
