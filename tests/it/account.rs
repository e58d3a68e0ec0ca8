//! My account over HTTP: the overview, changing the password, second factors under the
//! recent-proof rule, and sessions.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use porter_tests::*;
use serde_json::json;
use url::Url;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_rs_proto::CreationChallengeResponse;

const NEW_PASSWORD: &str = "quartz meadow violin 27";

/// Ann, set up, with TOTP, signed in in `b`; and her TOTP secret.
async fn ann(app: &TestApp) -> (String, String, Browser<'_>) {
    let ann = app.address("ann");
    app.active_admin(&ann, PASSWORD).await;
    let mut b = app.browser();
    let (secret, _) = b.enrol_totp(&ann).await;
    (ann, secret, b)
}

async fn add_key(b: &mut Browser<'_>, name: &str) -> WebauthnAuthenticator<SoftPasskey> {
    let mut k = WebauthnAuthenticator::new(SoftPasskey::new(true));
    let options = b.post("/api/mfa/webauthn/options", json!({})).await;
    assert_eq!(options.status, 200, "{:?}", options.json);
    let options: CreationChallengeResponse = serde_json::from_value(options.json).unwrap();
    let credential = k
        .do_registration(Url::parse(BASE_URL).unwrap(), options)
        .unwrap();
    let a = b
        .post(
            "/api/mfa/webauthn",
            json!({ "credential": credential, "name": name }),
        )
        .await;
    assert_eq!(a.status, 200, "{:?}", a.json);
    k
}

#[tokio::test]
async fn the_account_shows_factors_and_live_sessions_without_secrets() {
    let app = TestApp::spawn().await;
    let (ann, _, mut b) = ann(&app).await;
    let mut other = app.browser_at("192.0.2.80");
    other.sign_in(&ann, PASSWORD).await; // a password-level session: live too
    let a = b.get("/api/account").await;
    assert_eq!(a.status, 200, "{:?}", a.json);
    assert_eq!(a.json["email"], ann);
    assert_eq!(a.json["role"], "admin");
    assert_eq!(a.json["factors"]["totp"], true);
    assert_eq!(a.json["factors"]["recovery_codes_left"], 10);
    assert_eq!(a.json["factors"]["security_keys"], json!([]));
    let sessions = a.json["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2, "{sessions:?}");
    let current: Vec<_> = sessions.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0]["ip"], SOURCE_IP);
    assert!(sessions.iter().any(|s| s["ip"] == "192.0.2.80"));
    let cookie_value = b.cookie.as_ref().unwrap().split_once('=').unwrap().1;
    assert!(
        !a.json.to_string().contains(cookie_value),
        "no cookie value"
    );
}

#[tokio::test]
async fn changing_the_password_checks_the_old_one_ends_other_sessions_and_emails() {
    let app = TestApp::spawn().await;
    let (ann, secret, mut b) = ann(&app).await;
    let mut other = app.browser_at("192.0.2.81");
    other.sign_in(&ann, PASSWORD).await;
    let change = |current: &str, new: &str, confirm: &str| json!({ "current_password": current, "password": new, "password_confirm": confirm });
    let wrong = b
        .post(
            "/api/account/password",
            change("not my password", NEW_PASSWORD, NEW_PASSWORD),
        )
        .await;
    assert_eq!((wrong.status, wrong.code()), (401, "invalid_credentials"));
    let weak = b
        .post(
            "/api/account/password",
            change(PASSWORD, "password1234", "password1234"),
        )
        .await;
    assert_eq!((weak.status, weak.code()), (422, "password_weak"));
    let mismatch = b
        .post(
            "/api/account/password",
            change(PASSWORD, NEW_PASSWORD, "something else entirely"),
        )
        .await;
    assert_eq!(
        (mismatch.status, mismatch.code()),
        (422, "password_mismatch")
    );

    let before = b.cookie.clone();
    let ok = b
        .post(
            "/api/account/password",
            change(PASSWORD, NEW_PASSWORD, NEW_PASSWORD),
        )
        .await;
    assert_eq!(ok.status, 200, "{:?}", ok.json);
    assert_ne!(b.cookie, before, "this session continues under a new id");
    assert_eq!(b.get("/api/account").await.status, 200);
    assert_eq!(
        other.get("/api/me").await.status,
        401,
        "other sessions ended"
    );
    let notice = app.outbox(&ann).await.pop().unwrap();
    assert!(notice.body.contains("password of your account was changed"));
    assert!(!notice.body.contains(NEW_PASSWORD));

    let mut c = app.browser_at("192.0.2.82");
    assert_eq!(c.sign_in(&ann, PASSWORD).await.status, 401, "old password");
    assert_eq!(c.sign_in(&ann, NEW_PASSWORD).await.status, 200);
    let code = oathtool(&secret, now() + 30);
    let mfa = c
        .post("/api/login/mfa", json!({ "method": "totp", "code": code }))
        .await;
    assert_eq!(mfa.status, 200, "still two factors");
}

#[tokio::test]
async fn wrong_current_passwords_are_throttled_like_sign_in() {
    let app = TestApp::spawn().await;
    let (_, _, mut b) = ann(&app).await;
    let mut statuses = Vec::new();
    for i in 0..8 {
        let a = b
            .post(
                "/api/account/password",
                json!({ "current_password": format!("guess {i}"), "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD }),
            )
            .await;
        statuses.push(a.status);
    }
    assert_eq!(&statuses[..5], &[401; 5]);
    assert_eq!(*statuses.last().unwrap(), 429, "{statuses:?}");
}

#[tokio::test]
async fn a_password_typed_in_another_unicode_form_still_works() {
    let app = TestApp::spawn().await;
    let ann = app.address("ann");
    let composed = "caf\u{e9} lantern harbour 71";
    let decomposed = "cafe\u{301} lantern harbour 71";
    app.active_admin(&ann, composed).await;
    assert_eq!(app.browser().sign_in(&ann, decomposed).await.status, 200);
}

#[tokio::test]
async fn keys_are_named_renamed_and_removed_under_a_recent_proof_but_never_the_last_factor() {
    let app = TestApp::spawn().await;
    let ann = app.address("ann");
    app.active_admin(&ann, PASSWORD).await;
    let mut b = app.browser();
    b.sign_in(&ann, PASSWORD).await;
    let _key = add_key(&mut b, "Blue key").await;
    let account = b.get("/api/account").await;
    let keys = account.json["factors"]["security_keys"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["name"], "Blue key");
    let id = keys[0]["id"].as_str().unwrap().to_owned();
    assert!(keys[0]["created_at"].as_str().unwrap().starts_with("20"));

    let path = format!("/api/account/security-keys/{id}");
    let renamed = b
        .patch(&path, json!({ "name": "  Office\u{202e} key " }))
        .await;
    assert_eq!(renamed.status, 200, "{:?}", renamed.json);
    assert_eq!(renamed.json["name"], "Office key");
    let only = b.delete(&path).await;
    assert_eq!((only.status, only.code()), (409, "last_factor"));
    assert_eq!(
        b.delete("/api/account/security-keys/nope").await.code(),
        "key_not_found"
    );

    b.age_proof(400).await;
    let stale = b.patch(&path, json!({ "name": "x" })).await;
    assert_eq!((stale.status, stale.code()), (403, "reauth_required"));
    let stale = b.delete(&path).await;
    assert_eq!((stale.status, stale.code()), (403, "reauth_required"));
}

#[tokio::test]
async fn removing_the_app_keeps_the_key_and_is_emailed() {
    let app = TestApp::spawn().await;
    let (ann, _, mut b) = ann(&app).await;
    let _key = add_key(&mut b, "Spare").await;
    let gone = b.delete("/api/account/totp").await;
    assert_eq!(gone.status, 200, "{:?}", gone.json);
    let account = b.get("/api/account").await;
    assert_eq!(account.json["factors"]["totp"], false);
    let notice = app.outbox(&ann).await.pop().unwrap();
    assert!(notice.body.contains("authenticator app was removed"));
    let again = b.delete("/api/account/totp").await;
    assert_eq!(again.code(), "totp_not_enrolled");
}

#[tokio::test]
async fn sessions_end_one_at_a_time_or_all_but_this_one() {
    let app = TestApp::spawn().await;
    let (ann, secret, mut b) = ann(&app).await;
    let mut phone = app.browser_at("192.0.2.90");
    phone.sign_in(&ann, PASSWORD).await;
    let mut laptop = app.browser_at("192.0.2.91");
    laptop.sign_in(&ann, PASSWORD).await;
    let code = oathtool(&secret, now() + 30);
    laptop
        .post("/api/login/mfa", json!({ "method": "totp", "code": code }))
        .await;

    let account = b.get("/api/account").await;
    let phone_id = account.json["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["ip"] == "192.0.2.90")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let ended = b.delete(&format!("/api/account/sessions/{phone_id}")).await;
    assert_eq!(ended.status, 204);
    assert_eq!(phone.get("/api/me").await.status, 401);
    assert_eq!(laptop.get("/api/me").await.status, 200);
    let unknown = b
        .delete(&format!("/api/account/sessions/{}", "a".repeat(64)))
        .await;
    assert_eq!((unknown.status, unknown.code()), (404, "session_not_found"));

    // Someone else's session id is not yours to end.
    let (_, mut olga) = app
        .ready_admin(&format!("olga@other-{}", ann.split('@').nth(1).unwrap()))
        .await;
    let laptop_id = b.get("/api/account").await.json["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["ip"] == "192.0.2.91")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let theirs = olga
        .delete(&format!("/api/account/sessions/{laptop_id}"))
        .await;
    assert_eq!(theirs.status, 404);
    assert_eq!(laptop.get("/api/me").await.status, 200);

    // Ending other sessions needs a recent proof (ASVS 7.5.2); signing this browser out not.
    b.age_proof(400).await;
    let stale = b.delete("/api/account/sessions").await;
    assert_eq!((stale.status, stale.code()), (403, "reauth_required"));
    let stale = b
        .delete(&format!("/api/account/sessions/{laptop_id}"))
        .await;
    assert_eq!((stale.status, stale.code()), (403, "reauth_required"));
    assert_eq!(laptop.get("/api/me").await.status, 200);
    // A fresh proof (as /api/account/reauth gives; its own tests are in factors.rs).
    b.age_proof(0).await;
    let all = b.delete("/api/account/sessions").await;
    assert_eq!(all.status, 200, "{:?}", all.json);
    assert_eq!(laptop.get("/api/me").await.status, 401);
    let account = b.get("/api/account").await;
    assert_eq!(account.status, 200);
    assert_eq!(account.json["sessions"].as_array().unwrap().len(), 1);
}
