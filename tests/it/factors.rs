//! Changing a second factor is a privileged act: a recent proof (403 `reauth_required`
//! otherwise), the end of every other session, a new id for this one, and an email.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use porter_tests::*;
use serde_json::json;

/// An admin (organisation set up) signed in with TOTP in two browsers; with the TOTP secret
/// and the recovery codes.
async fn admin_in_two_browsers(
    app: &TestApp,
) -> (String, String, Vec<String>, Browser<'_>, Browser<'_>) {
    let ann = app.address("ann");
    app.active_admin(&ann, PASSWORD).await;
    let mut first = app.browser();
    let (secret, recovery) = first.enrol_totp(&ann).await;
    let setup = first
        .post("/api/setup", json!({ "organisation_name": "Acme Ltd" }))
        .await;
    assert_eq!(setup.status, 200);
    let mut second = app.browser_at("192.0.2.44");
    second.sign_in(&ann, PASSWORD).await;
    let code = oathtool(&secret, now() + 30);
    let a = second
        .post("/api/login/mfa", json!({ "method": "totp", "code": code }))
        .await;
    assert_eq!(a.status, 200, "{:?}", a.json);
    (ann, secret, recovery, first, second)
}

fn codes(a: &Answer) -> Vec<String> {
    a.json["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn after_five_minutes_every_change_of_factors_asks_for_a_fresh_proof() {
    let app = TestApp::spawn().await;
    let ann = app.address("ann");
    app.active_admin(&ann, PASSWORD).await;
    let mut b = app.browser();
    let (secret, _) = b.enrol_totp(&ann).await;
    let setup = b
        .post("/api/setup", json!({ "organisation_name": "Acme Ltd" }))
        .await;
    assert_eq!(setup.status, 200);
    b.age_proof(301).await;
    for path in [
        "/api/mfa/totp",
        "/api/mfa/webauthn/options",
        "/api/account/recovery-codes",
    ] {
        let a = b.post(path, json!({})).await;
        assert_eq!((a.status, a.code()), (403, "reauth_required"), "{path}");
    }
    assert_eq!(
        b.get("/api/me").await.status,
        200,
        "the session itself is fine"
    );

    let wrong = b
        .post(
            "/api/account/reauth",
            json!({ "method": "totp", "code": "000000" }),
        )
        .await;
    assert_eq!((wrong.status, wrong.code()), (401, "invalid_code"));
    let right = b
        .post(
            "/api/account/reauth",
            json!({ "method": "totp", "code": oathtool(&secret, now() + 30) }),
        )
        .await;
    assert_eq!(right.status, 200, "{:?}", right.json);
    assert_eq!(right.json["valid_for_secs"], 300);
    let start = b.post("/api/mfa/totp", json!({})).await;
    assert_eq!(start.status, 200, "{:?}", start.json);
    assert!(b
        .audit_actions()
        .await
        .contains(&"account.reauth".to_owned()));
}

#[tokio::test]
async fn a_recovery_code_is_a_proof_too_and_is_spent_by_it() {
    let app = TestApp::spawn().await;
    let ann = app.address("ann");
    app.active_admin(&ann, PASSWORD).await;
    let mut b = app.browser();
    let (_, recovery) = b.enrol_totp(&ann).await;
    b.age_proof(600).await;
    let proof = json!({ "method": "recovery", "code": recovery[0] });
    assert_eq!(
        b.post("/api/account/reauth", proof.clone()).await.status,
        200
    );
    assert_eq!(
        b.post("/api/account/reauth", proof).await.status,
        401,
        "a recovery code works once"
    );
}

#[tokio::test]
async fn new_recovery_codes_end_other_sessions_renew_this_one_and_email_the_user() {
    let app = TestApp::spawn().await;
    let (ann, _, _, mut b, mut other) = admin_in_two_browsers(&app).await;
    let old_cookie = b.cookie.clone().unwrap();
    let mails_before = app.outbox(&ann).await.len();

    let a = b.post("/api/account/recovery-codes", json!({})).await;
    assert_eq!(a.status, 200, "{:?}", a.json);
    let fresh = codes(&a);
    assert_eq!(fresh.len(), 10);
    assert_ne!(b.cookie.as_ref().unwrap(), &old_cookie, "a new session id");
    assert_eq!(b.get("/api/me").await.status, 200, "this session goes on");
    let me_other = other.get("/api/me").await;
    assert_eq!(
        (me_other.status, me_other.code()),
        (401, "unauthenticated"),
        "every other session ended"
    );
    let mut stale = app.browser();
    stale.cookie = Some(old_cookie);
    assert_eq!(
        stale.get("/api/me").await.status,
        401,
        "the old id is worth nothing"
    );

    let mails = app.outbox(&ann).await;
    assert_eq!(mails.len(), mails_before + 1, "{mails:?}");
    let notice = mails.last().unwrap();
    assert!(
        notice.subject.contains("sign-in methods changed"),
        "{notice:?}"
    );
    assert!(notice.body.contains("recovery codes"), "{notice:?}");
    for code in &fresh {
        assert!(!notice.body.contains(code.as_str()), "no code by email");
    }
    assert!(b
        .audit_actions()
        .await
        .contains(&"mfa.recovery_codes".to_owned()));

    // The new codes sign in; the new set replaced the old.
    let mut c = app.browser_at("192.0.2.45");
    c.sign_in(&ann, PASSWORD).await;
    let r = c
        .post(
            "/api/login/mfa",
            json!({ "method": "recovery", "code": fresh[3] }),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.json);
}

#[tokio::test]
async fn replacing_the_authenticator_app_retires_the_old_one_and_its_recovery_codes() {
    let app = TestApp::spawn().await;
    let (ann, _, old_codes, mut b, mut other) = admin_in_two_browsers(&app).await;
    let sealed = |items: Vec<Item>| {
        items
            .into_iter()
            .find_map(|i| get_s(&i, "totp_sealed").map(str::to_owned))
            .unwrap()
    };
    let old_seed = sealed(app.scan().await);
    let start = b.post("/api/mfa/totp", json!({})).await;
    assert_eq!(start.status, 200);
    let new_secret = start.json["secret"].as_str().unwrap().to_owned();
    let done = b
        .post(
            "/api/mfa/totp/confirm",
            json!({ "code": oathtool(&new_secret, now()) }),
        )
        .await;
    assert_eq!(done.status, 200, "{:?}", done.json);
    assert_eq!(done.json["next"], "done");
    assert_ne!(
        sealed(app.scan().await),
        old_seed,
        "the old app's seed is gone"
    );
    assert_eq!(other.get("/api/me").await.status, 401);
    let notice = app.outbox(&ann).await.pop().unwrap();
    assert!(
        notice.body.contains("authenticator app was replaced"),
        "{notice:?}"
    );

    let mut c = app.browser_at("192.0.2.46");
    c.sign_in(&ann, PASSWORD).await;
    let old = c
        .post(
            "/api/login/mfa",
            json!({ "method": "recovery", "code": old_codes[0] }),
        )
        .await;
    assert_eq!(old.status, 401, "the old recovery codes no longer work");
    let new = c
        .post(
            "/api/login/mfa",
            json!({ "method": "totp", "code": oathtool(&new_secret, now() + 30) }),
        )
        .await;
    assert_eq!(new.status, 200, "{:?}", new.json);
}

#[tokio::test]
async fn the_first_enrolment_needs_no_proof_and_sends_no_notice() {
    let app = TestApp::spawn().await;
    let ann = app.address("ann");
    app.active_admin(&ann, PASSWORD).await;
    let before = app.outbox(&ann).await.len();
    app.browser().enrol_totp(&ann).await;
    assert_eq!(app.outbox(&ann).await.len(), before);
}

#[tokio::test]
async fn reauthentication_needs_a_full_session() {
    let app = TestApp::spawn().await;
    let ann = app.address("ann");
    app.active_admin(&ann, PASSWORD).await;
    app.browser().enrol_totp(&ann).await;
    let mut b = app.browser();
    b.sign_in(&ann, PASSWORD).await;
    let a = b
        .post(
            "/api/account/reauth",
            json!({ "method": "totp", "code": "123456" }),
        )
        .await;
    assert_eq!((a.status, a.code()), (403, "mfa_required"));
    let signed_out = app
        .browser()
        .post("/api/account/recovery-codes", json!({}))
        .await;
    assert_eq!(
        (signed_out.status, signed_out.code()),
        (401, "unauthenticated")
    );
}
