//! `GET /api/account`: what the account page shows. Only live sessions are listed (ended ones
//! linger in the table until their TTL); a session's id is the hash of its cookie value,
//! which cannot be turned back into a cookie.

use lambda_http::http::StatusCode;
use porter_shared::auth::session::authenticate;
use porter_shared::domain::{Level, Timestamp};
use porter_shared::http::{json, HandlerResult, Request};
use porter_shared::{sso, AppState};
use serde_json::json as j;

fn time(secs: i64) -> String {
    Timestamp(secs).to_rfc3339()
}

pub async fn show(state: &AppState, req: &Request) -> HandlerResult {
    let caller = authenticate(state, req, Level::Full).await?;
    let now = Timestamp::now();
    let user = &caller.user;
    let factors = &caller.credentials.factors;
    let keys: Vec<_> = factors
        .security_keys
        .0
        .iter()
        .map(|k| {
            j!({
                "id": k.id, "name": k.name, "created_at": time(k.created_at),
                "last_used_at": k.last_used_at.map(time),
            })
        })
        .collect();
    let mut sessions = state.store.list_sessions(user).await?;
    sessions.retain(|s| s.is_live(user, now));
    sessions.sort_by_key(|s| std::cmp::Reverse(s.last_seen));
    let sessions: Vec<_> = sessions
        .iter()
        .map(|s| {
            j!({
                "id": s.hash.as_str(), "created_at": time(s.created_at.0),
                "last_seen_at": time(s.last_seen.0), "ip": s.ip, "user_agent": s.user_agent,
                "current": s.hash == caller.session.hash,
            })
        })
        .collect();
    let managed_by_idp = sso::route_for(state, &user.email).await?.is_some();
    Ok(json(
        StatusCode::OK,
        &j!({
            "email": user.email.as_str(),
            "role": user.role.map(|r| r.as_str()),
            "factors": {
                "totp": factors.totp.is_some(),
                "security_keys": keys,
                "recovery_codes_left": factors.recovery_codes_left,
            },
            "sessions": sessions,
            "password": { "managed_by_idp": managed_by_idp },
            "recently_proved": caller.session.recently_proved(now),
        }),
    ))
}
