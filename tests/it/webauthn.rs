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

/// Lets the second-factor guess counter of the user at `sk` start afresh, as time would.
async fn forget_mfa_guesses(app: &TestApp, sk: &str) {
    let uid = porter_shared::domain::UserId::parse(sk.trim_start_matches("USER#")).unwrap();
    let counter = porter_shared::auth::guard::MfaGuesses::key(&uid);
    if app
        .item(counter.as_str().to_owned(), "THROTTLE")
        .await
        .is_some()
    {
        let values = [("attempts", 0), ("next_at", now() - 1)];
        app.set_numbers(counter.as_str().to_owned(), "THROTTLE", &values)
            .await;
    }
}

/// The key of the only user item.
async fn user_key(app: &TestApp) -> (String, String) {
    let user = app
        .scan()
        .await
        .into_iter()
        .find(|it| get_s(it, "entity") == Some("user"))
        .unwrap();
    let at = |name| get_s(&user, name).unwrap().to_owned();
    (at("pk"), at("sk"))
}

/// The ids of the keys stored on the user item at `key`.
async fn stored_key_ids(app: &TestApp, (pk, sk): &(String, String)) -> Vec<String> {
    let user = app.item(pk.clone(), sk).await.unwrap();
    let keys: Vec<serde_json::Value> =
        serde_json::from_str(get_s(&user, "webauthn_keys").unwrap_or("[]")).unwrap();
    keys.iter()
        .map(|k| k["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_key_sign_in_racing_a_removal_never_writes_the_removed_key_back() {
    let app = TestApp::spawn().await;
    let (ann, mut owner) = ann_signed_in(&app).await;
    let mut first = enrolled_key(&mut owner).await;
    let ann_key = user_key(&app).await;
    for round in 0..100 {
        forget_mfa_guesses(&app, &ann_key.1).await;
        owner.age_proof(0).await;
        let mut spare = key();
        let credential = register_at(&mut owner, &mut spare, origin(), |_| {}).await;
        let added = owner
            .post("/api/mfa/webauthn", json!({ "credential": credential }))
            .await;
        assert_eq!(added.status, 200, "round {round}: {:?}", added.json);
        let account = owner.get("/api/account").await;
        let spare_id = account.json["factors"]["security_keys"][1]["id"]
            .as_str()
            .unwrap()
            .to_owned();

        // Another browser has read the key list (with the spare in it) for a key sign-in
        // while the owner removes the spare.
        let mut other = app.browser_at(&format!("198.51.100.{}", round + 1));
        assert_eq!(
            other.sign_in(&ann, PASSWORD).await.json["next"],
            "mfa_verify"
        );
        let proof = assertion(&mut other, &mut first, origin()).await;
        let body = json!({ "method": "webauthn", "credential": proof });
        let path = format!("/api/account/security-keys/{spare_id}");
        // Either may reach the table first.
        let (signed_in, removed) = if round % 2 == 0 {
            tokio::join!(other.post("/api/login/mfa", body), owner.delete(&path))
        } else {
            let (r, s) = tokio::join!(owner.delete(&path), other.post("/api/login/mfa", body));
            (s, r)
        };
        assert!(
            [200, 401].contains(&signed_in.status),
            "round {round}: {signed_in:?}"
        );
        match removed.status {
            200 => {}
            // The sign-in's write won: the removal was refused, not lost; it goes through now.
            409 => {
                owner.age_proof(0).await;
                assert_eq!(owner.delete(&path).await.status, 200, "round {round}");
            }
            other => panic!("round {round}: removal answered {other}"),
        }
        let stored = stored_key_ids(&app, &ann_key).await;
        assert!(
            !stored.contains(&spare_id),
            "round {round}: the removed key came back: {stored:?}"
        );
        assert_eq!(stored.len(), 1, "round {round}: {stored:?}");
    }
}
