fn main() {
    let bytes = std::fs::read("fixtures/x12/270_jane_doe.x12").unwrap();
    let n: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse().unwrap())
        .unwrap_or(200_000);
    let t = std::time::Instant::now();
    let mut acc = 0;
    for _ in 0..n {
        let r = hts_gateway::x12::validate(&bytes);
        acc += r.interchanges.len();
    }
    let el = t.elapsed();
    println!("{acc} {:.2} µs/validate", el.as_secs_f64() * 1e6 / n as f64);
}
