// jemalloc rather than the system allocator: a server's tasks move between worker threads, so
// memory is often freed on another thread than the one that allocated it, and glibc's malloc
// serialises those frees on the allocating thread's arena lock. Under the load harness
// (`cargo bench --bench load_realtime`) that lock was 14% of the process's CPU with the client
// in process; with jemalloc the gateway served 70% more requests per second there, and its
// CPU per request fell 16% with the client in its own process. The cost: a batch's peak RSS
// rose from 44 to 54 MiB on a 200 MB upload, against a 128 MB budget (BENCHMARKS.md). The same
// choice as Vector's and linkerd2-proxy's.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> std::process::ExitCode {
    hts_gateway::cli::main()
}
