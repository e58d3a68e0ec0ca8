//! Guess limits (ASVS 5 §6.3.1): passwords and PINs per typed account and per source address,
//! second-factor codes per user. One model for every guess: the counters are read with the
//! step's batch, the guess is judged without writing, then settled in one transaction with
//! what its verdict leads to. The two mail-sending limits ("forgot password", PIN requests)
//! are rate limits instead: an attempt is taken before the mail goes out.

use crate::domain::device::DeviceRecord;
use crate::domain::throttle::{self, Attempt, Counter, Policy};
use crate::domain::{Timestamp, TokenHash, UserRecord};
use crate::http::ApiError;
use crate::store::throttle::{Settle, Settled, ThrottleKey};
use crate::store::{StoreError, Writes};
use crate::AppState;

/// How many times a request reads the counters again after losing a race for a place; a
/// request still contended after that is told to retry in a second (never judged, never 503).
const ROUNDS: usize = 6;

/// A rate limit: one attempt taken on each of its counters at once, before what it limits is
/// done, or 429 with the longest wait (writing nothing). Counters that cannot be read or
/// written refuse too, with 503.
async fn take_attempts(
    state: &AppState,
    counters: Vec<(ThrottleKey, Policy)>,
    now: Timestamp,
) -> Result<(), ApiError> {
    let takes: Vec<_> = counters
        .iter()
        .map(|(k, p)| (k, *p, Settle::Take))
        .collect();
    // With no other writes, nothing but a counter's guard can fail.
    settle_guess(state, &takes, None, || Ok(Writes::none()), now).await?;
    Ok(())
}

/// Counts a guess on every counter that limits it, in one transaction with `then` (what the
/// guess leads to): each counter taken or cleared (`Settle`) under the guard its policy gives
/// for the counter as read. Refuses with 429 and the longest wait while any counter asks to
/// wait (writing nothing); a lost race reads again (from `first`, the counters as the caller
/// read them, on the first round), [`ROUNDS`] times, then asks to retry in a second.
async fn settle_guess(
    state: &AppState,
    counters: &[(&ThrottleKey, Policy, Settle)],
    mut first: Option<Vec<Option<Counter>>>,
    then: impl Fn() -> Result<Writes, StoreError>,
    now: Timestamp,
) -> Result<Verdict, ApiError> {
    let keys: Vec<&ThrottleKey> = counters.iter().map(|(k, _, _)| *k).collect();
    for _ in 0..ROUNDS {
        let seen = match first.take() {
            Some(seen) if seen.len() == keys.len() => seen,
            _ => state.store.get_counters(&keys).await?,
        };
        let policies = counters.iter().map(|(_, p, _)| *p);
        if let Some(wait) = longest_wait(policies, &seen, now) {
            return Err(ApiError::throttled(wait));
        }
        let mut settles = Vec::with_capacity(counters.len());
        for ((k, policy, settle), c) in counters.iter().zip(seen) {
            if let Attempt::Take { guard, next } = policy.attempt(c, now) {
                settles.push((*k, policy, guard, next, *settle));
            }
        }
        match state.store.settle(&settles, then()?).await? {
            Settled::Done => return Ok(Verdict::Settled),
            Settled::Refused { index } => return Ok(Verdict::Refused { index }),
            Settled::LostRace => {}
        }
    }
    Err(ApiError::throttled(1))
}

/// The longest wait any counter (as `seen`, in the order of `policies`) asks for now, if any.
fn longest_wait(
    policies: impl Iterator<Item = Policy>,
    seen: &[Option<Counter>],
    now: Timestamp,
) -> Option<u64> {
    policies
        .zip(seen)
        .filter_map(|(policy, c)| match policy.attempt(*c, now) {
            Attempt::Refused { retry_after } => Some(retry_after),
            Attempt::Take { .. } => None,
        })
        .max()
}

/// Password guesses (and emailed PINs, and the current password before a change): per account
/// whoever guesses (delays only), per account from this source address (delays, then a lock
/// only this address suffers) and per source address. A guess counts on all three before
/// anyone learns its verdict: it is settled, judged, in one transaction with what it leads to
/// ([`PasswordGuess::settle`]).
pub struct SignInGuesses;

impl SignInGuesses {
    /// The account key: the address as typed, normalised the way sign-in would.
    pub fn account_key(raw_email: &str) -> ThrottleKey {
        ThrottleKey::new("account", &normalised(raw_email))
    }

    /// The counters a password guess for `raw_email` from `source_ip` is limited by.
    pub fn counters(raw_email: &str, source_ip: &str) -> Vec<ThrottleKey> {
        vec![
            Self::account_key(raw_email),
            ThrottleKey::new(
                "account-source",
                &format!("{}\n{source_ip}", normalised(raw_email)),
            ),
            ThrottleKey::new("source", source_ip),
        ]
    }

    /// The policies of [`SignInGuesses::counters`], in their order.
    const POLICIES: [Policy; 3] = [
        throttle::ACCOUNT,
        throttle::ACCOUNT_SOURCE,
        throttle::SOURCE,
    ];
}

/// A password (or PIN) guess whose counters were read (with the other items of the step's
/// first request) and allow it: judged by the caller, then settled with what it leads to.
/// A browser whose device cookie speaks for the typed address guesses on that device's own
/// counter ([`throttle::DEVICE`]) instead of the account's three, so that a stranger's guesses
/// never hold the owner's known browser out.
pub struct PasswordGuess {
    /// [`SignInGuesses::counters`], as the caller read them.
    keys: Vec<ThrottleKey>,
    seen: Vec<Option<Counter>>,
    /// The browser's device, when it speaks for the address, with its counter as read.
    device: Option<(DeviceRecord, Option<Counter>)>,
    now: Timestamp,
}

impl PasswordGuess {
    /// The counter of the guesses made with one device cookie.
    pub fn device_key(hash: &TokenHash) -> ThrottleKey {
        ThrottleKey::new("device", hash.as_str())
    }

    /// 429 with the longest wait when the counters that limit this guess refuse it now:
    /// before the guess is judged, so that a throttled guesser costs no hashing. `keys` are
    /// the caller's [`SignInGuesses::counters`] and `seen` those counters as read, in that
    /// order, followed by the device's counter when `device` (the browser's device, if it
    /// names the user the typed address belongs to) is given.
    pub fn allowed(
        keys: Vec<ThrottleKey>,
        mut seen: Vec<Option<Counter>>,
        device: Option<DeviceRecord>,
        now: Timestamp,
    ) -> Result<Self, ApiError> {
        let device_seen = if seen.len() > keys.len() {
            seen.pop().flatten()
        } else {
            None
        };
        let guess = Self {
            keys,
            seen,
            device: device.map(|d| (d, device_seen)),
            now,
        };
        guess.check()?;
        Ok(guess)
    }

    fn check(&self) -> Result<(), ApiError> {
        let wait = match &self.device {
            Some((_, c)) => longest_wait([throttle::DEVICE].into_iter(), &[*c], self.now),
            None => longest_wait(SignInGuesses::POLICIES.into_iter(), &self.seen, self.now),
        };
        match wait {
            Some(wait) => Err(ApiError::throttled(wait)),
            None => Ok(()),
        }
    }

    /// Once the user is read: a device of theirs from before their sessions were all ended
    /// (a password reset) speaks for nobody, and the guess falls under the account's
    /// counters (429 when those refuse it now).
    pub fn confirm_device(mut self, user: Option<&UserRecord>) -> Result<Self, ApiError> {
        let theirs = |d: &DeviceRecord| user.is_some_and(|u| d.is_of(u, self.now));
        if self.device.as_ref().is_some_and(|(d, _)| !theirs(d)) {
            self.device = None;
            self.check()?;
        }
        Ok(self)
    }

    /// The hashed account key, for the trace of a failure that names nobody.
    pub fn account(&self) -> &ThrottleKey {
        &self.keys[0]
    }

    /// Settles the guess, judged (`right` or not), together with `then`, what it leads to, in
    /// one transaction. On the account's counters a right one starts the account's counters
    /// afresh and counts on the source address's, a wrong one takes an attempt on all three;
    /// on a device's counter a right one starts it afresh and a wrong one takes an attempt
    /// (the [`throttle::DEVICE_REVOKE_AT`]-th revokes the device with it). Each only while its
    /// counter allows an attempt now: the verdict reaches nobody before it is counted (429,
    /// nothing written, when the guesses ran out meanwhile, whatever the guess was).
    pub async fn settle(
        &self,
        state: &AppState,
        right: bool,
        then: impl Fn() -> Result<Writes, StoreError>,
    ) -> Result<Verdict, ApiError> {
        if let Some((device, seen)) = &self.device {
            let key = Self::device_key(&device.hash);
            let settle = if right { Settle::Clear } else { Settle::Take };
            let revokes = !right
                && matches!(
                    throttle::DEVICE.attempt(*seen, self.now),
                    Attempt::Take { next, .. } if next.attempts >= throttle::DEVICE_REVOKE_AT
                );
            let then = || {
                let writes = then()?;
                if revokes {
                    return Ok(writes.and(state.store.device_revoke_writes(&device.hash)?));
                }
                Ok(writes)
            };
            let counters = [(&key, throttle::DEVICE, settle)];
            return settle_guess(state, &counters, Some(vec![*seen]), then, self.now).await;
        }
        let counters: Vec<_> = self
            .keys
            .iter()
            .zip(SignInGuesses::POLICIES)
            .map(|(k, policy)| {
                let clears = right && policy != throttle::SOURCE;
                (k, policy, if clears { Settle::Clear } else { Settle::Take })
            })
            .collect();
        let seen = Some(self.seen.clone());
        settle_guess(state, &counters, seen, then, self.now).await
    }
}

fn normalised(raw_email: &str) -> String {
    raw_email.trim().to_lowercase()
}

/// Counts a "forgot password" request from `source_ip`: `Ok(true)` while that address is over
/// its limit (then no email goes out, though the answer stays the same). The counter does not
/// depend on the account, so a store that cannot count answers 503 for everyone alike.
pub async fn forgot_limited(
    state: &AppState,
    source_ip: &str,
    now: Timestamp,
) -> Result<bool, ApiError> {
    let key = ThrottleKey::new("forgot-source", source_ip);
    match take_attempts(state, vec![(key, throttle::FORGOT_SOURCE)], now).await {
        Ok(_) => Ok(false),
        Err(e) if e.retry_after_secs.is_some() => Ok(true),
        Err(e) => Err(e),
    }
}

/// Counts an `identify` request from `source_ip`; 429 `throttled` with `Retry-After` past
/// sixty a minute (the answer depends on the address only, never on the account).
pub async fn identify_limited(
    state: &AppState,
    source_ip: &str,
    now: Timestamp,
) -> Result<(), ApiError> {
    limited(
        state,
        "identify-source",
        source_ip,
        throttle::IDENTIFY_SOURCE,
        now,
    )
    .await
}

/// Counts a passkey sign-in's options from `source_ip` (each writes a challenge); 429
/// `throttled` with `Retry-After` past sixty a minute.
pub async fn passkey_options_limited(
    state: &AppState,
    source_ip: &str,
    now: Timestamp,
) -> Result<(), ApiError> {
    limited(
        state,
        "passkey-source",
        source_ip,
        throttle::IDENTIFY_SOURCE,
        now,
    )
    .await
}

/// Counts a text message to `number` (E.164): 429 `throttled` with `Retry-After` past three
/// in fifteen minutes, whoever asks.
pub async fn sms_limited(state: &AppState, number: &str, now: Timestamp) -> Result<(), ApiError> {
    limited(state, "sms-number", number, throttle::SMS_NUMBER, now).await
}

/// Takes an attempt on the one counter `scope` keeps for `value` under `policy`.
async fn limited(
    state: &AppState,
    scope: &str,
    value: &str,
    policy: Policy,
    now: Timestamp,
) -> Result<(), ApiError> {
    let key = ThrottleKey::new(scope, value);
    take_attempts(state, vec![(key, policy)], now)
        .await
        .map(|_| ())
}

/// Counts a sign-in PIN request for `raw_email` from `source_ip`: `Ok(true)` while any count is
/// over its limit (three emails per address and source per fifteen minutes, ten per address
/// per hour, ten requests per source per fifteen minutes). Then no email goes out, and the
/// answer stays the same.
pub async fn pin_emails_limited(
    state: &AppState,
    raw_email: &str,
    source_ip: &str,
    now: Timestamp,
) -> Result<bool, ApiError> {
    let counters = vec![
        (
            ThrottleKey::new(
                "pin-email-source",
                &format!("{}\n{source_ip}", normalised(raw_email)),
            ),
            throttle::PIN_EMAILS,
        ),
        (
            ThrottleKey::new("pin-email", &normalised(raw_email)),
            throttle::PIN_EMAILS_HOURLY,
        ),
        (
            ThrottleKey::new("pin-source", source_ip),
            throttle::PIN_SOURCE,
        ),
    ];
    match take_attempts(state, counters, now).await {
        Ok(_) => Ok(false),
        Err(e) if e.retry_after_secs.is_some() => Ok(true),
        Err(e) => Err(e),
    }
}

/// Second-factor guesses per user, for the check at sign-in, re-authentication and the code
/// that confirms an authenticator app.
pub struct MfaGuesses;

/// How a counted guess was settled.
pub enum Verdict {
    /// Counted, and what it leads to written with it.
    Settled,
    /// Element `index` of the writes that go with it failed its condition: nothing was
    /// written, not even the attempt.
    Refused { index: usize },
}

impl MfaGuesses {
    /// The counter of `user`'s second-factor guesses.
    pub fn key(user: &crate::domain::UserId) -> ThrottleKey {
        ThrottleKey::new("mfa", user.as_str())
    }

    /// Settles a second factor judged already (`right` or not) together with what it leads
    /// to: a right one resets the user's guess counter, a wrong one takes an attempt, each
    /// only while the counter allows an attempt now. The verdict reaches nobody before this
    /// transaction succeeded: refused (429, nothing written) when the guesses are used up,
    /// whatever the guess was. `seen` is the counter as read with the caller.
    pub async fn settle(
        state: &AppState,
        user: &UserRecord,
        seen: Option<Option<Counter>>,
        right: bool,
        then: impl Fn() -> Result<Writes, StoreError>,
        now: Timestamp,
    ) -> Result<Verdict, ApiError> {
        let key = Self::key(&user.id);
        let settle = if right { Settle::Clear } else { Settle::Take };
        let first = seen.map(|c| vec![c]);
        settle_guess(state, &[(&key, throttle::MFA, settle)], first, then, now).await
    }

    /// 429 with the wait while `seen` (the user's counter as read with the caller) refuses a
    /// guess now: before it is judged, so that a throttled guesser costs no work.
    pub fn allowed(seen: Option<Counter>, now: Timestamp) -> Result<(), ApiError> {
        match longest_wait([throttle::MFA].into_iter(), &[seen], now) {
            Some(wait) => Err(ApiError::throttled(wait)),
            None => Ok(()),
        }
    }

    /// `writes`, what a right proof leads to, in one transaction with the reset of the user's
    /// counter (`guess`: as read with the caller) when a guessed code proved it, or alone when
    /// nothing was guessed (a security key's registration).
    pub async fn settle_right(
        state: &AppState,
        user: &UserRecord,
        guess: Option<Option<Counter>>,
        writes: Writes,
        now: Timestamp,
    ) -> Result<Verdict, ApiError> {
        let then = || Ok(writes.clone());
        match guess {
            Some(seen) => Self::settle(state, user, Some(seen), true, then, now).await,
            None => settle_guess(state, &[], None, then, now).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> Vec<ThrottleKey> {
        SignInGuesses::counters("ann@example.com", "192.0.2.1")
    }

    fn waiting_until(next_at: i64) -> Option<Counter> {
        Some(Counter {
            attempts: 12,
            window_start: 0,
            next_at,
        })
    }

    #[test]
    fn a_password_guess_waits_for_the_longest_delay_of_its_counters_before_it_is_judged() {
        let now = Timestamp(1_000);
        let seen = vec![waiting_until(1_030), None, waiting_until(1_045)];
        let refused = PasswordGuess::allowed(keys(), seen, None, now);
        assert_eq!(refused.err().and_then(|e| e.retry_after_secs), Some(45));
    }

    #[test]
    fn a_password_guess_on_counters_that_are_absent_or_past_their_delay_is_allowed() {
        let now = Timestamp(1_000);
        let seen = vec![None, waiting_until(1_000), waiting_until(900)];
        assert!(PasswordGuess::allowed(keys(), seen, None, now).is_ok());
    }
}
