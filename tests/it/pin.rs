//! Sign-in with an emailed PIN, over HTTP against moto: the tenant setting, who gets a PIN
//! (and that the answer never says), single use, expiry, five tries per source, and activation
//! by PIN.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use porter_shared::tenants::Registration;
use porter_tests::*;
use serde_json::json;

async fn pin_from_outbox(app: &TestApp, to: &str) -> Option<String> {
    app.pin_from_outbox(to).await
}

fn pin_mails(mails: &[porter_dev::outbox::SentMail]) -> usize {
    mails
        .iter()
        .filter(|m| m.subject.contains("sign-in code"))
        .count()
}

/// A set-up organisation with PIN sign-in on; its admin's browser.
async fn pin_tenant(app: &TestApp) -> (Registration, Browser<'_>) {
    let (reg, mut admin) = app.ready_admin(&app.address("ann")).await;
    let on = admin
        .put("/api/config/signin", json!({ "email_pin": true }))
        .await;
    assert_eq!((on.status, &on.json), (200, &json!({ "email_pin": true })));
    (reg, admin)
}

#[tokio::test]
async fn the_setting_is_off_by_default_admin_only_and_audited() {
    let app = TestApp::spawn().await;
    let (_, mut admin) = app.ready_admin(&app.address("ann")).await;
    assert_eq!(
        admin.get("/api/config/signin").await.json,
        json!({ "email_pin": false })
    );
    let bad = admin
        .put("/api/config/signin", json!({ "email_pin": "yes" }))
        .await;
    assert_eq!(bad.status, 400);
    admin
        .put("/api/config/signin", json!({ "email_pin": true }))
        .await;
    assert!(admin
        .audit_actions()
        .await
        .contains(&"config.signin".to_owned()));
    let cora = app.address("cora");
    admin.add_user(&cora, "core").await;
    let mut core = app.ready_member(&cora).await;
    let refused = core
        .put("/api/config/signin", json!({ "email_pin": false }))
        .await;
    assert_eq!((refused.status, refused.code()), (403, "forbidden"));
}

#[tokio::test]
async fn a_pin_signs_in_once_and_still_asks_for_the_second_factor() {
    let app = TestApp::spawn().await;
    let (_, _) = pin_tenant(&app).await;
    let ann = app.address("ann");
    let mut b = app.browser_at("192.0.2.60");
    let asked = b
        .post("/api/login/pin/request", json!({ "email": ann }))
        .await;
    assert_eq!(asked.status, 202);
    let pin = pin_from_outbox(&app, &ann)
        .await
        .expect("a PIN was emailed");
    assert_eq!(pin.len(), 8);
    let mail = app.outbox(&ann).await.pop().unwrap();
    assert!(
        mail.body.contains(&format!("{} {}", &pin[..4], &pin[4..])),
        "grouped"
    );

    let a = b
        .post("/api/login/pin", json!({ "email": ann, "pin": pin }))
        .await;
    assert_eq!(
        (a.status, &a.json),
        (
            200,
            &json!({ "next": "mfa_verify", "path": "/login?step=mfa_verify" })
        )
    );
    let me = b.get("/api/me").await;
    assert_eq!(
        (me.status, me.code()),
        (403, "mfa_required"),
        "a password-level session"
    );
    let again = app
        .browser_at("192.0.2.61")
        .post("/api/login/pin", json!({ "email": ann, "pin": pin }))
        .await;
    assert_eq!((again.status, again.code()), (401, "invalid_credentials"));
    assert!(!app
        .scan()
        .await
        .iter()
        .any(|i| i.values().any(|v| v.as_s().is_ok_and(|s| s.contains(&pin)))));
}

#[tokio::test]
async fn a_new_pin_replaces_the_old_and_a_pin_expires() {
    let app = TestApp::spawn().await;
    pin_tenant(&app).await;
    let ann = app.address("ann");
    let mut b = app.browser();
    b.post("/api/login/pin/request", json!({ "email": ann }))
        .await;
    let first = pin_from_outbox(&app, &ann).await.unwrap();
    b.post("/api/login/pin/request", json!({ "email": ann }))
        .await;
    let second = pin_from_outbox(&app, &ann).await.unwrap();
    let old = b
        .post("/api/login/pin", json!({ "email": ann, "pin": first }))
        .await;
    assert_eq!(old.status, 401, "the older PIN died");

    // Ten minutes pass.
    let item = app
        .scan()
        .await
        .into_iter()
        .find(|i| get_s(i, "entity") == Some("pin"))
        .unwrap();
    app.set_numbers(
        get_s(&item, "pk").unwrap().to_owned(),
        "PIN",
        &[("expires_at", now() - 1)],
    )
    .await;
    let late = b
        .post("/api/login/pin", json!({ "email": ann, "pin": second }))
        .await;
    assert_eq!((late.status, late.code()), (401, "invalid_credentials"));
}

#[tokio::test]
async fn a_strangers_five_wrong_pins_leave_the_owners_pin_working() {
    let app = TestApp::spawn().await;
    pin_tenant(&app).await;
    let ann = app.address("ann");
    let mut owner = app.browser_at("192.0.2.10");
    owner
        .post("/api/login/pin/request", json!({ "email": ann }))
        .await;
    let pin = pin_from_outbox(&app, &ann).await.unwrap();
    let mut stranger = app.browser_at("198.51.100.10");
    for i in 0..5 {
        let wrong = format!("{:08}", (pin.parse::<u32>().unwrap() + 1 + i) % 100_000_000);
        let a = stranger
            .post("/api/login/pin", json!({ "email": ann, "pin": wrong }))
            .await;
        assert_eq!(a.status, 401);
    }
    // That source has had its five: even the right PIN gets nothing from there.
    let from_stranger = stranger
        .post("/api/login/pin", json!({ "email": ann, "pin": pin }))
        .await;
    assert!(
        matches!(from_stranger.status, 401 | 429),
        "{:?}",
        from_stranger.json
    );
    assert!(stranger.cookie.is_none());
    let right = owner
        .post("/api/login/pin", json!({ "email": ann, "pin": pin }))
        .await;
    assert_eq!(
        right.status, 200,
        "the owner's PIN survived: {:?}",
        right.json
    );
}

#[tokio::test]
async fn nobody_learns_who_may_get_a_pin_and_only_they_get_one() {
    let app = TestApp::spawn().await;
    // A tenant without PIN sign-in, and a PIN tenant.
    let (_, _) = app.ready_admin(&app.address("olga")).await;
    pin_tenant(&app).await;
    let ann = app.address("ann");
    let olga = app.address("olga");
    let ghost = app.address("ghost");
    let mut answers = Vec::new();
    for who in [&ann, &olga, &ghost] {
        let a = app
            .browser()
            .post("/api/login/pin/request", json!({ "email": who }))
            .await;
        answers.push((a.status, a.json));
    }
    assert!(answers.iter().all(|a| a == &answers[0]), "{answers:?}");
    assert_eq!(pin_mails(&app.outbox(&ann).await), 1);
    assert_eq!(
        pin_mails(&app.outbox(&olga).await),
        0,
        "PIN sign-in is off there"
    );
    assert_eq!(pin_mails(&app.outbox(&ghost).await), 0);
    let unknown = app
        .browser()
        .post(
            "/api/login/pin",
            json!({ "email": ghost, "pin": "12345678" }),
        )
        .await;
    let known = app
        .browser()
        .post(
            "/api/login/pin",
            json!({ "email": olga, "pin": "12345678" }),
        )
        .await;
    assert_eq!((unknown.status, &unknown.json), (known.status, &known.json));
    assert_eq!(unknown.code(), "invalid_credentials");
}

#[tokio::test]
async fn a_strangers_pin_requests_do_not_spend_the_owners_and_an_address_gets_ten_an_hour() {
    let app = TestApp::spawn().await;
    pin_tenant(&app).await;
    let ann = app.address("ann");
    let ask = |ip: String| {
        let app = &app;
        let ann = ann.clone();
        async move {
            let a = app
                .browser_at(&ip)
                .post("/api/login/pin/request", json!({ "email": ann }))
                .await;
            assert_eq!(a.status, 202, "always the same answer");
        }
    };
    // A stranger asks five times from one address: three mails, then nothing more from there.
    for _ in 0..5 {
        ask("198.51.100.30".into()).await;
    }
    assert_eq!(pin_mails(&app.outbox(&ann).await), 3);
    // The owner, from their own address, still gets theirs.
    ask("192.0.2.10".into()).await;
    assert_eq!(pin_mails(&app.outbox(&ann).await), 4);
    // Many addresses together: ten an hour, whatever the sources.
    for i in 0..10 {
        ask(format!("198.51.100.{}", 40 + i)).await;
    }
    assert_eq!(pin_mails(&app.outbox(&ann).await), 10);
}

#[tokio::test]
async fn an_invited_user_of_a_pin_tenant_activates_with_a_pin_and_enrols() {
    let app = TestApp::spawn().await;
    let (_, mut admin) = pin_tenant(&app).await;
    let cora = app.address("cora");
    admin.add_user(&cora, "core").await;
    let invitation = app.last_activation_token(&cora).await;
    let mut b = app.browser();
    b.post("/api/login/pin/request", json!({ "email": cora }))
        .await;
    let pin = pin_from_outbox(&app, &cora).await.unwrap();
    let a = b
        .post("/api/login/pin", json!({ "email": cora, "pin": pin }))
        .await;
    assert_eq!(
        (a.status, &a.json),
        (
            200,
            &json!({ "next": "mfa_enroll", "path": "/login?step=mfa_enroll" })
        )
    );
    b.enrol_totp_after_first_factor().await;
    assert_eq!(b.get("/api/me").await.json["user"]["email"], cora);
    let users = admin.get("/api/users").await;
    let status = users.json["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == cora.as_str())
        .unwrap()["status"]
        .clone();
    assert_eq!(status, "active");
    let link = answer(
        app.send(json_request(
            "/api/activation",
            &json!({ "token": invitation, "password": PASSWORD, "password_confirm": PASSWORD }),
        ))
        .await,
    );
    assert_eq!(
        link.status, 409,
        "the invitation was used up: {:?}",
        link.json
    );
}

#[tokio::test]
async fn wrong_pins_count_like_wrong_passwords() {
    let app = TestApp::spawn().await;
    pin_tenant(&app).await;
    let ann = app.address("ann");
    let mut b = app.browser();
    let mut statuses = Vec::new();
    for i in 0..8 {
        let a = b
            .post(
                "/api/login/pin",
                json!({ "email": ann, "pin": format!("{i:08}") }),
            )
            .await;
        statuses.push(a.status);
    }
    assert_eq!(&statuses[..5], &[401; 5]);
    assert_eq!(*statuses.last().unwrap(), 429, "{statuses:?}");
}
