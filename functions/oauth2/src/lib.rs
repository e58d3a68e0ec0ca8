//! `oauth2`: Porter as an OpenID provider for the vendor's own (first-party) apps. Code flow
//! only, PKCE S256, ES256 ID tokens signed by the KMS key of the access tokens, rotating
//! refresh tokens that die with the Porter session, RP-Initiated Logout. No consent screen:
//! the apps are the vendor's own, registered by the operator (`porterctl client create`).
//!
//! - `GET /.well-known/openid-configuration` → the provider's metadata
//! - `GET /oauth2/authorize` → 302 to the app with `code`, `state` and `iss` (RFC 9207); to
//!   `/login?next=…` without a full session; an unknown client or redirect URI gets a page,
//!   never a redirect
//! - `POST /oauth2/token` (form; `client_secret_basic`, `client_secret_post` or `none`) →
//!   `{access_token, token_type, expires_in, id_token, scope, refresh_token?}`; errors as
//!   RFC 6749 §5.2 (`invalid_grant`, `invalid_client`…)
//! - `GET|POST /oauth2/userinfo` (bearer) → the claims the grant's scopes allow
//! - `GET /oauth2/logout` (`id_token_hint` or `client_id`, `post_logout_redirect_uri`,
//!   `state`) → ends the Porter session and 302 back; naming no app, a page asks first
//!   (`POST` from it)
//! - `GET /oauth2/clients/{id}` → `{client_id, name}` for the sign-in page

mod authorize;
mod client_auth;
mod discovery;
mod live;
mod logout;
mod page;
mod token;
mod userinfo;

use porter_shared::http::{Body, Request, Response};
use porter_shared::{AppState, Routes};
use std::sync::LazyLock;

pub async fn handle(state: &AppState, req: Request) -> Response<Body> {
    static ROUTES: LazyLock<Routes> = LazyLock::new(|| {
        Routes::new()
            .get("/.well-known/openid-configuration", discovery::metadata)
            .get("/oauth2/authorize", authorize::authorize)
            .post("/oauth2/token", token::token)
            .get("/oauth2/userinfo", userinfo::userinfo)
            .post("/oauth2/userinfo", userinfo::userinfo)
            .get("/oauth2/logout", logout::logout)
            .post("/oauth2/logout", logout::confirmed)
            .get("/oauth2/clients/{id}", discovery::client_name)
    });
    ROUTES.serve(state, req).await
}
