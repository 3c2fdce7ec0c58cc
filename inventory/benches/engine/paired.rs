//! Interleaved A/B rounds. On a shared, noisy machine two benchmarks measured a minute apart
//! see different neighbours, so their ratio carries the noise of both. Here the two subjects
//! alternate in short bursts (which one goes first alternates too), each round yields one
//! ratio under the same conditions, and the median of those ratios is what the targets are
//! judged by. Criterion's separate per-benchmark medians are reported beside it.

use std::time::Duration;

/// One comparison: per-operation times of `a` and `b` and the per-round throughput ratios
/// (b's time over a's: above 1 means `a` is faster).
pub struct Pair {
    pub name: String,
    pub a_ns: f64,
    pub b_ns: f64,
    pub ratio: f64,
    pub ratio_p25: f64,
    pub ratio_p75: f64,
    pub rounds: usize,
    pub burst: u64,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    percentile(&v, 0.5)
}

/// Runs `a` and `b` (each: do `n` operations, return the time they took) in alternating
/// bursts of about `burst_time` each, for `rounds` rounds.
pub fn run(
    name: &str,
    rounds: usize,
    burst_time: Duration,
    mut a: impl FnMut(u64) -> Duration,
    mut b: impl FnMut(u64) -> Duration,
) -> Pair {
    // Warm both (caches, statement cache, the WAL file) and size the bursts.
    let calibrate = 20;
    let slowest = a(calibrate).max(b(calibrate)) / calibrate as u32;
    let burst = (burst_time.as_nanos() / slowest.as_nanos().max(1)).clamp(8, 200_000) as u64;
    let (mut a_ns, mut b_ns, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        let (ta, tb) = if round % 2 == 0 {
            let ta = a(burst);
            (ta, b(burst))
        } else {
            let tb = b(burst);
            (a(burst), tb)
        };
        let (ta, tb) = (ta.as_nanos() as f64, tb.as_nanos() as f64);
        a_ns.push(ta / burst as f64);
        b_ns.push(tb / burst as f64);
        ratios.push(tb / ta);
    }
    ratios.sort_by(f64::total_cmp);
    let pair = Pair {
        name: name.to_owned(),
        a_ns: median(a_ns),
        b_ns: median(b_ns),
        ratio: percentile(&ratios, 0.5),
        ratio_p25: percentile(&ratios, 0.25),
        ratio_p75: percentile(&ratios, 0.75),
        rounds,
        burst,
    };
    eprintln!(
        "{:<48} a {:>10.1} µs  b {:>10.1} µs  ratio {:.3} [{:.3}..{:.3}]  ({} ops each)",
        pair.name,
        pair.a_ns / 1e3,
        pair.b_ns / 1e3,
        pair.ratio,
        pair.ratio_p25,
        pair.ratio_p75,
        calibrate + burst * rounds as u64
    );
    pair
}
