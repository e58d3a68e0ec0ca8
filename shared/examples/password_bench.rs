//! Measures one argon2id password check (OWASP parameters) on this machine.
//! Run with `bash tests/bench/password.sh` (argon2 and blake2 are optimised even in the dev
//! profile, see Cargo.toml, so this is the cost a Lambda pays per sign-in, modulo CPU).

use porter_shared::credentials::password::{hash_blocking, verify_blocking};
use std::time::Instant;

fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(20);
    let Ok(hash) = hash_blocking("tangerine orbit kettle 94") else {
        eprintln!("hashing failed");
        std::process::exit(1);
    };
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            let ok = verify_blocking("tangerine orbit kettle 94", &hash);
            assert!(ok);
            start.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    let p90 = times[(times.len() * 9) / 10 - 1];
    println!("argon2id m=19456 KiB t=2 p=1: {runs} verifications, median {median:.1} ms, p90 {p90:.1} ms, min {:.1} ms", times[0]);
}
