//! Passkeys over HTTP with a software authenticator (webauthn-authenticator-rs's SoftPasskey,
//! acting as the browser and the key). SoftPasskey keeps no discoverable credentials, so the
//! test plays the browser's part of a discoverable sign-in: it points the key at the passkey
//! it holds and hands back the user handle the key was registered with (both outside what
//! the key signs). What the server must refuse: a key that did not verify its user, a
//! security key that is no passkey, an unknown passkey, a replayed answer, a removed user, an
//! organisation that turned passkeys off, and too many wrong signatures.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use porter_tests::passkey::{answer_passkey, origin, register, soft_key, Held};
use porter_tests::*;
use serde_json::json;
use webauthn_rs_proto::{
    CreationChallengeResponse, RequestChallengeResponse, UserVerificationPolicy,
};

/// Ann, active admin, first factor done, who adds a passkey as her first factor.
async fn ann_with_passkey(app: &TestApp) -> (String, Held) {
    let ann = app.address("ann");
    app.active_admin(&ann, PASSWORD).await;
    let mut b = app.browser();
    assert_eq!(b.sign_in(&ann, PASSWORD).await.json["next"], "mfa_enroll");
    let mut held = soft_key();
    let done = register(&mut b, &mut held, "/api/mfa/passkey", |_| {}).await;
    assert_eq!(done.status, 200, "{:?}", done.json);
    (ann, held)
}

#[tokio::test]
async fn a_passkey_signs_in_from_the_first_page_with_nothing_typed() {
    let app = TestApp::spawn().await;
    let (_, mut held) = ann_with_passkey(&app).await;

    let mut b = app.browser();
    let options = b.post("/api/login/passkey/options", json!({})).await;
    let public_key = &options.json["publicKey"];
    assert_eq!(public_key["userVerification"], "required");
    assert!(
        public_key["allowCredentials"]
            .as_array()
            .is_none_or(Vec::is_empty),
        "no credentials named: {public_key}"
    );
    let credential = answer_passkey(&mut b, &mut held, |_| {}).await;
    let signed = b
        .post("/api/login/passkey", json!({ "credential": credential }))
        .await;
    assert_eq!(signed.status, 200, "{:?}", signed.json);
    // An admin whose organisation is not set up yet goes there, fully signed in.
    assert_eq!(signed.json["next"], "setup");
    assert_eq!(b.get("/api/me").await.status, 200);
    let session = app.item(b.session_pk(), "SESSION").await.unwrap();
    assert_eq!(get_s(&session, "level"), Some("full"));
    let amr = format!("{:?}", session.get("amr"));
    assert!(
        amr.contains("hwk") && amr.contains("user") && !amr.contains("pwd"),
        "{amr}"
    );
    let account = b.get("/api/account").await;
    let keys = &account.json["factors"]["security_keys"];
    assert_eq!(keys[0]["name"], "Laptop");
    assert_eq!(keys[0]["passkey"], true);
    assert!(keys[0]["last_used_at"].is_string(), "{keys}");

    // The answer was spent with its challenge: replayed, it finds nothing.
    let replay = app
        .browser()
        .post("/api/login/passkey", json!({ "credential": credential }))
        .await;
    assert_eq!((replay.status, replay.code()), (400, "passkey_not_started"));
}

#[tokio::test]
async fn a_passkey_is_a_second_factor_after_the_password_too() {
    let app = TestApp::spawn().await;
    let (ann, mut held) = ann_with_passkey(&app).await;
    let mut b = app.browser();
    assert_eq!(b.sign_in(&ann, PASSWORD).await.json["next"], "mfa_verify");
    let options = b.post("/api/login/webauthn/options", json!({})).await;
    assert_eq!(options.status, 200, "{:?}", options.json);
    let options: RequestChallengeResponse = serde_json::from_value(options.json).unwrap();
    let signed = held.key.do_authentication(origin(), options).unwrap();
    let a = b
        .post(
            "/api/login/mfa",
            json!({ "method": "webauthn", "credential": signed }),
        )
        .await;
    assert_eq!(a.status, 200, "{:?}", a.json);
}

#[tokio::test]
async fn a_key_that_did_not_verify_its_user_neither_registers_nor_signs_in() {
    let app = TestApp::spawn().await;
    let amy = app.address("amy");
    app.active_admin(&amy, PASSWORD).await;
    let mut b = app.browser();
    b.sign_in(&amy, PASSWORD).await;
    let mut held = soft_key();
    let presence_only = register(&mut b, &mut held, "/api/mfa/passkey", |o| {
        if let Some(s) = o.public_key.authenticator_selection.as_mut() {
            s.user_verification = UserVerificationPolicy::Preferred;
        }
    })
    .await;
    assert_eq!(
        (presence_only.status, presence_only.code()),
        (422, "webauthn_failed")
    );

    let (_, mut held) = ann_with_passkey(&app).await;
    let mut c = app.browser();
    let credential = answer_passkey(&mut c, &mut held, |o| {
        o.public_key.user_verification = UserVerificationPolicy::Preferred;
    })
    .await;
    let a = c
        .post("/api/login/passkey", json!({ "credential": credential }))
        .await;
    assert_eq!((a.status, a.code()), (401, "invalid_credentials"));
    assert_eq!(c.get("/api/me").await.status, 401);
}

#[tokio::test]
async fn a_security_key_or_an_unknown_passkey_cannot_sign_in_alone() {
    let app = TestApp::spawn().await;
    let ann = app.address("ann");
    app.active_admin(&ann, PASSWORD).await;
    let mut b = app.browser();
    b.sign_in(&ann, PASSWORD).await;
    let mut key = soft_key();
    let added = register(&mut b, &mut key, "/api/mfa/webauthn", |_| {}).await;
    assert_eq!(added.status, 200, "{:?}", added.json);

    let mut c = app.browser();
    let credential = answer_passkey(&mut c, &mut key, |_| {}).await;
    let a = c
        .post("/api/login/passkey", json!({ "credential": credential }))
        .await;
    assert_eq!((a.status, a.code()), (401, "invalid_credentials"));

    // A key nobody registered, claiming Ann's user handle.
    let mut stranger = soft_key();
    let mut throwaway = app.browser();
    let other = app.address("eve");
    app.active_admin(&other, PASSWORD).await;
    throwaway.sign_in(&other, PASSWORD).await;
    // Registered at another relying party's options, so Porter never stored it.
    let mut options: CreationChallengeResponse = serde_json::from_value(
        throwaway
            .post("/api/mfa/passkey/options", json!({}))
            .await
            .json,
    )
    .unwrap();
    if let Some(s) = options.public_key.authenticator_selection.as_mut() {
        s.require_resident_key = false;
    }
    let made = stranger.key.do_registration(origin(), options).unwrap();
    stranger.cred_id = Some(made.raw_id.clone());
    stranger.user_handle = key.user_handle.clone();
    let credential = answer_passkey(&mut c, &mut stranger, |_| {}).await;
    let unknown = c
        .post("/api/login/passkey", json!({ "credential": credential }))
        .await;
    assert_eq!(
        (
            unknown.status,
            unknown.code(),
            unknown.json["message"].clone()
        ),
        (401, "invalid_credentials", a.json["message"].clone()),
        "the same answer as a known key that may not sign in"
    );
}

#[tokio::test]
async fn a_removed_user_or_an_organisation_without_passkeys_is_refused() {
    let app = TestApp::spawn().await;
    let ann = app.address("ann");
    let (_, mut admin) = app.ready_admin(&ann).await;
    let bob = app.address("bob");
    let bob_id = admin.add_user(&bob, "core").await;
    app.activate(&bob).await;
    let mut b = app.browser();
    assert_eq!(b.sign_in(&bob, PASSWORD).await.json["next"], "mfa_enroll");
    let mut held = soft_key();
    let done = register(&mut b, &mut held, "/api/mfa/passkey", |_| {}).await;
    assert_eq!(done.status, 200, "{:?}", done.json);

    // Switched off by the admin: Bob is told, and signs in otherwise.
    let off = admin
        .put(
            "/api/config/signin/options",
            json!({ "passkey_sign_in": false }),
        )
        .await;
    assert_eq!(off.status, 200, "{:?}", off.json);
    assert_eq!(off.json["passkey_sign_in"], false);
    let mut c = app.browser();
    let credential = answer_passkey(&mut c, &mut held, |_| {}).await;
    let a = c
        .post("/api/login/passkey", json!({ "credential": credential }))
        .await;
    assert_eq!((a.status, a.code()), (403, "passkey_sign_in_off"));
    let on = admin
        .put(
            "/api/config/signin/options",
            json!({ "passkey_sign_in": true }),
        )
        .await;
    assert_eq!(on.json["passkey_sign_in"], true);
    let credential = answer_passkey(&mut c, &mut held, |_| {}).await;
    let a = c
        .post("/api/login/passkey", json!({ "credential": credential }))
        .await;
    assert_eq!(a.status, 200, "{:?}", a.json);
    assert_eq!(a.json["next"], "done");

    // Removed: his passkey is like anyone's unknown one.
    let removed = admin.delete(&format!("/api/users/{bob_id}")).await;
    assert!(removed.status < 300, "{:?}", removed.json);
    let mut d = app.browser();
    let credential = answer_passkey(&mut d, &mut held, |_| {}).await;
    let a = d
        .post("/api/login/passkey", json!({ "credential": credential }))
        .await;
    assert_eq!((a.status, a.code()), (401, "invalid_credentials"));
}

#[tokio::test]
async fn wrong_passkey_signatures_count_as_second_factor_guesses() {
    let app = TestApp::spawn().await;
    let (ann, mut held) = ann_with_passkey(&app).await;
    let mut b = app.browser();
    let mut last = None;
    for _ in 0..6 {
        let mut credential = answer_passkey(&mut b, &mut held, |_| {}).await;
        // A signature that does not verify.
        credential["response"]["signature"] = json!("AAAA");
        let a = b
            .post("/api/login/passkey", json!({ "credential": credential }))
            .await;
        last = Some((a.status, a.code().to_owned()));
        if a.status == 429 {
            break;
        }
        assert_eq!((a.status, a.code()), (401, "invalid_credentials"));
    }
    assert_eq!(last, Some((429, "throttled".to_owned())));
    // The owner's counter: the right passkey now waits too.
    let credential = answer_passkey(&mut b, &mut held, |_| {}).await;
    let a = b
        .post("/api/login/passkey", json!({ "credential": credential }))
        .await;
    assert_eq!(a.status, 429, "{ann}: {:?}", a.json);
}

#[tokio::test]
async fn removing_a_passkey_forgets_it_for_sign_in() {
    let app = TestApp::spawn().await;
    let ann = app.address("ann");
    let (_, mut admin) = app.ready_admin(&ann).await;
    let mut held = soft_key();
    let added = register(&mut admin, &mut held, "/api/mfa/passkey", |_| {}).await;
    assert_eq!(added.status, 200, "{:?}", added.json);
    let id = admin.get("/api/account").await.json["factors"]["security_keys"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(app.item(format!("PASSKEY#{id}"), "PASSKEY").await.is_some());
    let mail = app.outbox(&ann).await;
    assert!(
        mail.iter().any(|m| m.body.contains("A passkey was added")),
        "the owner is told"
    );
    let gone = admin
        .delete(&format!("/api/account/security-keys/{id}"))
        .await;
    assert_eq!(gone.status, 200, "{:?}", gone.json);
    assert!(app.item(format!("PASSKEY#{id}"), "PASSKEY").await.is_none());
    let mut b = app.browser();
    let credential = answer_passkey(&mut b, &mut held, |_| {}).await;
    let a = b
        .post("/api/login/passkey", json!({ "credential": credential }))
        .await;
    assert_eq!((a.status, a.code()), (401, "invalid_credentials"));
}
