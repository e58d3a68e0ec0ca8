//! Security keys over HTTP with a software authenticator (webauthn-authenticator-rs's
//! SoftPasskey, acting as the browser and the key): the happy paths, and what an attacker
//! would try — another origin, another relying party, a replayed or foreign challenge, and a
//! first factor alone adding a key.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use porter_tests::*;
use serde_json::json;
use url::Url;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_rs_proto::{CreationChallengeResponse, RequestChallengeResponse};

fn key() -> WebauthnAuthenticator<SoftPasskey> {
    WebauthnAuthenticator::new(SoftPasskey::new(true))
}

fn origin() -> Url {
    Url::parse(BASE_URL).unwrap()
}

/// Registration options from `path`, and the key's answer made at `at`.
async fn register_at(
    b: &mut Browser<'_>,
    authenticator: &mut WebauthnAuthenticator<SoftPasskey>,
    at: Url,
    edit: impl FnOnce(&mut CreationChallengeResponse),
) -> serde_json::Value {
    let options = b.post("/api/mfa/webauthn/options", json!({})).await;
    assert_eq!(options.status, 200, "{:?}", options.json);
    let mut options: CreationChallengeResponse = serde_json::from_value(options.json).unwrap();
    edit(&mut options);
    let credential = authenticator.do_registration(at, options).unwrap();
    serde_json::to_value(credential).unwrap()
}

async fn assertion(
    b: &mut Browser<'_>,
    authenticator: &mut WebauthnAuthenticator<SoftPasskey>,
    at: Url,
) -> serde_json::Value {
    let options = b.post("/api/login/webauthn/options", json!({})).await;
    assert_eq!(options.status, 200, "{:?}", options.json);
    let options: RequestChallengeResponse = serde_json::from_value(options.json).unwrap();
    serde_json::to_value(authenticator.do_authentication(at, options).unwrap()).unwrap()
}

/// A key registered at the right origin and enrolled by `b`.
async fn enrolled_key(b: &mut Browser<'_>) -> WebauthnAuthenticator<SoftPasskey> {
    let mut k = key();
    let credential = register_at(b, &mut k, origin(), |_| {}).await;
    let a = b
        .post("/api/mfa/webauthn", json!({ "credential": credential }))
        .await;
    assert_eq!(a.status, 200, "{:?}", a.json);
    k
}

/// Ann, active, first factor done, about to enrol her first factor.
async fn ann_signed_in(app: &TestApp) -> (String, Browser<'_>) {
    let ann = app.address("ann");
    app.active_admin(&ann, PASSWORD).await;
    let mut b = app.browser();
    let a = b.sign_in(&ann, PASSWORD).await;
    assert_eq!(a.json["next"], "mfa_enroll");
    (ann, b)
}

#[tokio::test]
async fn a_security_key_enrols_and_then_signs_in() {
    let app = TestApp::spawn().await;
    let (ann, mut b) = ann_signed_in(&app).await;
    let mut k = key();
    let credential = register_at(&mut b, &mut k, origin(), |_| {}).await;
    let done = b
        .post("/api/mfa/webauthn", json!({ "credential": credential }))
        .await;
    assert_eq!(done.status, 200, "{:?}", done.json);
    assert_eq!(done.json["recovery_codes"].as_array().unwrap().len(), 10);

    let mut c = app.browser();
    assert_eq!(c.sign_in(&ann, PASSWORD).await.json["next"], "mfa_verify");
    let signed = assertion(&mut c, &mut k, origin()).await;
    let a = c
        .post(
            "/api/login/mfa",
            json!({ "method": "webauthn", "credential": signed }),
        )
        .await;
    assert_eq!(a.status, 200, "{:?}", a.json);
    assert_eq!(c.get("/api/me").await.status, 200);
}

#[tokio::test]
async fn a_key_registered_from_another_origin_or_for_another_site_is_refused() {
    let app = TestApp::spawn().await;
    let (_, mut b) = ann_signed_in(&app).await;
    let mut k = key();
    let other_port = Url::parse("http://localhost:4000").unwrap();
    let credential = register_at(&mut b, &mut k, other_port, |_| {}).await;
    let a = b
        .post("/api/mfa/webauthn", json!({ "credential": credential }))
        .await;
    assert_eq!(
        (a.status, a.code()),
        (422, "webauthn_failed"),
        "wrong origin"
    );

    let phishing = Url::parse("https://evil.example").unwrap();
    let credential = register_at(&mut b, &mut k, phishing, |o| {
        o.public_key.rp.id = "evil.example".into();
    })
    .await;
    let a = b
        .post("/api/mfa/webauthn", json!({ "credential": credential }))
        .await;
    assert_eq!(
        (a.status, a.code()),
        (422, "webauthn_failed"),
        "wrong RP id"
    );
    assert!(
        app.scan()
            .await
            .iter()
            .all(|i| get_s(i, "webauthn_keys").is_none_or(|k| k == "[]")),
        "no key stored"
    );
}

#[tokio::test]
async fn a_challenge_answers_once_and_only_in_the_session_that_asked_for_it() {
    let app = TestApp::spawn().await;
    let (ann, mut b) = ann_signed_in(&app).await;
    let mut k = enrolled_key(&mut b).await;

    // Two sign-ins; the key answers the first one's challenge.
    let mut first = app.browser();
    first.sign_in(&ann, PASSWORD).await;
    let mut second = app.browser();
    second.sign_in(&ann, PASSWORD).await;
    let signed = assertion(&mut first, &mut k, origin()).await;
    let _ = second.post("/api/login/webauthn/options", json!({})).await;
    let foreign = second
        .post(
            "/api/login/mfa",
            json!({ "method": "webauthn", "credential": signed }),
        )
        .await;
    assert_eq!(
        (foreign.status, foreign.code()),
        (401, "invalid_code"),
        "an answer to another session's challenge"
    );
    let ok = first
        .post(
            "/api/login/mfa",
            json!({ "method": "webauthn", "credential": signed }),
        )
        .await;
    assert_eq!(ok.status, 200, "{:?}", ok.json);

    // Replayed in a fresh sign-in, and again in the same (now full) session: refused.
    let mut third = app.browser();
    third.sign_in(&ann, PASSWORD).await;
    let _ = third.post("/api/login/webauthn/options", json!({})).await;
    let replay = third
        .post(
            "/api/login/mfa",
            json!({ "method": "webauthn", "credential": signed }),
        )
        .await;
    assert_eq!((replay.status, replay.code()), (401, "invalid_code"));
    let again = first
        .post(
            "/api/account/reauth",
            json!({ "method": "webauthn", "credential": signed }),
        )
        .await;
    assert_eq!((again.status, again.code()), (401, "invalid_code"));
}

#[tokio::test]
async fn a_first_factor_alone_cannot_add_a_key_to_an_account_that_has_one() {
    let app = TestApp::spawn().await;
    let ann = app.address("ann");
    app.active_admin(&ann, PASSWORD).await;
    app.browser().enrol_totp(&ann).await;
    let mut b = app.browser();
    assert_eq!(b.sign_in(&ann, PASSWORD).await.json["next"], "mfa_verify");
    for path in ["/api/mfa/webauthn/options", "/api/mfa/webauthn"] {
        let a = b.post(path, json!({ "credential": {} })).await;
        assert_eq!((a.status, a.code()), (403, "mfa_required"), "{path}");
    }
}

#[tokio::test]
async fn adding_a_second_key_needs_a_recent_proof_and_a_key_can_give_it() {
    let app = TestApp::spawn().await;
    let (ann, mut b) = ann_signed_in(&app).await;
    let mut k = enrolled_key(&mut b).await;
    b.age_proof(600).await;
    let refused = b.post("/api/mfa/webauthn/options", json!({})).await;
    assert_eq!((refused.status, refused.code()), (403, "reauth_required"));

    let proof = assertion(&mut b, &mut k, origin()).await;
    let ok = b
        .post(
            "/api/account/reauth",
            json!({ "method": "webauthn", "credential": proof }),
        )
        .await;
    assert_eq!(ok.status, 200, "{:?}", ok.json);
    let mut spare = key();
    let second = register_at(&mut b, &mut spare, origin(), |_| {}).await;
    let added = b
        .post("/api/mfa/webauthn", json!({ "credential": second }))
        .await;
    assert_eq!(added.status, 200, "{:?}", added.json);
    let notice = app.outbox(&ann).await.pop().unwrap();
    assert!(notice.body.contains("security key was added"), "{notice:?}");
}
