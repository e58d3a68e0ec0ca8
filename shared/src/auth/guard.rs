//! Guess limits (ASVS 5 §6.3.1) as guards a flow holds while it judges a guess: passwords per
//! typed account and per source address, second-factor codes per user. And opening a sealed
//! TOTP seed, which every code check needs, and sealing a new one.

use crate::domain::throttle::{self, retry_after, Counter, Policy};
use crate::domain::{SealedSeed, Timestamp, UserRecord};
use crate::http::ApiError;
use crate::store::throttle::ThrottleKey;
use crate::AppState;

/// One counter as read at the start of a request.
struct Tally {
    key: ThrottleKey,
    policy: Policy,
    seen: Counter,
}

impl Tally {
    /// The counter `key` as it stands now (a missing one is fresh).
    async fn read(state: &AppState, key: ThrottleKey, policy: Policy) -> Result<Self, ApiError> {
        let seen = state
            .store
            .get_counters(&[&key])
            .await?
            .pop()
            .unwrap_or_default();
        Ok(Self { key, policy, seen })
    }

    async fn failed(&self, state: &AppState, now: Timestamp) -> Result<Counter, ApiError> {
        Ok(state
            .store
            .record_failure(&self.key, &self.policy, now, Some(self.seen))
            .await?)
    }

    /// A right guess starts the count afresh (no request when there was nothing to forget).
    async fn succeeded(&self, state: &AppState) -> Result<(), ApiError> {
        if self.seen.failures > 0 {
            state.store.clear_counter(&self.key).await?;
        }
        Ok(())
    }
}

/// Password guesses: per account (keyed by the address as typed, registered or not, so both
/// behave the same) and per source address, read together in one request.
pub struct SignInGuesses {
    account: Tally,
    source: Tally,
}

impl SignInGuesses {
    /// The account key: the address as typed, normalised the way sign-in would.
    pub fn account_key(raw_email: &str) -> ThrottleKey {
        ThrottleKey::new("account", &raw_email.trim().to_lowercase())
    }

    /// Refuses with 429 while either counter is locked. Guessing on through a delay counts
    /// against the account too, so that hammering ends in the lock.
    pub async fn check(
        state: &AppState,
        raw_email: &str,
        source_ip: &str,
        now: Timestamp,
    ) -> Result<Self, ApiError> {
        let account = Self::account_key(raw_email);
        let source = ThrottleKey::new("source", source_ip);
        let counters = state.store.get_counters(&[&account, &source]).await?;
        let seen = |i: usize| counters.get(i).copied().unwrap_or_default();
        let guesses = Self {
            account: Tally {
                key: account,
                policy: throttle::ACCOUNT,
                seen: seen(0),
            },
            source: Tally {
                key: source,
                policy: throttle::SOURCE,
                seen: seen(1),
            },
        };
        if let Some(wait) = counters.iter().filter_map(|c| retry_after(c, now)).max() {
            let counter = guesses.account.failed(state, now).await?;
            return Err(ApiError::throttled(
                retry_after(&counter, now).unwrap_or(wait).max(wait),
            ));
        }
        Ok(guesses)
    }

    /// The hashed account key, for the trace of a failure that names nobody.
    pub fn account(&self) -> &ThrottleKey {
        &self.account.key
    }

    pub async fn failed(&self, state: &AppState, now: Timestamp) -> Result<(), ApiError> {
        self.account.failed(state, now).await?;
        self.source.failed(state, now).await?;
        Ok(())
    }

    /// The account starts afresh; the source address does not.
    pub async fn succeeded(&self, state: &AppState) -> Result<(), ApiError> {
        self.account.succeeded(state).await
    }
}

/// Counts a "forgot password" request from `source_ip`; `true` while that address is over its
/// limit (then no email goes out, though the answer stays the same). Fails closed: when the
/// counter cannot be read or written, nothing is sent.
pub async fn forgot_limited(state: &AppState, source_ip: &str, now: Timestamp) -> bool {
    let key = ThrottleKey::new("forgot-source", source_ip);
    let counted = async {
        let tally = Tally::read(state, key, throttle::FORGOT_SOURCE).await?;
        if retry_after(&tally.seen, now).is_some() {
            return Ok::<bool, ApiError>(true);
        }
        let after = tally.failed(state, now).await?;
        Ok(after.failures > throttle::FORGOT_SOURCE.lock_at)
    };
    counted.await.unwrap_or_else(|e| {
        tracing::error!(
            code = e.code,
            "forgot-password limit unavailable; sending nothing"
        );
        true
    })
}

/// Second-factor guesses per user, for the check at sign-in and the code that confirms an
/// authenticator app.
pub struct MfaGuesses(Tally);

impl MfaGuesses {
    /// Refuses with 429 while the user's guesses are locked.
    pub async fn check(
        state: &AppState,
        user: &UserRecord,
        now: Timestamp,
    ) -> Result<Self, ApiError> {
        let key = ThrottleKey::new("mfa", user.id.as_str());
        let tally = Tally::read(state, key, throttle::MFA).await?;
        if let Some(wait) = retry_after(&tally.seen, now) {
            return Err(ApiError::throttled(wait));
        }
        Ok(Self(tally))
    }

    pub async fn failed(self, state: &AppState, now: Timestamp) -> Result<(), ApiError> {
        self.0.failed(state, now).await.map(|_| ())
    }

    pub async fn succeeded(self, state: &AppState) -> Result<(), ApiError> {
        self.0.succeeded(state).await
    }
}

/// A fresh TOTP seed sealed for `user` (bound to their id) with the service's data key.
pub async fn seal_seed(
    state: &AppState,
    seed: &[u8],
    user: &UserRecord,
) -> Result<SealedSeed, ApiError> {
    let key = state.data_key().await?;
    let sealed = key.seal(seed, user.id.as_str(), &mut rand::rngs::OsRng);
    Ok(SealedSeed::new(sealed))
}

/// The TOTP seed sealed for `user`, opened with the service's data key.
pub async fn open_seed(
    state: &AppState,
    seed: &SealedSeed,
    user: &UserRecord,
) -> Result<Vec<u8>, ApiError> {
    let key = state.data_key().await?;
    key.open(seed.as_str(), user.id.as_str())
        .map_err(|e| ApiError::internal("totp seed", &e))
}
