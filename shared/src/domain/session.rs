//! Sessions: what a signed-in browser holds (an opaque id) and what the table keeps (its hash,
//! whose it is, how far the sign-in got). The rule for a live session is a pure function.

use super::ids::{TenantId, UserId};
use super::time::Timestamp;
use super::token::{random_secret, TokenHash};
use super::user::UserRecord;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};

/// Idle timeout (ASVS 5 §7.3.1 allows up to 30 minutes for this risk level).
pub const IDLE_SECS: i64 = 30 * 60;
/// Absolute lifetime of a full session.
pub const ABSOLUTE_SECS: i64 = 12 * 3600;
/// A password-level session only lives long enough to enter a code or enrol.
pub const PASSWORD_LEVEL_SECS: i64 = 15 * 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Password checked; only enrolment and the second-factor check are reachable.
    Password,
    /// Both factors checked.
    Full,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Password => "password",
            Self::Full => "full",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "password" => Some(Self::Password),
            "full" => Some(Self::Full),
            _ => None,
        }
    }

    /// How long a session at this level may last at most.
    pub fn lifetime_secs(self) -> i64 {
        match self {
            Self::Password => PASSWORD_LEVEL_SECS,
            Self::Full => ABSOLUTE_SECS,
        }
    }
}

/// The id in the browser's cookie: `<tenant id>.<user id>.<256 random bits>`, or
/// `<tenant id>.<user id>.<organization id>.<256 random bits>` while the session acts in an
/// organization the user's MSP manages; handed out once, and only the hash of the random part
/// is stored. The ids in front are not secret (the account page shows them); they let a
/// request read the session, its user and the tenants in one BatchGetItem instead of the
/// session first and the rest after it. They prove nothing: the stored session must name the
/// same ones.
pub struct SessionId(SecretString);

impl SessionId {
    pub fn generate(owner: &SessionOwner, rng: &mut impl RngCore) -> (Self, TokenHash) {
        let raw = random_secret(rng);
        let hash = TokenHash::digest(&raw);
        let value = if owner.tenant == owner.home {
            format!("{}.{}.{raw}", owner.home, owner.user)
        } else {
            format!("{}.{}.{}.{raw}", owner.home, owner.user, owner.tenant)
        };
        (Self(SecretString::from(value)), hash)
    }

    /// The value for the cookie, and nowhere else.
    pub fn secret(&self) -> &str {
        self.0.expose_secret()
    }
}

/// A session cookie as a browser presented it: the hash to look up and, when the cookie names
/// them, whose it says it is (a cookie from before ids were carried names nobody).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresentedSession {
    pub hash: TokenHash,
    pub owner: Option<SessionOwner>,
}

/// Whose a session is, and where it acts: what a request reads with it is keyed by these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionOwner {
    /// The tenant the session acts in: the user's own, or an organization their MSP manages.
    pub tenant: TenantId,
    pub user: UserId,
    /// The user's own tenant.
    pub home: TenantId,
}

impl PresentedSession {
    /// `None` for anything not shaped like a cookie this code sets: junk never reaches the
    /// database.
    pub fn parse(raw: &str) -> Option<Self> {
        let parts: Vec<&str> = raw.trim().split('.').collect();
        let owner = |home: &str, user: &str, acting: &str| {
            Some(SessionOwner {
                tenant: TenantId::parse(acting)?,
                user: UserId::parse(user)?,
                home: TenantId::parse(home)?,
            })
        };
        let (owner, secret) = match parts.as_slice() {
            [secret] => (None, *secret),
            [home, user, secret] => (Some(owner(home, user, home)?), *secret),
            [home, user, acting, secret] => (Some(owner(home, user, acting)?), *secret),
            _ => return None,
        };
        Some(Self {
            hash: TokenHash::of_presented(secret)?,
            owner,
        })
    }

    /// Whether `session` (found under this cookie's hash) is whose the cookie says, acting
    /// where it says.
    pub fn names(&self, session: &SessionRecord) -> bool {
        self.owner.as_ref().is_none_or(|o| *o == session.owner())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub hash: TokenHash,
    pub tenant: TenantId,
    pub user: UserId,
    pub level: Level,
    pub created_at: Timestamp,
    pub last_seen: Timestamp,
    /// Absolute end, whatever the activity.
    pub expires_at: Timestamp,
    /// The user's `session_epoch` when the session began; a bump ends every older session.
    pub epoch: i64,
    /// A WebAuthn ceremony in progress (server-side state, never sent to the browser).
    pub ceremony: Option<String>,
    /// Where the session began (API Gateway's source address) and the browser's description
    /// of itself: shown on the account page so that a user recognises their sessions.
    pub ip: String,
    pub user_agent: String,
    /// The organization of the user's MSP the session acts in (`None`: the user's own tenant).
    pub acting: Option<TenantId>,
    /// When the user last proved a second factor in this session (the sign-in's MFA step, or
    /// a re-authentication): changing a factor needs a proof newer than [`REAUTH_SECS`].
    pub proved_at: Option<Timestamp>,
    /// How the sign-in proved who it is, in order: RFC 8176 method names (password, one-time
    /// code, hardware key, federation; `pin` for an emailed code), the `amr` of its tokens.
    pub amr: Vec<String>,
}

/// How long a proof of the second factor allows changing factors (ASVS 5 §6.4: a change of
/// authentication factors needs re-authentication).
pub const REAUTH_SECS: i64 = 5 * 60;

impl SessionRecord {
    /// A new session for `user` at `level`: the id for the cookie and the record to store.
    pub fn start(
        user: &UserRecord,
        level: Level,
        now: Timestamp,
        rng: &mut impl RngCore,
    ) -> (SessionId, Self) {
        let owner = SessionOwner {
            tenant: user.tenant.clone(),
            user: user.id.clone(),
            home: user.tenant.clone(),
        };
        let (id, hash) = SessionId::generate(&owner, rng);
        let record = Self {
            hash,
            tenant: user.tenant.clone(),
            user: user.id.clone(),
            level,
            created_at: now,
            last_seen: now,
            expires_at: now.plus_secs(level.lifetime_secs()),
            epoch: user.session_epoch,
            ceremony: None,
            proved_at: None,
            ip: String::new(),
            user_agent: String::new(),
            acting: None,
            amr: Vec::new(),
        };
        (id, record)
    }

    /// The same record, noting where it began.
    pub fn seen_from(mut self, ip: &str, user_agent: &str) -> Self {
        ip.clone_into(&mut self.ip);
        user_agent.clone_into(&mut self.user_agent);
        self
    }

    /// Whether a second factor was proved in this session in the last [`REAUTH_SECS`].
    pub fn recently_proved(&self, now: Timestamp) -> bool {
        self.proved_at
            .is_some_and(|at| at <= now && now.0 - at.0 < REAUTH_SECS)
    }

    /// The same session under a new id, in the user's new `epoch` (after a change of factors
    /// ended every other session): its level, proof and absolute end carry over.
    pub fn rotated(&self, epoch: i64, now: Timestamp, rng: &mut impl RngCore) -> (SessionId, Self) {
        let (id, hash) = SessionId::generate(&self.owner(), rng);
        let record = Self {
            hash,
            last_seen: now,
            epoch,
            ceremony: None,
            ..self.clone()
        };
        (id, record)
    }

    /// The same session under a new id, acting in `org` (`None`: back in the user's own
    /// tenant): its level, proof and absolute end carry over.
    pub fn acting_in(
        &self,
        org: Option<TenantId>,
        now: Timestamp,
        rng: &mut impl RngCore,
    ) -> (SessionId, Self) {
        let moved = Self {
            acting: org.filter(|o| *o != self.tenant),
            ..self.clone()
        };
        moved.rotated(self.epoch, now, rng)
    }

    /// Whose the session is and where it acts.
    pub fn owner(&self) -> SessionOwner {
        SessionOwner {
            tenant: self.acting.clone().unwrap_or_else(|| self.tenant.clone()),
            user: self.user.clone(),
            home: self.tenant.clone(),
        }
    }

    /// Whether the session still counts at `now` for `user`: not past its end, not idle too
    /// long, and not ended by a bump of the user's epoch (reset, role change).
    pub fn is_live(&self, user: &UserRecord, now: Timestamp) -> bool {
        self.is_fresh(now) && self.epoch == user.session_epoch
    }

    /// Within its absolute and idle limits: what can be judged without the user's item.
    pub fn is_fresh(&self, now: Timestamp) -> bool {
        now < self.expires_at && now.0 - self.last_seen.0 < IDLE_SECS
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{rngs::StdRng, SeedableRng};

    fn owner(rng: &mut StdRng, acting: bool) -> SessionOwner {
        let home = TenantId::generate(rng);
        SessionOwner {
            tenant: if acting {
                TenantId::generate(rng)
            } else {
                home.clone()
            },
            user: UserId::generate(rng),
            home,
        }
    }

    #[test]
    fn a_session_cookie_names_its_owner_and_hashes_only_its_secret() {
        let mut rng = StdRng::seed_from_u64(3);
        for acting in [false, true] {
            let owner = owner(&mut rng, acting);
            let (id, hash) = SessionId::generate(&owner, &mut rng);
            let presented = PresentedSession::parse(id.secret()).unwrap();
            assert_eq!(presented.hash, hash);
            assert_eq!(presented.owner, Some(owner.clone()));
            let secret = id.secret().rsplit('.').next().unwrap();
            assert_eq!(TokenHash::of_presented(secret), Some(hash));
            let dots = id.secret().matches('.').count();
            assert_eq!(dots, if acting { 3 } else { 2 });
        }
    }

    #[test]
    fn a_cookie_from_before_ids_were_carried_still_reads_and_junk_does_not() {
        let old = "ab".repeat(32);
        let p = PresentedSession::parse(&old).unwrap();
        assert_eq!(p.owner, None);
        assert_eq!(p.hash, TokenHash::of_presented(&old).unwrap());
        let (tid, uid) = (TenantId::nobody(), UserId::nobody());
        for junk in [
            String::new(),
            format!("{tid}.{old}"),
            format!("{tid}.u_../../etc.{old}"),
            format!("{tid}.{uid}.{old}x"),
            format!("x.{uid}.{old}"),
            format!("{tid}.{uid}.{uid}.{old}"),
            format!("{tid}.{uid}.{tid}.{tid}.{old}"),
        ] {
            assert_eq!(PresentedSession::parse(&junk), None, "{junk:?}");
        }
    }
}
