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

/// An API Gateway (HTTP API, payload 2.0) authorizer request for `GET path`.
fn authorizer_event(
    path: &str,
    bearer: Option<&str>,
    cookie: Option<&str>,
) -> aws_lambda_events::apigw::ApiGatewayV2CustomAuthorizerV2Request {
    let mut headers = serde_json::Map::new();
    headers.insert("host".into(), json!("localhost:3000"));
    if let Some(t) = bearer {
        headers.insert("authorization".into(), json!(format!("Bearer {t}")));
    }
    let cookies: Vec<String> = cookie.into_iter().map(str::to_owned).collect();
    serde_json::from_value(json!({
        "version": "2.0",
        "type": "REQUEST",
        "routeArn": "arn:aws:execute-api:us-east-1:123456789012:local/$default/GET/x",
        "routeKey": format!("GET {path}"),
        "rawPath": path,
        "rawQueryString": "",
        "cookies": cookies,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012", "apiId": "local", "domainName": "localhost",
            "domainPrefix": "localhost", "requestId": "r", "routeKey": format!("GET {path}"),
            "stage": "$default", "time": "05/Dec/2026:08:00:00 +0000", "timeEpoch": 0,
            "http": { "method": "GET", "path": path, "protocol": "HTTP/1.1",
                      "sourceIp": "127.0.0.1", "userAgent": "test" }
        }
    }))
    .unwrap()
}

async fn authorize(
    app: &TestApp,
    path: &str,
    bearer: Option<&str>,
    cookie: Option<&str>,
) -> Option<authorizer::Context> {
    let answer = authorizer::handle(&app.state, authorizer_event(path, bearer, cookie)).await;
    assert_eq!(answer.is_authorized, answer.context.is_some());
    answer.context
}

/// Ann's organisation, entitled to `endpoint` with its `patching` module.
async fn entitled(app: &TestApp, reg: &porter_shared::tenants::Registration) {
    use porter_shared::domain::platform::{Entitlements, Module, Solution};
    let e = Entitlements {
        solutions: vec![Solution {
            id: "endpoint".into(),
            name: "Endpoint".into(),
            modules: vec![Module {
                id: "patching".into(),
                name: "Patching".into(),
            }],
        }],
        checked_at: porter_shared::domain::Timestamp::now(),
    };
    let event = porter_shared::domain::AuditEvent::by_operator(
        &reg.tenant,
        porter_shared::domain::Action::LicenseCheck,
        None,
    );
    app.state
        .store
        .set_entitlements(&reg.tenant, &e, &event, &mut rand::rngs::OsRng)
        .await
        .unwrap();
}

/// Signs `claims` with Porter's own key, as the token function would.
async fn signed(
    app: &TestApp,
    claims: &porter_shared::domain::access_token::AccessClaims,
) -> String {
    porter_shared::access_tokens::sign(&app.state, claims)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_authorizer_passes_a_token_or_a_session_with_its_context_and_the_license_at_the_edge() {
    let app = TestApp::spawn().await;
    let ann = app.address("ann");
    let (reg, mut b) = app.ready_admin(&ann).await;
    entitled(&app, &reg).await;
    let token = b.post("/api/token", json!({})).await.json["access_token"]
        .as_str()
        .unwrap()
        .to_owned();

    let by_token = authorize(&app, "/api/solutions/endpoint", Some(&token), None)
        .await
        .expect("a fresh token of an entitled tenant");
    assert_eq!(by_token.auth_via, "token");
    assert_eq!(by_token.tenant_id, reg.tenant.as_str());
    assert_eq!(by_token.user_id, reg.admin.as_str());
    assert_eq!(by_token.email, ann);
    assert_eq!(by_token.role, "admin");
    assert_eq!(
        by_token.entitlements["endpoint"],
        vec!["patching".to_owned()]
    );
    assert!(authorize(
        &app,
        "/api/solutions/endpoint/patching/jobs",
        Some(&token),
        None
    )
    .await
    .is_some());
    assert!(
        authorize(
            &app,
            "/api/solutions/endpoint/inventory",
            Some(&token),
            None
        )
        .await
        .is_none(),
        "a module the license lacks"
    );
    assert!(
        authorize(&app, "/api/solutions/backup", Some(&token), None)
            .await
            .is_none(),
        "a solution the license lacks"
    );

    let cookie = b.cookie.clone().unwrap();
    let by_session = authorize(&app, "/api/solutions/endpoint", None, Some(&cookie))
        .await
        .expect("a live full session");
    assert_eq!(by_session.auth_via, "session");
    assert_eq!(by_session.entitlements, by_token.entitlements);

    assert!(
        authorize(&app, "/api/solutions/endpoint", None, None)
            .await
            .is_none(),
        "nobody"
    );
    b.post("/api/logout", json!({})).await;
    assert!(
        authorize(&app, "/api/solutions/endpoint", None, Some(&cookie))
            .await
            .is_none(),
        "a signed-out cookie, on the very next request"
    );
}

#[tokio::test]
async fn the_authorizer_refuses_every_forged_stale_or_foreign_token() {
    use porter_shared::domain::access_token::AccessClaims;
    let app = TestApp::spawn().await;
    let ann = app.address("ann");
    let (_reg, mut b) = app.ready_admin(&ann).await;
    let token = b.post("/api/token", json!({})).await.json["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = "/api/orders";
    assert!(authorize(&app, path, Some(&token), None).await.is_some());

    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let parts: Vec<&str> = token.split('.').collect();
    let claims: AccessClaims = serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap();
    let header: Value = serde_json::from_slice(&b64.decode(parts[0]).unwrap()).unwrap();
    let now = porter_shared::domain::Timestamp::now().0;

    let mut cases: Vec<(&str, String)> = Vec::new();
    let expired = AccessClaims {
        exp: now - 31,
        iat: now - 331,
        ..claims.clone()
    };
    cases.push(("expired past the leeway", signed(&app, &expired).await));
    let foreign_aud = AccessClaims {
        aud: "https://other.test/api".into(),
        ..claims.clone()
    };
    cases.push(("another audience", signed(&app, &foreign_aud).await));
    let foreign_iss = AccessClaims {
        iss: "https://evil.test".into(),
        ..claims.clone()
    };
    cases.push(("another issuer", signed(&app, &foreign_iss).await));
    let body = parts[1];
    cases.push((
        "alg none",
        format!(
            "{}.{body}.",
            b64.encode(br#"{"alg":"none","typ":"at+jwt"}"#)
        ),
    ));
    // HS256 with the public key's coordinates as the shared secret (key confusion).
    let jwks = b.get("/.well-known/jwks.json").await.json;
    let x = jwks["keys"][0]["x"].as_str().unwrap();
    let mut hs = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    hs.kid = header["kid"].as_str().map(str::to_owned);
    hs.typ = Some("at+jwt".into());
    let confused = jsonwebtoken::encode(
        &hs,
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(x.as_bytes()).unwrap(),
    )
    .unwrap();
    cases.push(("HS256 with the public key", confused));
    // A key of our own, once under Porter's kid and once under a kid nobody published.
    let own = openssl::ec::EcKey::generate(
        &openssl::ec::EcGroup::from_curve_name(openssl::nid::Nid::X9_62_PRIME256V1).unwrap(),
    )
    .unwrap();
    let pkcs8 = openssl::pkey::PKey::from_ec_key(own)
        .unwrap()
        .private_key_to_pem_pkcs8()
        .unwrap();
    let key = jsonwebtoken::EncodingKey::from_ec_pem(&pkcs8).unwrap();
    for (what, kid) in [
        (
            "a stranger's key under Porter's kid",
            header["kid"].as_str().unwrap(),
        ),
        ("a key not in the JWKS", "not-published"),
    ] {
        let mut es = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        es.kid = Some(kid.to_owned());
        es.typ = Some("at+jwt".into());
        cases.push((what, jsonwebtoken::encode(&es, &claims, &key).unwrap()));
    }
    let tampered_claims = AccessClaims {
        role: "admin".into(),
        tid: "t_other".into(),
        ..claims.clone()
    };
    let tampered_body = b64.encode(serde_json::to_vec(&tampered_claims).unwrap());
    cases.push((
        "a tampered claim",
        format!("{}.{tampered_body}.{}", parts[0], parts[2]),
    ));
    let mut untyped = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    untyped.kid = header["kid"].as_str().map(str::to_owned);
    cases.push((
        "an ID token's typ",
        jsonwebtoken::encode(&untyped, &claims, &key).unwrap(),
    ));

    for (what, forged) in &cases {
        assert!(
            authorize(&app, path, Some(forged), None).await.is_none(),
            "accepted {what}"
        );
    }
    assert_eq!(cases.len(), 9);
}

#[tokio::test]
async fn the_authorizer_refuses_a_suspended_tenants_session() {
    let app = TestApp::spawn().await;
    let ann = app.address("ann");
    let (reg, b) = app.ready_admin(&ann).await;
    let cookie = b.cookie.clone().unwrap();
    assert!(authorize(&app, "/api/orders", None, Some(&cookie))
        .await
        .is_some());
    porter_shared::tenants::suspend_tenant(&app.state, &reg.tenant)
        .await
        .unwrap();
    assert!(authorize(&app, "/api/orders", None, Some(&cookie))
        .await
        .is_none());
}

#[tokio::test]
async fn a_solution_route_runs_behind_the_authorizer_as_api_gateway_would() {
    let app = TestApp::spawn().await;
    let ann = app.address("ann");
    let (reg, mut b) = app.ready_admin(&ann).await;
    entitled(&app, &reg).await;

    let shown = b.get("/api/solutions/endpoint").await;
    assert_eq!(shown.status, 200, "{:?}", shown.json);
    assert_eq!(shown.json["auth_via"], "session");
    assert_eq!(shown.json["user"]["id"], reg.admin.as_str());
    assert_eq!(shown.json["user"]["email"], ann.as_str());
    assert_eq!(shown.json["user"]["role"], "admin");
    assert_eq!(shown.json["tenant"]["id"], reg.tenant.as_str());
    assert_eq!(shown.json["solution"], "endpoint");
    assert_eq!(
        shown.json["entitlements"],
        json!({ "endpoint": ["patching"] })
    );
    let module = b.get("/api/solutions/endpoint/patching").await;
    assert_eq!(
        (module.status, &module.json["module"]),
        (200, &json!("patching"))
    );

    for path in ["/api/solutions/backup", "/api/solutions/endpoint/inventory"] {
        let refused = b.get(path).await;
        assert_eq!(
            (refused.status, &refused.json),
            (403, &json!({ "message": "Forbidden" })),
            "{path}"
        );
    }

    // A bearer token alone, from a client with no cookie.
    let token = b.post("/api/token", json!({})).await.json["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut req = request("GET", "/api/solutions/endpoint", None, "");
    req.headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    let by_token = answer(app.send(req).await);
    assert_eq!(by_token.status, 200, "{:?}", by_token.json);
    assert_eq!(by_token.json["auth_via"], "token");

    let nobody = answer(
        app.send(request("GET", "/api/solutions/endpoint", None, ""))
            .await,
    );
    assert_eq!(
        (nobody.status, &nobody.json),
        (403, &json!({ "message": "Forbidden" }))
    );
}

fn kid_of(token: &str) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header: Value =
        serde_json::from_slice(&b64.decode(token.split('.').next().unwrap()).unwrap()).unwrap();
    header["kid"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn after_a_rotation_old_tokens_verify_until_they_expire_and_new_ones_carry_the_new_kid() {
    // A key of its own: the other tests of this binary share the default alias.
    let alias = format!("alias/porter-rotation-{}", std::process::id());
    let app = TestApp::spawn_with(|c| c.token_key = alias.clone()).await;
    let ann = app.address("ann");
    let (_reg, mut b) = app.ready_admin(&ann).await;
    let old = b.post("/api/token", json!({})).await.json["access_token"]
        .as_str()
        .unwrap()
        .to_owned();

    let now = porter_shared::domain::Timestamp::now().0;
    let new_kid = porter_shared::access_tokens::rotate(&app.state, now)
        .await
        .unwrap();
    assert_ne!(new_kid, kid_of(&old));
    let again = porter_shared::access_tokens::rotate(&app.state, now).await;
    assert!(
        matches!(
            again,
            Err(porter_shared::access_tokens::TokenError::TooSoon(_))
        ),
        "the key rotated out may still have live tokens"
    );

    // Instances learn of the rotation within seconds.
    tokio::time::sleep(std::time::Duration::from_secs(11)).await;
    let new = b.post("/api/token", json!({})).await.json["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(kid_of(&new), new_kid);
    let jwks = b.get("/.well-known/jwks.json").await.json;
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(kids, [new_kid.as_str(), kid_of(&old).as_str()]);
    let base = BASE_URL;
    let audience = format!("{base}/api");
    for token in [&old, &new] {
        assert!(pyjwt(token, &jwks, &audience, base).is_ok());
        assert!(authorize(&app, "/api/orders", Some(token), None)
            .await
            .is_some());
    }
}
