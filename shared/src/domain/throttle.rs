//! Throttling of guesses (ASVS 5 §6.3.1, NIST SP 800-63B §5.2.2). A guess is counted before
//! anyone learns its verdict: its counters are read with the step's other items, and the
//! judged guess is settled in one transaction whose write to each counter is conditioned on
//! the counter as read, so that a burst of simultaneous requests cannot share a count (the
//! losers read again). The rule deciding what that write is and what its condition must be is
//! pure and lives here; the store only carries it out. The two mail-sending limits ("forgot
//! password", PIN requests) take an attempt first: they count requests, not guesses.
//!
//! A counter allows `free` attempts in its window, then one attempt per growing delay (2, 4,
//! 8… seconds, capped at `max_delay_secs`), and, when the policy has a lock, refuses everything
//! from the `lock_at`-th attempt on for `lock_secs`. A refused attempt writes nothing: nobody
//! can keep a lock or a delay alive by knocking on it, and `Retry-After` never grows.

use crate::domain::Timestamp;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Attempts older than this are forgotten (unless a lock is still running).
    pub window_secs: i64,
    /// Attempts allowed in a window before any delay.
    pub free: u32,
    /// The attempt after which everything is refused for `lock_secs`; `None`: delays only.
    pub lock_at: Option<u32>,
    /// At least `window_secs`, so that a lock outlives the window it was reached in.
    pub lock_secs: i64,
    /// The longest delay between two attempts outside a lock.
    pub max_delay_secs: i64,
}

/// Password guesses per account, whoever makes them (keyed by the address as typed, registered
/// or not, so both behave the same). No lock, only delays capped at a minute: an attacker who
/// knows an admin's address cannot keep the admin out.
pub const ACCOUNT: Policy = Policy {
    window_secs: 15 * 60,
    free: 10,
    lock_at: None,
    lock_secs: 15 * 60,
    max_delay_secs: 60,
};
/// Password and PIN guesses made with one device cookie (see `domain::device`), in place of
/// the account's counters: ten a day free, then delays capped at a minute; at
/// [`DEVICE_REVOKE_AT`] failures the device is forgotten and its browser guesses like any other.
pub const DEVICE: Policy = Policy {
    window_secs: 24 * 60 * 60,
    free: 10,
    lock_at: None,
    lock_secs: 24 * 60 * 60,
    max_delay_secs: 60,
};
/// The failed guesses (in [`DEVICE`]'s window, without a right one) that revoke a device.
pub const DEVICE_REVOKE_AT: u32 = 20;
/// Password guesses per account from one source address: this pair is what locks.
pub const ACCOUNT_SOURCE: Policy = Policy {
    window_secs: 15 * 60,
    free: 5,
    lock_at: Some(10),
    lock_secs: 15 * 60,
    max_delay_secs: 60,
};
/// Password guesses per source address, whatever the account: a credential-stuffing run.
pub const SOURCE: Policy = Policy {
    window_secs: 15 * 60,
    free: 50,
    lock_at: Some(100),
    lock_secs: 15 * 60,
    max_delay_secs: 60,
};
/// "Forgot password" requests per source address: one address cannot make Porter email reset
/// links to a whole list of people (each account also gets at most one a minute).
pub const FORGOT_SOURCE: Policy = Policy {
    window_secs: 15 * 60,
    free: 10,
    lock_at: Some(10),
    lock_secs: 15 * 60,
    max_delay_secs: 60,
};
/// `identify` requests per source address: each may write a sign-in in flight (`OIDC#`), so
/// one address cannot fill the table with them. Sixty a minute, then 429 for the minute.
pub const IDENTIFY_SOURCE: Policy = Policy {
    window_secs: 60,
    free: 60,
    lock_at: Some(60),
    lock_secs: 60,
    max_delay_secs: 60,
};
/// Sign-in PIN emails per address typed and source address (registered or not: the answer is
/// the same): three in fifteen minutes. Per source, so that a stranger's requests do not spend
/// the owner's own.
pub const PIN_EMAILS: Policy = Policy {
    window_secs: 15 * 60,
    free: 3,
    lock_at: Some(3),
    lock_secs: 15 * 60,
    max_delay_secs: 60,
};
/// Sign-in PIN emails per address typed, from anywhere: ten an hour, so that many sources
/// together cannot flood a mailbox.
pub const PIN_EMAILS_HOURLY: Policy = Policy {
    window_secs: 60 * 60,
    free: 10,
    lock_at: Some(10),
    lock_secs: 60 * 60,
    max_delay_secs: 60,
};
/// Sign-in PIN requests per source address: one address cannot mail PINs to a list.
pub const PIN_SOURCE: Policy = FORGOT_SOURCE;
/// Text messages per phone number, whoever asks for them: three in fifteen minutes, so that
/// nobody can use Porter to flood a phone (or run up its bill).
pub const SMS_NUMBER: Policy = PIN_EMAILS;
/// Second-factor guesses per user (TOTP, recovery code, security key; the code that confirms
/// a new authenticator app). Emailed PINs count like passwords instead.
pub const MFA: Policy = Policy {
    window_secs: 15 * 60,
    free: 3,
    lock_at: Some(5),
    lock_secs: 15 * 60,
    max_delay_secs: 60,
};

/// A counter as stored: attempts taken in the window that began at `window_start`, and the
/// earliest time of the next one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counter {
    pub attempts: u32,
    pub window_start: i64,
    pub next_at: i64,
}

/// What the write that takes an attempt must find, so that two requests that read the same
/// counter cannot both take the same place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guard {
    /// No counter yet.
    Absent,
    /// The window read (now over) is still the one stored.
    Window { start: i64 },
    /// Still this window, and fewer than `below` attempts in it: any number of requests may
    /// take free places at once, and the condition stops them at `below`.
    FreeBelow { start: i64, below: u32 },
    /// Still this window with exactly `attempts` in it, and no delay running: after a delay
    /// or a lock only one request can take the next place.
    Exactly { start: i64, attempts: u32 },
}

/// The outcome of asking for an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// Wait this many seconds; nothing is written.
    Refused { retry_after: u64 },
    /// Write `next` (or, for [`Guard::FreeBelow`], add one attempt) if `guard` holds.
    Take { guard: Guard, next: Counter },
}

impl Policy {
    /// The wait imposed after the `n`-th attempt of a window.
    pub fn delay_after(&self, n: u32) -> i64 {
        if self.lock_at.is_some_and(|lock| n >= lock) {
            self.lock_secs
        } else if n > self.free {
            (1i64 << (n - self.free).min(20)).min(self.max_delay_secs)
        } else {
            0
        }
    }

    /// How many attempts a window allows before the first delay (or lock).
    fn free_places(&self) -> u32 {
        match self.lock_at {
            Some(lock) => self.free.min(lock.saturating_sub(1)),
            None => self.free,
        }
    }

    /// Whether the attempt-taking write may proceed, given the counter as read (`None`: no
    /// counter) at `now`.
    pub fn attempt(&self, seen: Option<Counter>, now: Timestamp) -> Attempt {
        let fresh = |guard| Attempt::Take {
            guard,
            next: Counter {
                attempts: 1,
                window_start: now.0,
                next_at: now.0 + self.delay_after(1),
            },
        };
        let Some(c) = seen else {
            return fresh(Guard::Absent);
        };
        if c.next_at > now.0 {
            let wait = u64::try_from(c.next_at - now.0).unwrap_or(1);
            return Attempt::Refused { retry_after: wait };
        }
        if now.0 - c.window_start >= self.window_secs {
            return fresh(Guard::Window {
                start: c.window_start,
            });
        }
        let n = c.attempts.saturating_add(1);
        let next = Counter {
            attempts: n,
            window_start: c.window_start,
            next_at: now.0 + self.delay_after(n),
        };
        let guard = if n <= self.free_places() {
            Guard::FreeBelow {
                start: c.window_start,
                below: self.free_places(),
            }
        } else {
            Guard::Exactly {
                start: c.window_start,
                attempts: c.attempts,
            }
        };
        Attempt::Take { guard, next }
    }

    /// When a counter written at `now` may be deleted: after its window and any wait.
    pub fn keep_until(&self, c: &Counter) -> i64 {
        c.next_at.max(c.window_start + self.window_secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Takes `n` attempts one after another at `now`, as the store would apply them.
    fn take_n(p: &Policy, n: u32, now: Timestamp) -> (Option<Counter>, Vec<Attempt>) {
        let mut c = None;
        let mut seen = Vec::new();
        for _ in 0..n {
            let a = p.attempt(c, now);
            if let Attempt::Take { next, .. } = a {
                c = Some(next);
            }
            seen.push(a);
        }
        (c, seen)
    }

    fn refused(a: &Attempt) -> Option<u64> {
        match a {
            Attempt::Refused { retry_after } => Some(*retry_after),
            Attempt::Take { .. } => None,
        }
    }

    #[test]
    fn free_attempts_then_a_delay_then_the_lock() {
        let now = Timestamp(1_000_000);
        let (_, a) = take_n(&ACCOUNT_SOURCE, 7, now);
        assert!(a[..6].iter().all(|a| refused(a).is_none()), "{a:?}");
        assert_eq!(refused(&a[6]), Some(2), "the sixth attempt set a 2 s delay");

        // Waiting out each delay, ten attempts are taken; the tenth locks.
        let mut c: Option<Counter> = None;
        let mut t = now;
        for _ in 0..10 {
            t = Timestamp(c.map_or(t.0, |c| c.next_at.max(t.0)));
            match ACCOUNT_SOURCE.attempt(c, t) {
                Attempt::Take { next, .. } => c = Some(next),
                Attempt::Refused { .. } => panic!("waited long enough"),
            }
        }
        assert_eq!(
            refused(&ACCOUNT_SOURCE.attempt(c, t)),
            Some(900),
            "the tenth attempt locks for fifteen minutes"
        );
    }

    #[test]
    fn knocking_on_a_lock_does_not_extend_it() {
        let now = Timestamp(1_000_000);
        let locked = Counter {
            attempts: 10,
            window_start: now.0,
            next_at: now.0 + 900,
        };
        let later = now.plus_secs(600);
        assert_eq!(
            refused(&ACCOUNT_SOURCE.attempt(Some(locked), later)),
            Some(300),
            "retry-after counts down to the lock's end"
        );
        assert!(matches!(
            ACCOUNT_SOURCE.attempt(Some(locked), now.plus_secs(900)),
            Attempt::Take {
                guard: Guard::Window { .. },
                next: Counter { attempts: 1, .. }
            }
        ));
    }

    #[test]
    fn account_wide_delays_never_exceed_a_minute_and_never_lock() {
        assert_eq!(ACCOUNT.delay_after(10), 0);
        assert_eq!(ACCOUNT.delay_after(11), 2);
        assert_eq!(ACCOUNT.delay_after(16), 60);
        assert_eq!(ACCOUNT.delay_after(10_000), 60);
    }

    #[test]
    fn free_places_can_be_taken_together_but_delayed_ones_only_one_at_a_time() {
        let now = Timestamp(1_000_000);
        let two = Counter {
            attempts: 2,
            window_start: now.0,
            next_at: now.0,
        };
        assert!(matches!(
            MFA.attempt(Some(two), now),
            Attempt::Take {
                guard: Guard::FreeBelow { below: 3, .. },
                ..
            }
        ));
        let three = Counter { attempts: 3, ..two };
        assert!(matches!(
            MFA.attempt(Some(three), now),
            Attempt::Take {
                guard: Guard::Exactly { attempts: 3, .. },
                ..
            }
        ));
    }

    #[test]
    fn old_attempts_are_forgotten_after_the_window() {
        let now = Timestamp(1_000_000);
        let (c, _) = take_n(&ACCOUNT, 5, now);
        let a = ACCOUNT.attempt(c, now.plus_secs(901));
        assert!(matches!(
            a,
            Attempt::Take {
                guard: Guard::Window { start: 1_000_000 },
                next: Counter { attempts: 1, .. }
            }
        ));
    }

    #[test]
    fn every_lock_outlives_its_window() {
        for p in [
            ACCOUNT,
            ACCOUNT_SOURCE,
            SOURCE,
            FORGOT_SOURCE,
            MFA,
            PIN_EMAILS,
            DEVICE,
        ] {
            assert!(p.lock_secs >= p.window_secs, "{p:?}");
        }
    }
}
