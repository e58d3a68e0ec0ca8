//! Throttling of guesses (ASVS 5 §6.3.1): failures per account and per source address first
//! slow down, then lock for a while. The rule is pure; the counters live in DynamoDB so that
//! every Lambda instance sees them.

use crate::domain::Timestamp;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Failures older than this are forgotten.
    pub window_secs: i64,
    /// Failures allowed before any delay.
    pub free: u32,
    /// At this many failures, lock for `lock_secs`.
    pub lock_at: u32,
    pub lock_secs: i64,
}

/// Per account (keyed by the email typed, registered or not, so both behave the same).
pub const ACCOUNT: Policy = Policy {
    window_secs: 15 * 60,
    free: 5,
    lock_at: 10,
    lock_secs: 15 * 60,
};
/// Per source address: a credential-stuffing run from one place.
pub const SOURCE: Policy = Policy {
    window_secs: 15 * 60,
    free: 50,
    lock_at: 100,
    lock_secs: 15 * 60,
};
/// "Forgot password" requests per source address: one address cannot make Porter email reset
/// links to a whole list of people (each account also gets at most one a minute).
pub const FORGOT_SOURCE: Policy = Policy {
    window_secs: 15 * 60,
    free: 10,
    lock_at: 10,
    lock_secs: 15 * 60,
};
/// Second-factor guesses per user.
pub const MFA: Policy = Policy {
    window_secs: 15 * 60,
    free: 3,
    lock_at: 5,
    lock_secs: 15 * 60,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counter {
    pub failures: u32,
    pub window_start: i64,
    pub blocked_until: i64,
}

impl Policy {
    /// How long to wait after the `failures`-th failure: nothing, then doubling delays, then
    /// the lock.
    pub fn delay_after(&self, failures: u32) -> i64 {
        if failures >= self.lock_at {
            self.lock_secs
        } else if failures > self.free {
            1i64 << (failures - self.free).min(6)
        } else {
            0
        }
    }

    /// The counter after one more failure at `now`.
    pub fn fail(&self, c: Counter, now: Timestamp) -> Counter {
        let fresh = now.0 - c.window_start >= self.window_secs && c.blocked_until <= now.0;
        let failures = if fresh {
            1
        } else {
            c.failures.saturating_add(1)
        };
        Counter {
            failures,
            window_start: if fresh { now.0 } else { c.window_start },
            blocked_until: now.0 + self.delay_after(failures),
        }
    }
}

/// Seconds to wait before another attempt, if any.
pub fn retry_after(c: &Counter, now: Timestamp) -> Option<u64> {
    (c.blocked_until > now.0).then(|| u64::try_from(c.blocked_until - now.0).unwrap_or(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fail_n(p: &Policy, n: u32, now: Timestamp) -> Counter {
        (0..n).fold(Counter::default(), |c, _| p.fail(c, now))
    }

    #[test]
    fn the_first_failures_cost_nothing_then_delays_grow_then_it_locks() {
        let now = Timestamp(1_000_000);
        assert_eq!(retry_after(&fail_n(&ACCOUNT, 5, now), now), None);
        assert_eq!(retry_after(&fail_n(&ACCOUNT, 6, now), now), Some(2));
        assert_eq!(retry_after(&fail_n(&ACCOUNT, 7, now), now), Some(4));
        assert_eq!(retry_after(&fail_n(&ACCOUNT, 10, now), now), Some(900));
    }

    #[test]
    fn a_lock_passes_and_old_failures_are_forgotten() {
        let now = Timestamp(1_000_000);
        let locked = fail_n(&ACCOUNT, 10, now);
        let later = now.plus_secs(901);
        assert_eq!(retry_after(&locked, later), None);
        let next = ACCOUNT.fail(locked, later);
        assert_eq!(next.failures, 1, "a new window starts");
    }

    #[test]
    fn failures_inside_a_lock_keep_it() {
        let now = Timestamp(1_000_000);
        let locked = fail_n(&ACCOUNT, 10, now);
        let again = ACCOUNT.fail(locked, now.plus_secs(899));
        assert_eq!(again.failures, 11);
        assert!(retry_after(&again, now.plus_secs(1000)).is_some());
    }
}
