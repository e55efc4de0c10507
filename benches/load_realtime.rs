//! Load harness: real-time 270 → 271 over TLS keep-alive, 64 concurrent connections, against
//! the real gateway (SQLite, demo data, a partner signing in with WS-Security), and in the same
//! run against a baseline: a minimal hyper + rustls server answering a fixed CORE response with
//! a 271 of the same size. Reports requests per second and p50/p99 latency for both.
//!
//! Run: `cargo bench --bench load_realtime` (optionally `-- SECONDS`, default 10 per server).
//! Under `cargo test` it runs for a moment as a smoke test.
//!
//! Each server's time is cut into 4 slices, run alternately (baseline, gateway, gateway,
//! baseline, …), each with fresh connections. On a shared VM the host's speed moves by tens of
//! percent within minutes; measured one after the other, the two servers saw different hosts
//! and single ratios swung between 0.36 and 0.54 (BENCHMARKS.md, eighth pass).
//!
//! Every request carries its own random PayloadID, as CORE asks of real clients: the audit
//! log indexes PayloadIDs, and random keys cost that index far more than one repeated key
//! (BENCHMARKS.md, seventh pass). `--fixed-payload-id` sends the envelope's one PayloadID every
//! time, as the harness did before that pass, for comparisons with earlier figures.
//!
//! The load generator (the same reqwest client, the same connections for both servers) runs in
//! a child process, as a real client would, so that the servers' own CPU time per request can
//! be measured (`/proc/self/stat` of the server process around each run); the child reports
//! its own CPU time too, printed as the client's per request.
//!
//! `--in-process-client` runs it on the servers' runtime instead, as the harness did before
//! the fifteenth pass (BENCHMARKS.md). That favours the baseline: it is served by the same
//! two worker threads as the client, so a request and its answer can pass between them without
//! a thread switch, which no deployed server gets from its clients and the gateway, serving
//! connections on threads of its own, cannot get either. Measured in the fifteenth pass, the
//! baseline served 14% more requests in process than with the client outside (eight runs of
//! each, averaged), and the gateway the same. `--external-client`, the old name of the
//! default, is still accepted.
//!
//! `--gateway-only` (or `--baseline-only`) drives that server alone for the whole time and
//! prints no ratio: for profiling it (`perf record -p`, `strace -c -p`), not for figures.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

#[path = "common/cpu.rs"]
mod cpu;
#[path = "common/realtime.rs"]
mod realtime;

use cpu::process_cpu;

// The allocator the `hts-gateway` binary ships with (src/main.rs), for both servers and the
// client alike.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

const CONNECTIONS: usize = 64;
/// Each server's time is cut into this many slices, run alternately (see `main`).
const SLICES: u32 = 4;

/// Whether each request gets its own PayloadID.
#[derive(Clone, Copy, PartialEq, Eq)]
enum PayloadIds {
    Unique,
    Fixed,
}

impl PayloadIds {
    fn arg(self) -> &'static str {
        match self {
            Self::Unique => "unique",
            Self::Fixed => "fixed",
        }
    }
}

/// What one server did in one or more slices of the run.
#[derive(Default)]
struct Outcome {
    /// Every request's latency, in no particular order.
    latencies: Vec<Duration>,
    elapsed: Duration,
    /// CPU time of this process (servers, and the client when it runs in process) during the
    /// run.
    cpu: Duration,
    /// CPU time of the child process that ran the load client (not with `--in-process-client`).
    client_cpu: Option<Duration>,
}

impl Outcome {
    fn add(&mut self, other: Outcome) {
        self.latencies.extend(other.latencies);
        self.elapsed += other.elapsed;
        self.cpu += other.cpu;
        self.client_cpu = match (self.client_cpu, other.client_cpu) {
            (Some(a), Some(b)) => Some(a + b),
            (a, b) => a.or(b),
        };
    }

    /// Prints a line; returns requests per second and CPU microseconds per request.
    fn print(&mut self, name: &str) -> (f64, f64) {
        let latencies = &mut self.latencies;
        latencies.sort_unstable();
        let at =
            |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
        let (p50, p99) = (at(0.5), at(0.99));
        let requests = latencies.len();
        let rps = requests as f64 / self.elapsed.as_secs_f64();
        let cpu_us = self.cpu.as_secs_f64() * 1e6 / requests as f64;
        // The client's share, when it ran apart: it costs more per request against a slower
        // server (BENCHMARKS.md, twelfth pass), which the ratio includes.
        let client = self.client_cpu.map_or(String::new(), |c| {
            format!(", client {:.0} µs", c.as_secs_f64() * 1e6 / requests as f64)
        });
        println!(
            "{name:<34} {rps:>9.0} req/s   p50 {:>7.2} ms   p99 {:>7.2} ms   ({requests} requests, {cpu_us:.0} µs CPU/request{client})",
            p50.as_secs_f64() * 1e3,
            p99.as_secs_f64() * 1e3,
        );
        (rps, cpu_us)
    }
}

/// `CONNECTIONS` keep-alive HTTP/1.1 connections, each sending requests back to back.
async fn drive(
    url: &str,
    ca: &reqwest::Certificate,
    body: &str,
    duration: Duration,
    payload_ids: PayloadIds,
) -> Outcome {
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..CONNECTIONS {
        // One client per connection: keep-alive, no sharing between workers.
        let client = reqwest::Client::builder()
            .tls_certs_only([ca.clone()])
            .http1_only()
            .pool_max_idle_per_host(1)
            .build()
            .unwrap();
        let url = url.to_string();
        let body = body.to_string();
        tasks.spawn(async move {
            let mut latencies = Vec::new();
            while started.elapsed() < duration {
                // The same work for both servers (the baseline ignores the body); the fixed
                // body is not copied here, so that mode costs the client what it did before.
                let body = match payload_ids {
                    PayloadIds::Unique => std::borrow::Cow::Owned(
                        body.replace(realtime::PAYLOAD_ID, &uuid::Uuid::new_v4().to_string()),
                    ),
                    PayloadIds::Fixed => std::borrow::Cow::Borrowed(body.as_str()),
                };
                let t = Instant::now();
                realtime::post(&client, &url, &body).await;
                latencies.push(t.elapsed());
            }
            latencies
        });
    }
    let mut latencies = Vec::new();
    while let Some(l) = tasks.join_next().await {
        latencies.extend(l.unwrap());
    }
    Outcome {
        latencies,
        elapsed: started.elapsed(),
        cpu: Duration::ZERO,
        client_cpu: None,
    }
}

/// Runs `drive` against `url`, in this process or in a child process, and measures this
/// process's CPU time meanwhile.
async fn measure(
    url: &str,
    ca_path: &std::path::Path,
    body: &str,
    duration: Duration,
    external: bool,
    payload_ids: PayloadIds,
) -> Outcome {
    let cpu_before = process_cpu();
    let mut outcome = if external {
        let exe = std::env::current_exe().unwrap();
        let args = [
            "--load-client".to_string(),
            url.to_string(),
            duration.as_millis().to_string(),
            ca_path.display().to_string(),
            payload_ids.arg().to_string(),
        ];
        let out = tokio::task::spawn_blocking(move || {
            std::process::Command::new(exe).args(args).output().unwrap()
        })
        .await
        .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        let line = text
            .lines()
            .find_map(|l| l.strip_prefix("RESULT "))
            .unwrap();
        let mut n = line.split(' ').map(|f| f.parse::<u64>().unwrap());
        Outcome {
            elapsed: Duration::from_nanos(n.next().unwrap()),
            client_cpu: Some(Duration::from_micros(n.next().unwrap())),
            latencies: n.map(Duration::from_micros).collect(),
            cpu: Duration::ZERO,
        }
    } else {
        let ca = reqwest::Certificate::from_pem(&std::fs::read(ca_path).unwrap()).unwrap();
        drive(url, &ca, body, duration, payload_ids).await
    };
    outcome.cpu = process_cpu().saturating_sub(cpu_before);
    outcome
}

/// The child process that runs the load client: drives one server and prints one line.
fn load_client(args: &[String]) {
    let [url, millis, ca_path, payload_ids] = args else {
        panic!("--load-client URL MILLISECONDS CA_PEM unique|fixed");
    };
    let payload_ids = if payload_ids == PayloadIds::Fixed.arg() {
        PayloadIds::Fixed
    } else {
        PayloadIds::Unique
    };
    let duration = Duration::from_millis(millis.parse().unwrap());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let cpu_before = process_cpu();
    let o = rt.block_on(async {
        let ca = reqwest::Certificate::from_pem(&std::fs::read(ca_path).unwrap()).unwrap();
        drive(url, &ca, &realtime::envelope(), duration, payload_ids).await
    });
    let cpu = process_cpu().saturating_sub(cpu_before);
    // The elapsed time, this process's CPU time in microseconds, then every latency in
    // microseconds: the parent merges the slices.
    let mut line = format!("RESULT {} {}", o.elapsed.as_nanos(), cpu.as_micros());
    for l in &o.latencies {
        line.push_str(&format!(" {}", l.as_micros()));
    }
    println!("{line}");
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let _ = rustls::crypto::ring::default_provider().install_default();
    if let Some(i) = args.iter().position(|a| a == "--load-client") {
        return load_client(&args[i + 1..]);
    }
    let external = !args.iter().any(|a| a == "--in-process-client");
    let payload_ids = if args.iter().any(|a| a == "--fixed-payload-id") {
        PayloadIds::Fixed
    } else {
        PayloadIds::Unique
    };
    let gateway_only = args.iter().any(|a| a == "--gateway-only");
    let baseline_only = args.iter().any(|a| a == "--baseline-only");
    let benching = std::env::args().any(|a| a == "--bench");
    let seconds: u64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(if benching { 10 } else { 1 });
    let duration = Duration::from_secs(seconds);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let servers = realtime::start().await;
        let (body, seconds) = (&servers.body, duration.as_secs());
        println!(
            "{CONNECTIONS} keep-alive TLS connections (HTTP/1.1), {seconds} s each in {SLICES} alternating slices, response {} bytes, {} PayloadIDs, load client {}",
            servers.response_len,
            payload_ids.arg(),
            if external {
                "in a child process (CPU/request: servers only)"
            } else {
                "in process (CPU/request: client + server)"
            }
        );
        let slice = duration / SLICES;
        let run = |url, time| measure(url, &servers.ca_path, body, time, external, payload_ids);
        let alone = if gateway_only {
            Some((&servers.gateway_url, "hts-gateway: 270 → 271"))
        } else if baseline_only {
            Some((&servers.base_url, "baseline: hyper+rustls, fixed 271"))
        } else {
            None
        };
        if let Some((url, label)) = alone {
            run(url, duration).await.print(label);
            servers.gateway.shutdown().await;
            return;
        }
        // Slices alternate between the servers (baseline first in even slices, the gateway in
        // odd ones), so a host that speeds up or slows down during the run weighs on both alike.
        let (mut b, mut g) = (Outcome::default(), Outcome::default());
        for i in 0..SLICES {
            if i % 2 == 0 {
                b.add(run(&servers.base_url, slice).await);
                g.add(run(&servers.gateway_url, slice).await);
            } else {
                g.add(run(&servers.gateway_url, slice).await);
                b.add(run(&servers.base_url, slice).await);
            }
        }
        let (base_rps, base_cpu) = b.print("baseline: hyper+rustls, fixed 271");
        let (gw_rps, gw_cpu) = g.print("hts-gateway: 270 → 271");
        println!(
            "gateway / baseline throughput = {:.2}; CPU per request, baseline / gateway = {:.2}",
            gw_rps / base_rps,
            base_cpu / gw_cpu
        );
        servers.gateway.shutdown().await;
    });
}
