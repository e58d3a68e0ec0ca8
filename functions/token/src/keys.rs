//! `GET /.well-known/jwks.json`: the public keys that verify access tokens (fetched from KMS
//! once per instance), for any JOSE library; caches may keep them five minutes.

use lambda_http::http::{header, HeaderValue, StatusCode};
use porter_shared::access_tokens;
use porter_shared::http::{json, ApiError, HandlerResult, Request};
use porter_shared::AppState;

pub async fn jwks(state: &AppState, _req: &Request) -> HandlerResult {
    let keys = access_tokens::jwks(state)
        .await
        .map_err(|e| ApiError::internal("jwks", &e))?;
    let mut resp = json(StatusCode::OK, &keys);
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    Ok(resp)
}
