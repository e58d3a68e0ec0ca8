//! A WebAuthn ceremony across two requests: the options request keeps the server-side state in
//! the caller's session item, the finish request takes it from there.

use super::session::Caller;
use crate::credentials::webauthn::Ceremony;
use crate::domain::Timestamp;
use crate::http::{json, ApiError, HandlerResult};
use crate::AppState;
use http::StatusCode;
use serde::Serialize;

/// Keeps `ceremony` in the caller's session (server-side) and answers the browser with the
/// options it needs to run it.
pub async fn begin(
    state: &AppState,
    caller: &Caller,
    ceremony: Ceremony,
    options: &impl Serialize,
) -> HandlerResult {
    state
        .store
        .touch_session(
            &caller.session.hash,
            Timestamp::now(),
            Some(&ceremony.to_json()),
        )
        .await?;
    Ok(json(StatusCode::OK, options))
}

/// The ceremony the caller's session holds, if any, spent as it is taken: its challenge
/// answers one response only (a replay, or a second response sent at the same time, finds
/// nothing).
pub async fn take(state: &AppState, caller: &Caller) -> Result<Option<Ceremony>, ApiError> {
    let Some(raw) = caller.session.ceremony.as_deref() else {
        return Ok(None);
    };
    if !state
        .store
        .spend_ceremony(&caller.session.hash, raw)
        .await?
    {
        return Ok(None);
    }
    Ok(Ceremony::from_json(raw))
}
