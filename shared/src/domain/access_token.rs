//! Access tokens (RFC 9068 JWT profile): what a signed-in person's token says, built from the
//! session, the user and the tenant's last license check, with the clock passed in. Signing is
//! KMS's (`crate::access_tokens`); this module only decides the header and the claims.

use super::platform::Entitlements;
use super::session::SessionRecord;
use super::tenant::TenantRecord;
use super::time::Timestamp;
use super::user::UserRecord;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How long an access token is good for.
pub const ACCESS_TOKEN_SECS: i64 = 300;

/// The JOSE header: ES256 only, the signing key's id, `at+jwt` (RFC 9068 §2.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    pub alg: String,
    pub kid: String,
    pub typ: String,
}

impl Header {
    pub fn es256(kid: &str) -> Self {
        Self::typed(kid, "at+jwt")
    }

    /// An ID token's header (`typ` JWT, as OpenID Connect relying parties expect).
    pub fn id_token(kid: &str) -> Self {
        Self::typed(kid, "JWT")
    }

    fn typed(kid: &str, typ: &str) -> Self {
        Self {
            alg: "ES256".into(),
            kid: kid.to_owned(),
            typ: typ.into(),
        }
    }
}

/// One public key of the JWKS (RFC 7517/7518: an EC P-256 signing key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Jwk {
    pub kty: &'static str,
    pub crv: &'static str,
    pub x: String,
    pub y: String,
    pub kid: String,
    pub alg: &'static str,
    #[serde(rename = "use")]
    pub use_: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

/// The claims of an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    /// The tenant the session acts in.
    pub tid: String,
    /// The MSP, when the session acts in an organization it manages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub msp: Option<String>,
    pub email: String,
    pub role: String,
    /// `{"<solution>": ["<module>", …]}` from the tenant's last license check.
    pub ent: BTreeMap<String, Vec<String>>,
    /// A stable id of the session (the hash the account page shows), never its cookie.
    pub sid: String,
    /// How the session was proved: RFC 8176 method names (password, one-time code, hardware
    /// key, federation), and `pin` for an emailed code.
    pub amr: Vec<String>,
    pub auth_time: i64,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    /// The app it was issued to through the OpenID provider (RFC 9068 §2.2), with the
    /// scopes it was granted and the grant that a replay or a reuse revokes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gid: Option<String>,
}

/// A token's `jti`: 128 random bits, hex.
pub fn new_jti(rng: &mut impl rand::RngCore) -> String {
    let mut jti = [0u8; 16];
    rng.fill_bytes(&mut jti);
    hex::encode(jti)
}

/// What the tenant's license entitles it to, as the `ent` claim.
pub fn entitlement_claim(entitlements: Option<&Entitlements>) -> BTreeMap<String, Vec<String>> {
    entitlements
        .map(|e| {
            e.solutions
                .iter()
                .map(|s| {
                    (
                        s.id.clone(),
                        s.modules.iter().map(|m| m.id.clone()).collect(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

impl AccessClaims {
    /// The claims for `user` of `tenant` signed in with `session`, issued at `now` by `issuer`
    /// for `audience`; `None` for a user without a role (they may not use the product).
    pub fn for_session(
        issuer: &str,
        audience: &str,
        session: &SessionRecord,
        user: &UserRecord,
        tenant: &TenantRecord,
        now: Timestamp,
        jti: String,
    ) -> Option<Self> {
        let role = user.role?;
        Some(Self {
            iss: issuer.to_owned(),
            aud: audience.to_owned(),
            sub: user.id.as_str().to_owned(),
            tid: tenant.id.as_str().to_owned(),
            msp: (tenant.id != user.tenant).then(|| user.tenant.as_str().to_owned()),
            email: user.email.as_str().to_owned(),
            role: role.as_str().to_owned(),
            ent: entitlement_claim(tenant.entitlements.as_ref()),
            sid: session.hash.as_str().to_owned(),
            amr: session.amr.clone(),
            auth_time: session.created_at.0,
            iat: now.0,
            exp: now.0 + ACCESS_TOKEN_SECS,
            jti,
            client_id: None,
            scope: None,
            gid: None,
        })
    }
}

/// `base64url(header) . base64url(claims)`: what is signed.
pub fn signing_input(header: &Header, claims: &impl Serialize) -> String {
    let part = |v: &[u8]| URL_SAFE_NO_PAD.encode(v);
    let header = serde_json::to_vec(header).unwrap_or_default();
    let claims = serde_json::to_vec(claims).unwrap_or_default();
    format!("{}.{}", part(&header), part(&claims))
}

/// The compact JWT: the signing input and the JOSE signature (`r || s`, 64 bytes).
pub fn compact(signing_input: &str, signature: &[u8; 64]) -> String {
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

/// Whether a caller with `role` and entitlements `ent` may reach `path` of a product route: the
/// license at the edge. `/api/solutions/{solution}` needs the solution,
/// `/api/solutions/{solution}/{module}/…` the module of it; anything under `/api/admin/` needs
/// the admin role; other paths only a caller.
pub fn edge_allows(path: &str, role: &str, ent: &BTreeMap<String, Vec<String>>) -> bool {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match segments.as_slice() {
        ["api", "solutions", solution] => ent.contains_key(*solution),
        ["api", "solutions", solution, module, ..] => ent
            .get(*solution)
            .is_some_and(|modules| modules.iter().any(|m| m == module)),
        ["api", "admin", ..] => role == "admin",
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_edge_lets_through_only_what_the_license_and_the_role_allow() {
        let ent = BTreeMap::from([("endpoint".to_owned(), vec!["patching".to_owned()])]);
        assert!(edge_allows("/api/solutions/endpoint", "core", &ent));
        assert!(edge_allows(
            "/api/solutions/endpoint/patching",
            "core",
            &ent
        ));
        assert!(edge_allows(
            "/api/solutions/endpoint/patching/jobs/1",
            "core",
            &ent
        ));
        assert!(!edge_allows(
            "/api/solutions/endpoint/inventory",
            "core",
            &ent
        ));
        assert!(!edge_allows("/api/solutions/backup", "admin", &ent));
        assert!(!edge_allows("/api/admin/reports", "core", &ent));
        assert!(edge_allows("/api/admin/reports", "admin", &ent));
        assert!(edge_allows("/api/orders", "core", &BTreeMap::new()));
    }
    use crate::domain::platform::{Module, Solution};

    #[test]
    fn entitlements_become_solution_to_modules() {
        let e = Entitlements {
            solutions: vec![Solution {
                id: "endpoint".into(),
                name: "Endpoint".into(),
                modules: vec![Module {
                    id: "patching".into(),
                    name: "Patching".into(),
                }],
            }],
            checked_at: Timestamp(1),
        };
        let ent = entitlement_claim(Some(&e));
        assert_eq!(ent["endpoint"], vec!["patching".to_owned()]);
        assert!(entitlement_claim(None).is_empty());
    }

    #[test]
    fn the_header_is_es256_at_jwt_and_the_input_is_two_base64url_parts() {
        let h = Header::es256("k1");
        assert_eq!(
            serde_json::to_string(&h).unwrap(),
            r#"{"alg":"ES256","kid":"k1","typ":"at+jwt"}"#
        );
        let claims = AccessClaims {
            iss: "https://id.example.com".into(),
            aud: "https://id.example.com/api".into(),
            sub: "u".into(),
            tid: "t".into(),
            msp: None,
            email: "a@b.test".into(),
            role: "admin".into(),
            ent: BTreeMap::new(),
            sid: "s".into(),
            amr: vec!["pwd".into(), "otp".into()],
            auth_time: 1,
            iat: 2,
            exp: 302,
            jti: "j".into(),
            client_id: None,
            scope: None,
            gid: None,
        };
        let input = signing_input(&h, &claims);
        assert_eq!(input.split('.').count(), 2);
        assert!(!input.contains('='));
        let jwt = compact(&input, &[0u8; 64]);
        assert_eq!(jwt.split('.').count(), 3);
    }
}
