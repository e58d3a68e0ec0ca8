//! Porter's OpenID provider at the level of its items: codes, grants and refresh tokens are
//! kept only as hashes; racing exchanges of one code issue tokens at most once and revoke
//! what was issued; a refresh token outlives neither its reuse nor its session. The relying-
//! party view (npm openid-client against make dev) is in tests/browser/relying-party.test.mjs.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use porter_shared::clients::{self, NewClient};
use porter_shared::domain::{ClientId, Timestamp};
use porter_tests::*;
use secrecy::ExposeSecret;
use serde_json::Value;
use sha2::{Digest, Sha256};

const REDIRECT: &str = "https://support.example.test/cb";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"; // pragma: allowlist secret (RFC 7636 Appendix B)

struct Client {
    id: ClientId,
    secret: String,
}

async fn client(app: &TestApp) -> Client {
    let new = NewClient {
        name: "Support portal".into(),
        redirect_uris: vec![REDIRECT.into()],
        post_logout_redirect_uris: vec![],
        public: false,
    };
    let (c, secret) = clients::register(&app.state, new, Timestamp::now())
        .await
        .unwrap();
    Client {
        id: c.id,
        secret: secret.unwrap().expose_secret().to_owned(),
    }
}

fn challenge() -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(VERIFIER.as_bytes()))
}

/// A code for the signed-in browser `b`.
async fn code(b: &mut Browser<'_>, c: &Client, scope: &str) -> String {
    let a = b
        .get(&format!(
            "/oauth2/authorize?response_type=code&client_id={}&redirect_uri={}&scope={}&state=s&code_challenge={}&code_challenge_method=S256",
            c.id,
            urlencoding(REDIRECT),
            urlencoding(scope),
            challenge()
        ))
        .await;
    assert_eq!(a.status, 302, "{}", a.text);
    let location = a.headers["location"].to_str().unwrap().to_owned();
    let url = url::Url::parse(&location).unwrap();
    url.query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap_or_else(|| panic!("no code in {location}"))
        .1
        .into_owned()
}

fn urlencoding(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn form(pairs: &[(&str, &str)]) -> String {
    let mut f = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        f.append_pair(k, v);
    }
    f.finish()
}

async fn token(app: &TestApp, c: &Client, pairs: &[(&str, &str)]) -> Answer {
    let mut all = vec![
        ("client_id", c.id.as_str()),
        ("client_secret", c.secret.as_str()),
    ];
    all.extend_from_slice(pairs);
    let req = request(
        "POST",
        "/oauth2/token",
        Some("application/x-www-form-urlencoded"),
        form(&all),
    );
    answer(app.send(req).await)
}

async fn exchange(app: &TestApp, c: &Client, code: &str) -> Answer {
    token(
        app,
        c,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ],
    )
    .await
}

async fn refresh(app: &TestApp, c: &Client, refresh_token: &str) -> Answer {
    token(
        app,
        c,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ],
    )
    .await
}

async fn userinfo(app: &TestApp, access_token: &str) -> Answer {
    let mut req = request("GET", "/oauth2/userinfo", None, "");
    req.headers_mut().insert(
        "authorization",
        format!("Bearer {access_token}").parse().unwrap(),
    );
    answer(app.send(req).await)
}

fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

#[tokio::test]
async fn racing_exchanges_of_one_code_issue_tokens_at_most_once_and_revoke_them() {
    let app = TestApp::spawn().await;
    let c = client(&app).await;
    let (_, mut ann) = app.ready_admin(&app.address("ann")).await;
    let code = code(&mut ann, &c, "openid offline_access").await;
    let answers =
        futures::future::join_all((0..10).map(|_| Box::pin(exchange(&app, &c, &code)))).await;
    let issued: Vec<&Answer> = answers.iter().filter(|a| a.status == 200).collect();
    assert!(issued.len() <= 1, "issued {} times", issued.len());
    for a in answers.iter().filter(|a| a.status != 200) {
        assert_eq!(a.status, 400);
        assert_eq!(a.json["error"], "invalid_grant", "{:?}", a.json);
    }
    // The organisation's log says so: the sign-in, and its revocation.
    let actions = ann.audit_actions().await;
    assert!(actions.contains(&"app.sign_in".to_owned()), "{actions:?}");
    assert!(actions.contains(&"app.revoked".to_owned()), "{actions:?}");
    let log = ann.get("/api/audit").await;
    let sentences = log.json["events"].to_string();
    assert!(
        sentences.contains("Signed in to Support portal"),
        "{sentences}"
    );
    assert!(
        sentences.contains("The sign-in to Support portal was revoked"),
        "{sentences}"
    );
    // Whatever the winner got is revoked: a replay happened.
    for a in issued {
        let access = a.json["access_token"].as_str().unwrap();
        assert_eq!(userinfo(&app, access).await.status, 401);
        let rt = a.json["refresh_token"].as_str().unwrap();
        assert_eq!(refresh(&app, &c, rt).await.json["error"], "invalid_grant");
    }
}

#[tokio::test]
async fn codes_grants_and_refresh_tokens_are_stored_only_as_hashes() {
    let app = TestApp::spawn().await;
    let c = client(&app).await;
    let (_, mut ann) = app.ready_admin(&app.address("ann")).await;
    let code = code(&mut ann, &c, "openid email offline_access").await;
    let a = exchange(&app, &c, &code).await;
    assert_eq!(a.status, 200, "{:?}", a.json);
    assert_eq!(a.headers["cache-control"], "no-store");
    let rt = a.json["refresh_token"].as_str().unwrap().to_owned();
    let items = app.scan().await;
    let everything = format!("{items:?}");
    for secret in [&code, &rt, &c.secret] {
        assert!(
            !everything.contains(secret.as_str()),
            "a secret is stored in clear"
        );
    }
    let stored_code = app
        .item(format!("OAUTHCODE#{}", sha256_hex(&code)), "CODE")
        .await
        .expect("the code's hash is the key");
    assert!(get_n(&stored_code, "used_at").is_some(), "spent");
    let stored_rt = app
        .item(format!("REFRESH#{}", sha256_hex(&rt)), "REFRESH")
        .await
        .expect("the refresh token's hash is the key");
    let session_expires = get_n(&stored_rt, "expires_at").unwrap();
    assert!(session_expires > now(), "it ends with the session");
    let client_item = app
        .item(format!("CLIENT#{}", c.id), "CLIENT")
        .await
        .unwrap();
    assert_eq!(
        get_s(&client_item, "secret_hash"),
        Some(sha256_hex(&c.secret).as_str())
    );

    // The access token names its app and grant; the ID token its audience and session.
    let claims = |jwt: &str| -> Value {
        let part = jwt.split('.').nth(1).unwrap();
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
    };
    let access = claims(a.json["access_token"].as_str().unwrap());
    assert_eq!(access["client_id"], c.id.as_str());
    assert_eq!(access["scope"], "openid email offline_access");
    let id = claims(a.json["id_token"].as_str().unwrap());
    assert_eq!(id["aud"], c.id.as_str());
    assert_eq!(id["email"], app.address("ann"));
    assert_eq!(id["amr"], serde_json::json!(["pwd", "otp"]));
}

#[tokio::test]
async fn a_refresh_token_dies_with_its_session_and_its_client() {
    let app = TestApp::spawn().await;
    let c = client(&app).await;
    let (_, mut ann) = app.ready_admin(&app.address("ann")).await;
    let first = exchange(&app, &c, &code(&mut ann, &c, "openid offline_access").await).await;
    let rt = first.json["refresh_token"].as_str().unwrap().to_owned();
    let again = refresh(&app, &c, &rt).await;
    assert_eq!(again.status, 200, "{:?}", again.json);
    let rt = again.json["refresh_token"].as_str().unwrap().to_owned();
    // Signing out of Porter ends the session, and the app's refresh with it.
    assert_eq!(
        ann.post("/api/logout", serde_json::json!({})).await.status,
        204
    );
    let after = refresh(&app, &c, &rt).await;
    assert_eq!(after.status, 400);
    assert_eq!(after.json["error"], "invalid_grant");

    // A removed client's codes are refused (as an unknown client).
    let (_, mut bea) = app.ready_admin(&app.address("bea")).await;
    let code = code(&mut bea, &c, "openid").await;
    assert!(app.state.store.delete_client(&c.id).await.unwrap());
    let refused = exchange(&app, &c, &code).await;
    assert_eq!(refused.status, 401);
    assert_eq!(refused.json["error"], "invalid_client");
}

#[tokio::test]
async fn bad_token_requests_get_oauth_errors_never_a_500() {
    let app = TestApp::spawn().await;
    let c = client(&app).await;
    for (body, content_type, status, error) in [
        (
            "grant_type=password&username=a&password=b",
            "application/x-www-form-urlencoded",
            400,
            "unsupported_grant_type",
        ),
        (
            "grant_type=authorization_code&code=nothex",
            "application/x-www-form-urlencoded",
            400,
            "invalid_grant",
        ),
        (
            "grant_type=authorization_code&grant_type=refresh_token",
            "application/x-www-form-urlencoded",
            400,
            "invalid_request",
        ),
        (
            "{\"grant_type\":\"authorization_code\"}",
            "application/json",
            400,
            "invalid_request",
        ),
        (
            "code=x",
            "application/x-www-form-urlencoded",
            400,
            "invalid_request",
        ),
    ] {
        let body = if content_type.starts_with("application/x-www") {
            format!("client_id={}&client_secret={}&{body}", c.id, c.secret)
        } else {
            body.to_owned()
        };
        let a = answer(
            app.send(request(
                "POST",
                "/oauth2/token",
                Some(content_type),
                body.clone(),
            ))
            .await,
        );
        assert_eq!(
            (a.status, a.json["error"].as_str()),
            (status, Some(error)),
            "{body}: {:?}",
            a.json
        );
    }
    let nobody = request(
        "POST",
        "/oauth2/token",
        Some("application/x-www-form-urlencoded"),
        "grant_type=authorization_code&code=00&client_id=c_0000000000000000&client_secret=x",
    );
    let a = answer(app.send(nobody).await);
    assert_eq!(
        (a.status, a.json["error"].as_str()),
        (401, Some("invalid_client"))
    );
}

#[tokio::test]
async fn an_app_in_a_browser_reads_the_token_answer_from_its_own_origin_only() {
    let app = TestApp::spawn().await;
    let c = client(&app).await;
    let (_, mut ann) = app.ready_admin(&app.address("ann")).await;
    let send = |code: String, origin: &'static str| {
        let body = form(&[
            ("client_id", c.id.as_str()),
            ("client_secret", c.secret.as_str()),
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ]);
        let mut req = request(
            "POST",
            "/oauth2/token",
            Some("application/x-www-form-urlencoded"),
            body,
        );
        req.headers_mut().insert("origin", origin.parse().unwrap());
        req
    };
    // From the origin of its redirect URI: not refused as cross-site, and readable there.
    let own = answer(
        app.send(send(
            code(&mut ann, &c, "openid").await,
            "https://support.example.test",
        ))
        .await,
    );
    assert_eq!(own.status, 200, "{:?}", own.json);
    assert_eq!(
        own.headers["access-control-allow-origin"],
        "https://support.example.test"
    );
    // From anywhere else the browser may not read it.
    let other = answer(
        app.send(send(
            code(&mut ann, &c, "openid").await,
            "https://evil.test",
        ))
        .await,
    );
    assert!(other.headers.get("access-control-allow-origin").is_none());
    // Every other state-changing route still refuses another site.
    let mut logout = request("POST", "/api/logout", Some("application/json"), "{}");
    logout
        .headers_mut()
        .insert("origin", "https://support.example.test".parse().unwrap());
    assert_eq!(answer(app.send(logout).await).code(), "forbidden_origin");
}

#[tokio::test]
async fn an_app_naming_itself_signs_out_directly_and_a_bare_link_asks_first() {
    let app = TestApp::spawn().await;
    let new = NewClient {
        name: "Support portal".into(),
        redirect_uris: vec![REDIRECT.into()],
        post_logout_redirect_uris: vec!["https://support.example.test/bye".into()],
        public: false,
    };
    let (c, _) = clients::register(&app.state, new, Timestamp::now())
        .await
        .unwrap();
    let (_, mut ann) = app.ready_admin(&app.address("ann")).await;
    // A bare link: a page with a form, and the session lives on.
    let bare = ann.get("/oauth2/logout").await;
    assert_eq!(bare.status, 200);
    assert!(bare.text.contains("Sign out of Porter?"), "{}", bare.text);
    assert_eq!(ann.get("/api/me").await.status, 200);
    // An unregistered address: signed out, but never sent there.
    let foreign = ann
        .get(&format!(
            "/oauth2/logout?client_id={}&post_logout_redirect_uri={}",
            c.id,
            urlencoding("https://evil.test/")
        ))
        .await;
    assert_eq!(foreign.status, 400);
    assert!(foreign.headers.get("location").is_none());
    let (_, mut bea) = app.ready_admin(&app.address("bea")).await;
    let out = bea
        .get(&format!(
            "/oauth2/logout?client_id={}&post_logout_redirect_uri={}&state=s1",
            c.id,
            urlencoding("https://support.example.test/bye")
        ))
        .await;
    assert_eq!(out.status, 302);
    assert_eq!(
        out.headers["location"],
        "https://support.example.test/bye?state=s1"
    );
    assert_eq!(bea.get("/api/me").await.status, 401);
}

#[tokio::test]
async fn an_msp_admin_working_in_an_organization_signs_in_to_an_app_as_that_organization() {
    let app = TestApp::spawn().await;
    let c = client(&app).await;
    let (reg, mut ann) = app.ready_admin(&app.address("ann")).await;
    app.state.store.set_msp(&reg.tenant, 3).await.unwrap();
    let created = ann
        .post(
            "/api/organizations",
            serde_json::json!({ "name": "Contoso" }),
        )
        .await;
    assert_eq!(created.status, 201, "{:?}", created.json);
    let org = created.json["id"].as_str().unwrap().to_owned();
    let switched = ann
        .post(
            "/api/session/organization",
            serde_json::json!({ "id": org }),
        )
        .await;
    assert_eq!(switched.status, 200, "{:?}", switched.json);

    let code = code(&mut ann, &c, "openid email offline_access").await;
    let a = exchange(&app, &c, &code).await;
    assert_eq!(a.status, 200, "{:?}", a.json);
    let part = a.json["id_token"]
        .as_str()
        .unwrap()
        .split('.')
        .nth(1)
        .unwrap();
    let id: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap();
    assert_eq!(id["tid"], org.as_str());
    assert_eq!(id["msp"], reg.tenant.as_str());
    assert_eq!(id["org_name"], "Contoso");
    let info = userinfo(&app, a.json["access_token"].as_str().unwrap()).await;
    assert_eq!(info.json["tid"], org.as_str());
    assert_eq!(info.json["msp"], reg.tenant.as_str());
    // Contoso's log holds the sign-in, as done by the MSP's person.
    let log = ann.get("/api/audit").await;
    let events = log.json["events"].as_array().unwrap();
    let signed_in = events
        .iter()
        .find(|e| e["action"] == "app.sign_in")
        .expect("the sign-in is in Contoso's log");
    assert_eq!(signed_in["actor_email"], app.address("ann"));
    // A refresh while acting works: the session, its user and both tenants in one read.
    let rt = a.json["refresh_token"].as_str().unwrap();
    assert_eq!(refresh(&app, &c, rt).await.status, 200);
}
