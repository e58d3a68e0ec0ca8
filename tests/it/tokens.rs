//! Access tokens over HTTP against moto's KMS, checked by an independent JOSE implementation
//! (PyJWT, in the test venv) against Porter's own JWKS.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use porter_tests::*;
use serde_json::{json, Value};

/// What PyJWT makes of `token` with the keys of `jwks`, for `audience` and `issuer`: the
/// header and the claims, or the error it raised.
fn pyjwt(
    token: &str,
    jwks: &Value,
    audience: &str,
    issuer: &str,
) -> Result<(Value, Value), String> {
    let script = r#"
import json, sys, jwt
token, jwks, aud, iss = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3], sys.argv[4]
try:
    header = jwt.get_unverified_header(token)
    key = jwt.PyJWKSet.from_dict(jwks)[header["kid"]]
    claims = jwt.decode(token, key=key, algorithms=["ES256"], audience=aud, issuer=iss,
                        options={"require": ["exp", "iat", "sub", "jti"]})
    print(json.dumps({"header": header, "claims": claims}))
except Exception as e:
    print(json.dumps({"error": type(e).__name__ + ": " + str(e)}))
"#;
    let python = porter_dev::moto::repo_root().join(".venv/bin/python");
    let out = std::process::Command::new(python)
        .args(["-c", script, token, &jwks.to_string(), audience, issuer])
        .output()
        .expect("the test venv (make venv) has PyJWT");
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));
    match v.get("error") {
        Some(e) => Err(e.as_str().unwrap().to_owned()),
        None => Ok((v["header"].clone(), v["claims"].clone())),
    }
}

#[tokio::test]
async fn a_full_session_gets_a_five_minute_es256_token_that_a_jose_library_verifies_with_the_jwks()
{
    let app = TestApp::spawn().await;
    let ann = app.address("ann");
    let (reg, mut b) = app.ready_admin(&ann).await;
    let issued = b.post("/api/token", json!({})).await;
    assert_eq!(issued.status, 200, "{:?}", issued.json);
    assert_eq!(issued.json["token_type"], "Bearer");
    assert_eq!(issued.json["expires_in"], 300);
    assert_eq!(issued.headers["cache-control"], "no-store");
    let token = issued.json["access_token"].as_str().unwrap();

    let keys = b.get("/.well-known/jwks.json").await;
    assert_eq!(keys.status, 200);
    assert_eq!(keys.headers["cache-control"], "public, max-age=300");
    let key = &keys.json["keys"][0];
    for (field, want) in [
        ("kty", "EC"),
        ("crv", "P-256"),
        ("alg", "ES256"),
        ("use", "sig"),
    ] {
        assert_eq!(key[field], want, "{key}");
    }
    assert!(key["x"].is_string() && key["y"].is_string() && key["kid"].is_string());
    assert!(key.get("d").is_none(), "no private part");

    let base = BASE_URL;
    let audience = format!("{base}/api");
    let (header, claims) = pyjwt(token, &keys.json, &audience, base).unwrap();
    assert_eq!(header["alg"], "ES256");
    assert_eq!(header["typ"], "at+jwt");
    assert_eq!(header["kid"], key["kid"]);
    assert_eq!(claims["iss"], base);
    assert_eq!(claims["aud"], audience.as_str());
    assert_eq!(claims["sub"], reg.admin.as_str());
    assert_eq!(claims["tid"], reg.tenant.as_str());
    assert_eq!(claims["email"], ann.as_str());
    assert_eq!(claims["role"], "admin");
    assert_eq!(claims["amr"], json!(["pwd", "otp"]));
    assert_eq!(claims["ent"], json!({}), "no license check yet");
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        300
    );
    assert!(claims["auth_time"].as_i64().unwrap() <= claims["iat"].as_i64().unwrap());
    let sid = claims["sid"].as_str().unwrap();
    let cookie = b.cookie.clone().unwrap();
    assert!(!cookie.contains(sid), "the sid is never the cookie value");
    let sessions = b.get("/api/account").await.json["sessions"].clone();
    assert!(
        sessions.as_array().unwrap().iter().any(|s| s["id"] == sid),
        "the sid names the session, as the account page does"
    );

    // What a verifier must refuse: another audience, another issuer, a changed claim.
    assert!(pyjwt(token, &keys.json, "https://elsewhere.test/api", base).is_err());
    assert!(pyjwt(token, &keys.json, &audience, "https://evil.test").is_err());
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    parts[1] = {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let mut c: Value = serde_json::from_slice(&b64.decode(&parts[1]).unwrap()).unwrap();
        c["role"] = json!("owner");
        b64.encode(serde_json::to_vec(&c).unwrap())
    };
    let tampered = parts.join(".");
    let refused = pyjwt(&tampered, &keys.json, &audience, base).unwrap_err();
    assert!(refused.contains("Signature"), "{refused}");
}

#[tokio::test]
async fn no_token_without_a_full_session_or_for_a_suspended_tenant() {
    let app = TestApp::spawn().await;
    let ann = app.address("ann");
    let (reg, mut b) = app.ready_admin(&ann).await;
    let mut nobody = app.browser();
    let a = nobody.post("/api/token", json!({})).await;
    assert_eq!((a.status, a.code()), (401, "unauthenticated"));

    let mut half = app.browser();
    assert_eq!(
        half.sign_in(&ann, PASSWORD).await.json["next"],
        "mfa_verify"
    );
    let a = half.post("/api/token", json!({})).await;
    assert_eq!(
        (a.status, a.code()),
        (401, "unauthenticated"),
        "a first factor alone"
    );

    let mut other = app.browser_at("192.0.2.60");
    other.cookie = b.cookie.clone();
    porter_shared::tenants::suspend_tenant(&app.state, &reg.tenant)
        .await
        .unwrap();
    let a = other.post("/api/token", json!({})).await;
    assert!(
        [(401, "unauthenticated"), (403, "tenant_suspended")].contains(&(a.status, a.code())),
        "{a:?}"
    );

    b.post("/api/logout", json!({})).await;
    assert_eq!(
        b.post("/api/token", json!({})).await.status,
        401,
        "signed out"
    );
}
