//! The provider's metadata (OpenID Connect Discovery 1.0), and an app's name for the sign-in
//! page ("Sign in to continue to …").

use lambda_http::http::{header, HeaderValue, StatusCode};
use porter_shared::domain::oauth::{CLAIMS, SCOPES};
use porter_shared::domain::ClientId;
use porter_shared::http::{json, ApiError, HandlerResult, Request};
use porter_shared::AppState;
use serde_json::json;

/// The issuer: the public base URL, without a trailing slash (what `iss` says everywhere).
pub fn issuer(state: &AppState) -> String {
    state
        .config
        .public_base_url
        .as_str()
        .trim_end_matches('/')
        .to_owned()
}

pub async fn metadata(state: &AppState, _req: &Request) -> HandlerResult {
    let iss = issuer(state);
    let mut resp = json(
        StatusCode::OK,
        &json!({
            "issuer": iss,
            "authorization_endpoint": format!("{iss}/oauth2/authorize"),
            "token_endpoint": format!("{iss}/oauth2/token"),
            "userinfo_endpoint": format!("{iss}/oauth2/userinfo"),
            "jwks_uri": format!("{iss}/.well-known/jwks.json"),
            "end_session_endpoint": format!("{iss}/oauth2/logout"),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["ES256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported":
                ["client_secret_basic", "client_secret_post", "none"],
            "scopes_supported": SCOPES,
            "claims_supported": CLAIMS,
            "prompt_values_supported": ["none", "login"],
            "authorization_response_iss_parameter_supported": true,
            "request_parameter_supported": false,
            "request_uri_parameter_supported": false,
            "claims_parameter_supported": false,
        }),
    );
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    Ok(resp)
}

/// `GET /oauth2/clients/{id}`: the app's name, which the sign-in page shows. Names are not
/// secret; nothing else of the client is told.
pub async fn client_name(state: &AppState, _req: &Request, id: ClientId) -> HandlerResult {
    let client = state.store.get_client(&id).await?.ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "client_not_found",
            "There is no such app.",
        )
    })?;
    Ok(json(
        StatusCode::OK,
        &json!({ "client_id": client.id, "name": client.name }),
    ))
}
