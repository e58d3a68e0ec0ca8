//! Codes by text message, over HTTP, sent through moto's SNS and read back from what moto
//! recorded: the organisation's switch (off by default), a number confirmed with a code, a
//! sign-in and a fresh proof by a texted code, and what must be refused — an invalid number,
//! a wrong, reused or expired code, a fourth message to a number in fifteen minutes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use porter_tests::*;
use serde_json::json;

/// A number of its own for each test (they share moto, and a number's limit).
const OFF: &str = "+447911123401";
const SIGN_IN: &str = "+447911123402";
const EXPIRED: &str = "+447911123403";
const LIMIT: &str = "+447911123404";
const LAST: &str = "+447911123405";

/// The code in the newest text message to `number`.
async fn texted_code(app: &TestApp, number: &str) -> String {
    let texts = app.texts_to(number).await;
    let last = texts.last().expect("a text message was sent");
    assert!(
        last.body.contains("It works once, for 5 minutes"),
        "{}",
        last.body
    );
    last.code().unwrap()
}

/// Ann, a ready admin (authenticator app), whose organisation allows text messages.
async fn ann_with_sms_allowed(app: &TestApp) -> (String, Browser<'_>) {
    let ann = app.address("ann");
    let (_, mut b) = app.ready_admin(&ann).await;
    let on = b
        .put("/api/config/signin/options", json!({ "sms_mfa": true }))
        .await;
    assert_eq!(on.status, 200, "{:?}", on.json);
    assert_eq!(on.json["sms_mfa"], true);
    (ann, b)
}

/// Adds `number` (E.164, typed as `typed`) to the signed-in browser's account with the
/// texted code.
async fn add_number(app: &TestApp, b: &mut Browser<'_>, typed: &str, number: &str) {
    let sent = b.post("/api/mfa/sms", json!({ "phone": typed })).await;
    assert_eq!(sent.status, 202, "{:?}", sent.json);
    let code = texted_code(app, number).await;
    let done = b
        .post("/api/mfa/sms/confirm", json!({ "code": code }))
        .await;
    assert_eq!(done.status, 200, "{:?}", done.json);
    assert_eq!(done.json["recovery_codes"].as_array().unwrap().len(), 10);
}

#[tokio::test]
async fn text_messages_are_off_until_the_organisation_allows_them() {
    let app = TestApp::spawn().await;
    let ann = app.address("ann");
    let (_, mut b) = app.ready_admin(&ann).await;
    let options = b.get("/api/config/signin/options").await;
    assert_eq!(options.json["sms_mfa"], false);
    assert_eq!(options.json["passkey_sign_in"], true);
    let refused = b.post("/api/mfa/sms", json!({ "phone": OFF })).await;
    assert_eq!((refused.status, refused.code()), (403, "sms_not_allowed"));
    assert!(app.texts_to(OFF).await.is_empty(), "nothing was sent");
}

#[tokio::test]
async fn a_confirmed_number_receives_a_code_that_completes_a_sign_in_once() {
    let app = TestApp::spawn().await;
    let (ann, mut b) = ann_with_sms_allowed(&app).await;
    add_number(&app, &mut b, "+44 7911 123402", SIGN_IN).await;
    let account = b.get("/api/account").await;
    assert_eq!(account.json["factors"]["phone"], "+44••••••••02");
    let item = app.scan().await;
    let user = item
        .iter()
        .find(|i| get_s(i, "phone") == Some(SIGN_IN))
        .expect("the number is stored in E.164");
    assert!(get_s(user, "phone_pending").is_none());

    let mut c = app.browser();
    assert_eq!(c.sign_in(&ann, PASSWORD).await.json["next"], "mfa_verify");
    // What the second step offers her: her own factors.
    let methods = c.get("/api/mfa/methods").await;
    assert_eq!(
        methods.json,
        json!({ "totp": true, "security_key": false, "sms": true, "sms_allowed": true })
    );
    let sent = c.post("/api/login/mfa", json!({ "method": "sms" })).await;
    assert_eq!(sent.status, 202, "{:?}", sent.json);
    assert_eq!(sent.json["phone"], "+44••••••••02");
    assert_eq!(sent.json["expires_in"], 300);
    let code = texted_code(&app, SIGN_IN).await;
    // Only an argon2id hash of the code is kept.
    let user = app.scan().await;
    let user = user
        .iter()
        .find(|i| get_s(i, "phone") == Some(SIGN_IN))
        .unwrap();
    assert!(get_s(user, "sms_hash").unwrap().starts_with("$argon2id$"));
    assert!(!format!("{user:?}").contains(&code));

    let wrong = c
        .post(
            "/api/login/mfa",
            json!({ "method": "sms", "code": "000000" }),
        )
        .await;
    assert_eq!((wrong.status, wrong.code()), (401, "invalid_code"));
    let right = c
        .post("/api/login/mfa", json!({ "method": "sms", "code": code }))
        .await;
    assert_eq!(right.status, 200, "{:?}", right.json);
    assert_eq!(c.get("/api/me").await.status, 200);

    // Used once: the same code in another sign-in is wrong.
    let mut d = app.browser();
    d.sign_in(&ann, PASSWORD).await;
    let again = d
        .post("/api/login/mfa", json!({ "method": "sms", "code": code }))
        .await;
    assert_eq!((again.status, again.code()), (401, "invalid_code"));
}

#[tokio::test]
async fn an_expired_code_or_an_invalid_number_is_refused() {
    let app = TestApp::spawn().await;
    let (ann, mut b) = ann_with_sms_allowed(&app).await;
    for bad in ["07911 123456", "+44 12", "not a number", "+999 1234567"] {
        let a = b.post("/api/mfa/sms", json!({ "phone": bad })).await;
        assert_eq!((a.status, a.code()), (422, "invalid_phone"), "{bad}");
    }
    add_number(&app, &mut b, EXPIRED, EXPIRED).await;
    let mut c = app.browser();
    c.sign_in(&ann, PASSWORD).await;
    c.post("/api/login/mfa", json!({ "method": "sms" })).await;
    let code = texted_code(&app, EXPIRED).await;
    let user = app.scan().await;
    let user = user
        .iter()
        .find(|i| get_s(i, "phone") == Some(EXPIRED))
        .unwrap();
    let (pk, sk) = (get_s(user, "pk").unwrap(), get_s(user, "sk").unwrap());
    app.set_numbers(pk.to_owned(), sk, &[("sms_expires", now() - 1)])
        .await;
    let late = c
        .post("/api/login/mfa", json!({ "method": "sms", "code": code }))
        .await;
    assert_eq!((late.status, late.code()), (401, "invalid_code"));
}

#[tokio::test]
async fn a_number_gets_at_most_three_texts_in_fifteen_minutes() {
    let app = TestApp::spawn().await;
    let (_, mut b) = ann_with_sms_allowed(&app).await;
    for _ in 0..3 {
        let a = b.post("/api/mfa/sms", json!({ "phone": LIMIT })).await;
        assert_eq!(a.status, 202, "{:?}", a.json);
    }
    let fourth = b.post("/api/mfa/sms", json!({ "phone": LIMIT })).await;
    assert_eq!((fourth.status, fourth.code()), (429, "throttled"));
    assert_eq!(app.texts_to(LIMIT).await.len(), 3);
}

#[tokio::test]
async fn the_phone_stays_usable_when_it_is_the_last_factor_left() {
    let app = TestApp::spawn().await;
    let (ann, mut b) = ann_with_sms_allowed(&app).await;
    add_number(&app, &mut b, LAST, LAST).await;
    // The change ended other sessions and rotated this one; a fresh proof by text.
    let sent = b
        .post("/api/account/reauth", json!({ "method": "sms" }))
        .await;
    assert_eq!(sent.status, 202, "{:?}", sent.json);
    let code = texted_code(&app, LAST).await;
    let proved = b
        .post(
            "/api/account/reauth",
            json!({ "method": "sms", "code": code }),
        )
        .await;
    assert_eq!(proved.status, 200, "{:?}", proved.json);
    let gone = b.delete("/api/account/totp").await;
    assert_eq!(gone.status, 200, "{:?}", gone.json);
    let last = b.delete("/api/account/phone").await;
    assert_eq!((last.status, last.code()), (409, "last_factor"));

    // The organisation stops allowing text messages: Ann, with nothing else, still signs in.
    let off = b
        .put("/api/config/signin/options", json!({ "sms_mfa": false }))
        .await;
    assert_eq!(off.json["sms_mfa"], false);
    let mut c = app.browser();
    assert_eq!(c.sign_in(&ann, PASSWORD).await.json["next"], "mfa_verify");
    let sent = c.post("/api/login/mfa", json!({ "method": "sms" })).await;
    assert_eq!(sent.status, 202, "{:?}", sent.json);
    let code = texted_code(&app, LAST).await;
    let right = c
        .post("/api/login/mfa", json!({ "method": "sms", "code": code }))
        .await;
    assert_eq!(right.status, 200, "{:?}", right.json);
}
