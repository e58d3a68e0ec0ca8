//! Password hashing with argon2id at OWASP's parameters (19 MiB, t=2, p=1).
//!
//! Hashing is deliberately slow (tens of milliseconds), so it runs on tokio's blocking pool:
//! on the async runtime it would stall every other request of the instance.

use crate::domain::Password;
use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use secrecy::{ExposeSecret, SecretString};

/// OWASP Password Storage Cheat Sheet, argon2id option 1: m=19456 KiB, t=2, p=1.
pub const MEMORY_KIB: u32 = 19 * 1024;
pub const ITERATIONS: u32 = 2;
pub const PARALLELISM: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("password hashing task failed")]
    Join,
}

fn hasher() -> Result<Argon2<'static>, HashError> {
    let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None)
        .map_err(|e| HashError::Hash(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// The PHC string (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`): parameters travel with the
/// hash, so raising them later does not break stored hashes.
pub fn hash_blocking(password: &str) -> Result<String, HashError> {
    let salt = SaltString::generate(&mut OsRng);
    let password = crate::domain::password::normalise(password);
    hasher()?
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| HashError::Hash(e.to_string()))
}

/// `false` for a wrong password and for a malformed stored hash alike. The parameters come
/// from the stored hash, the algorithm is pinned to argon2id, and the password is checked in
/// the form it was hashed in (NFKC).
pub fn verify_blocking(password: &str, phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    if parsed.algorithm != argon2::ARGON2ID_IDENT {
        return false;
    }
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from) {
        None => Version::V0x13,
        Some(Ok(v)) => v,
        Some(Err(_)) => return false,
    };
    let mut salt_bytes = [0u8; argon2::password_hash::Salt::MAX_LENGTH];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let password = crate::domain::password::normalise(password);
    let mut out = vec![0u8; expected.len()];
    let blocks = params.block_count();
    let argon2 = Argon2::new(Algorithm::Argon2id, version, params);
    let computed = with_blocks(blocks, |memory| {
        argon2.hash_password_into_with_memory(password.as_bytes(), salt, &mut out, memory)
    });
    // `Output` compares in constant time.
    computed.is_ok() && argon2::password_hash::Output::new(&out).is_ok_and(|o| o == expected)
}

thread_local! {
    /// The hash's working memory, kept by each thread that verifies: allocating 19 MiB afresh
    /// for every check costs a page fault per 4 KiB (measured: a fifth of a sign-in's CPU).
    static BLOCKS: std::cell::RefCell<Vec<argon2::Block>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Runs `f` on `count` blocks of this thread's working memory. Every block is written before
/// it is read, so what an earlier hash left there does not matter.
fn with_blocks<R>(count: usize, f: impl FnOnce(&mut [argon2::Block]) -> R) -> R {
    BLOCKS.with(|cell| {
        let mut blocks = cell.borrow_mut();
        if blocks.len() < count {
            blocks.resize(count, argon2::Block::default());
        }
        f(&mut blocks[..count])
    })
}

#[tracing::instrument(skip_all)]
pub async fn hash(password: &Password) -> Result<String, HashError> {
    let secret = SecretString::from(password.expose().to_owned());
    tokio::task::spawn_blocking(move || hash_blocking(secret.expose_secret()))
        .await
        .map_err(|_| HashError::Join)?
}

/// Verifies `password` against `stored`, or against [`DUMMY_HASH`] when there is none (and
/// then answers false), so that a missing hash costs what a real one costs. On the blocking
/// pool, except under a single-threaded runtime (the Lambda binaries): there one request runs
/// at a time and nothing else waits for the thread, so hashing on it saves two thread
/// hand-offs per sign-in. The one verification every flow uses (sign-in, PIN, re-entering
/// the current password).
pub async fn verify(password: SecretString, stored: Option<&SecretString>) -> bool {
    let has_real_hash = stored.is_some();
    let hash = stored.map_or_else(|| DUMMY_HASH.to_owned(), |h| h.expose_secret().to_owned());
    let check = move || {
        // Longer than any password the policy allows: refuse without hashing megabytes.
        password.expose_secret().len() <= 1024 && verify_blocking(password.expose_secret(), &hash)
    };
    let started = std::time::Instant::now();
    let matches = if tokio::runtime::Handle::current().runtime_flavor()
        == tokio::runtime::RuntimeFlavor::CurrentThread
    {
        check()
    } else {
        tokio::task::spawn_blocking(check).await.unwrap_or(false)
    };
    // The verification is nearly all of a sign-in's CPU: what it took, for an operator who
    // asks why sign-ins are slow and for `make bench`, which compares it with the whole step
    // (tests/bench/warm.py). Milliseconds only, and the same line for every outcome.
    tracing::debug!(
        ms = started.elapsed().as_secs_f64() * 1000.0,
        "password verification"
    );
    matches && has_real_hash
}

/// Hashes a code sent to a person (a sign-in PIN) off the async runtime.
pub async fn hash_code(code: &SecretString) -> Result<String, HashError> {
    let secret = code.clone();
    tokio::task::spawn_blocking(move || hash_blocking(secret.expose_secret()))
        .await
        .map_err(|_| HashError::Join)?
}

/// A real argon2id hash, at the parameters above, of a random password nobody kept: an
/// unknown address is checked against it, so that it costs what a known one costs. A constant
/// rather than hashed at start, which would add a whole hash to the first sign-in of every
/// instance. Not a secret: it opens nothing.
pub const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$WFsPClypUeZWHDFI/u95Rg$6i/a0bTQdX8MDw9BQiZJsESqbVKMlXTqfSA128Ywnmk"; // pragma: allowlist secret

#[cfg(test)]
mod tests {
    use super::*;

    /// Hashes made by another implementation (the reference C code through Python's
    /// argon2-cffi): the reused working memory gives the same answers, other parameters
    /// included (two lanes, less memory), and argon2i is refused.
    #[test]
    fn hashes_from_the_reference_implementation_verify_and_argon2i_is_refused() {
        let pw = "correct horse battery staple";
        let owasp = "$argon2id$v=19$m=19456,t=2,p=1$HXJmbUXCFxJKeMptK2rCWA$EGO7HMveKNTWEqS9WoGkhBY9FkKQar+gWkmlTXk3HvQ"; // pragma: allowlist secret
        let lanes = "$argon2id$v=19$m=8192,t=3,p=2$Bel/IKUctQd+/MQLn4aKLQ$AVn+J7aJAh8ejwV7XmkK6Y2b1MF/YIZnacbh2LT/sIw"; // pragma: allowlist secret
        let argon2i = "$argon2i$v=19$m=19456,t=2,p=1$XasZPijnfcoq/a13H9YwKQ$gdMhoTZopD81Ni95BiYUnAX5i3UXSu8TUpxxeDALSAw"; // pragma: allowlist secret
        for _ in 0..2 {
            assert!(verify_blocking(pw, owasp));
            assert!(verify_blocking(pw, lanes));
            assert!(!verify_blocking("correct horse battery stapler", owasp));
            assert!(!verify_blocking("correct horse battery stapler", lanes));
        }
        assert!(!verify_blocking(pw, argon2i));
        assert!(!verify_blocking(pw, &owasp.replace("t=2", "t=3")));
    }

    #[test]
    fn the_dummy_hash_costs_what_a_real_one_costs_and_opens_nothing() {
        let real = hash_blocking("tangerine orbit kettle 94").unwrap();
        let params = |phc: &str| phc.split('$').nth(3).map(str::to_owned);
        assert_eq!(
            params(DUMMY_HASH),
            params(&real),
            "same parameters as new hashes"
        );
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
        assert!(!verify_blocking("tangerine orbit kettle 94", DUMMY_HASH));
        assert!(!verify_blocking("", DUMMY_HASH));
    }

    #[test]
    fn hashes_are_argon2id_with_owasp_parameters_and_salted() {
        let a = hash_blocking("tangerine orbit kettle 94").unwrap();
        let b = hash_blocking("tangerine orbit kettle 94").unwrap();
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
        assert_ne!(a, b, "each hash has its own salt");
        assert!(!a.contains("tangerine"));
    }

    #[test]
    fn verification_accepts_the_password_and_nothing_else() {
        let h = hash_blocking("tangerine orbit kettle 94").unwrap();
        assert!(verify_blocking("tangerine orbit kettle 94", &h));
        assert!(!verify_blocking("tangerine orbit kettle 95", &h));
        assert!(!verify_blocking("tangerine orbit kettle 94", "not a hash"));
    }
}
