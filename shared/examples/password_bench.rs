//! Measures one argon2id password check (OWASP parameters) on this machine.
//! Run with `bash tests/bench/password.sh` (argon2 and blake2 are optimised even in the dev
//! profile, see Cargo.toml, so this is the cost a Lambda pays per sign-in, modulo CPU).

use porter_shared::credentials::password::{hash_blocking, verify_blocking};
use std::time::{Duration, Instant};

fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(20);
    let Ok(hash) = hash_blocking("tangerine orbit kettle 94") else {
        eprintln!("hashing failed");
        std::process::exit(1);
    };
    let back_to_back = medians(runs, &hash, None);
    println!(
        "argon2id m=19456 KiB t=2 p=1: {runs} verifications back to back, median {:.1} ms, p90 {:.1} ms, min {:.1} ms",
        back_to_back.0, back_to_back.1, back_to_back.2
    );
    // A sign-in never follows another hash at once: between two, the function waits on
    // DynamoDB and the machine runs other work, and the 19 MiB of working memory leave the
    // caches. Measured after 40 ms idle, a verification costs what a sign-in pays for it.
    let idle = medians(runs, &hash, Some(Duration::from_millis(40)));
    println!(
        "argon2id m=19456 KiB t=2 p=1: {runs} verifications 40 ms apart, median {:.1} ms, p90 {:.1} ms, min {:.1} ms",
        idle.0, idle.1, idle.2
    );
}

/// Median, p90 and minimum of `runs` verifications, each after `pause` when there is one.
fn medians(runs: usize, hash: &str, pause: Option<Duration>) -> (f64, f64, f64) {
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            if let Some(p) = pause {
                std::thread::sleep(p);
            }
            let start = Instant::now();
            let ok = verify_blocking("tangerine orbit kettle 94", hash);
            assert!(ok);
            start.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    let p90 = times[(times.len() * 9) / 10 - 1];
    (median, p90, times[0])
}
