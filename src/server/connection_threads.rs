//! Connection threads: each runs its own single-threaded tokio runtime, and a connection handed
//! to one is served there for its whole life.
//!
//! Why not the work-stealing runtime the rest of the server runs on: under load its workers
//! pass a connection's task between CPUs from one request to the next, so the connection's TLS
//! state and buffers, and the request path's code, keep moving between the CPUs' caches. The
//! request path is long (decode, validation, the answer), and it ran markedly slower per
//! instruction under load than alone (BENCHMARKS.md, tenth and thirteenth passes). Pingora
//! offers the same choice (`work_stealing: false`) and actix-web works this way.
//!
//! What a request spawns (a control-number prefetch, a password check on the blocking pool)
//! runs on its connection's thread; the audit writer, batch workers and retention stay on the
//! server's runtime, reached through channels.

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::net::TcpStream;
use tokio::runtime::Handle;
use tokio::sync::oneshot;

pub struct ConnectionThreads {
    handles: Vec<Handle>,
    stops: Vec<oneshot::Sender<()>>,
    threads: Vec<std::thread::JoinHandle<()>>,
    next: AtomicUsize,
}

/// A connection being served on a connection thread. Dropping it (the server giving up on a
/// connection at shutdown) aborts the connection's task.
pub struct Served(tokio::task::JoinHandle<()>);

impl Served {
    /// Resolves when the connection is done.
    pub async fn finished(mut self) {
        let _ = (&mut self.0).await;
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl ConnectionThreads {
    /// Starts one thread per CPU.
    pub fn start() -> io::Result<Self> {
        let count = std::thread::available_parallelism().map_or(1, |n| n.get());
        let mut out = Self {
            handles: Vec::with_capacity(count),
            stops: Vec::with_capacity(count),
            threads: Vec::with_capacity(count),
            next: AtomicUsize::new(0),
        };
        for i in 0..count {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let (stop, stopped) = oneshot::channel::<()>();
            out.handles.push(runtime.handle().clone());
            out.stops.push(stop);
            out.threads.push(
                std::thread::Builder::new()
                    .name(format!("hts-conn-{i}"))
                    .spawn(move || {
                        let _ = runtime.block_on(stopped);
                    })?,
            );
        }
        Ok(out)
    }

    /// Hands `tcp` to the next thread in turn, where `serve` runs with it.
    pub fn serve<F, Fut>(&self, tcp: TcpStream, serve: F) -> io::Result<Served>
    where
        F: FnOnce(TcpStream) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        // Registered with this runtime's reactor now; moved to the thread's.
        let tcp = tcp.into_std()?;
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.handles.len();
        Ok(Served(self.handles[i].spawn(async move {
            match TcpStream::from_std(tcp) {
                Ok(tcp) => serve(tcp).await,
                Err(e) => tracing::warn!(error = %e, "connection could not be registered"),
            }
        })))
    }

    /// Stops the threads (after their connections are done or given up) and waits for them.
    pub async fn stop(self) {
        for s in self.stops {
            let _ = s.send(());
        }
        let threads = self.threads;
        let _ = tokio::task::spawn_blocking(move || {
            for t in threads {
                let _ = t.join();
            }
        })
        .await;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::io::Read;

    use tokio::io::AsyncWriteExt;

    use super::*;

    /// Connections go to the threads in turn and are served there, on that thread's reactor.
    #[tokio::test]
    async fn connections_are_served_on_the_threads_in_turn() {
        let threads = ConnectionThreads::start().unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let n = threads.handles.len();
        for i in 0..2 * n {
            let mut client = std::net::TcpStream::connect(addr).unwrap();
            let (tcp, _) = listener.accept().await.unwrap();
            let (tx, rx) = oneshot::channel();
            let served = threads
                .serve(tcp, move |mut tcp| async move {
                    tcp.write_all(b"x").await.unwrap();
                    let _ = tx.send(std::thread::current().name().map(String::from));
                })
                .unwrap();
            served.finished().await;
            assert_eq!(rx.await.unwrap().unwrap(), format!("hts-conn-{}", i % n));
            let mut byte = [0u8; 1];
            client.read_exact(&mut byte).unwrap();
            assert_eq!(&byte, b"x");
        }
        threads.stop().await;
    }

    /// Dropping `Served` (the server giving up on a connection at shutdown) ends its task.
    #[tokio::test]
    async fn dropping_served_aborts_the_connection() {
        struct Dropped(Option<oneshot::Sender<()>>);
        impl Drop for Dropped {
            fn drop(&mut self) {
                if let Some(tx) = self.0.take() {
                    let _ = tx.send(());
                }
            }
        }
        let threads = ConnectionThreads::start().unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let _client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (tcp, _) = listener.accept().await.unwrap();
        let (started_tx, started) = oneshot::channel();
        let (dropped_tx, dropped) = oneshot::channel();
        let served = threads
            .serve(tcp, move |_tcp| async move {
                let _guard = Dropped(Some(dropped_tx));
                let _ = started_tx.send(());
                std::future::pending::<()>().await;
            })
            .unwrap();
        started.await.unwrap();
        drop(served);
        tokio::time::timeout(std::time::Duration::from_secs(5), dropped)
            .await
            .expect("the connection's task was not stopped")
            .unwrap();
        threads.stop().await;
    }
}
