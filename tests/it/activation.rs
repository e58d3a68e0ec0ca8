//! Journey 1–3 against moto: register a tenant, read the invitation back from SES, activate.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use porter_shared::credentials::password::verify_blocking;
use porter_shared::domain::TokenHash;
use porter_shared::store::keys;
use porter_tests::*;
use serde_json::json;
use sha2::{Digest, Sha256};

const PASSWORD: &str = "tangerine orbit kettle 94";

async fn activate(app: &TestApp, token: &str, password: &str, confirm: &str) -> Answer {
    let body = json!({ "token": token, "password": password, "password_confirm": confirm });
    answer(activate::handle(&app.state, json_request("/api/activation", &body)).await)
}

async fn resend(app: &TestApp, token: &str) -> Answer {
    answer(
        activate::handle(
            &app.state,
            json_request("/api/activation/resend", &json!({ "token": token })),
        )
        .await,
    )
}

fn token_pk(raw: &str) -> String {
    keys::token_pk(&TokenHash::of_presented(raw).unwrap())
}

/// Moves an invitation back in time by `secs`, as if it had been sent that long ago.
async fn age_invitation(
    app: &TestApp,
    reg: &porter_shared::tenants::Registration,
    token: &str,
    secs: i64,
) {
    let pk = keys::tenant_pk(&reg.tenant);
    let sk = keys::user_sk(&reg.admin);
    let user = app.item(pk.clone(), &sk).await.unwrap();
    app.set_numbers(
        pk,
        &sk,
        &[("invited_at", get_n(&user, "invited_at").unwrap() - secs)],
    )
    .await;
    let tok = app.item(token_pk(token), "TOKEN").await.unwrap();
    app.set_numbers(
        token_pk(token),
        "TOKEN",
        &[("expires_at", get_n(&tok, "expires_at").unwrap() - secs)],
    )
    .await;
}

async fn user_item(app: &TestApp, reg: &porter_shared::tenants::Registration) -> Item {
    app.item(keys::tenant_pk(&reg.tenant), &keys::user_sk(&reg.admin))
        .await
        .unwrap()
}

#[tokio::test]
async fn the_emailed_link_activates_the_account_with_an_argon2id_hash() {
    let app = TestApp::spawn().await;
    let ann = app.address("ann");
    let reg = app.register("Acme", &ann).await;
    let mails = app.outbox(&ann).await;
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].subject, "Welcome to Porter");
    assert_eq!(mails[0].from, "no-reply@porter.test");
    assert!(mails[0].body.contains("expires on"), "{}", mails[0].body);
    let token = app.last_activation_token(&ann).await;

    let a = activate(&app, &token, PASSWORD, PASSWORD).await;
    assert_eq!(a.status, 200, "{:?}", a.json);
    assert_eq!(a.json["status"], "active");
    assert_eq!(a.headers["cache-control"], "no-store");

    let user = user_item(&app, &reg).await;
    assert_eq!(get_s(&user, "status"), Some("active"));
    let hash = get_s(&user, "password_hash").unwrap();
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    assert!(verify_blocking(PASSWORD, hash));
    assert_eq!(
        get_s(&user, "pending_token"),
        None,
        "no working link remains"
    );
    let tok = app.item(token_pk(&token), "TOKEN").await.unwrap();
    assert_eq!(get_bool(&tok, "used"), Some(true));

    let audit: Vec<_> = app
        .scan()
        .await
        .into_iter()
        .filter(|i| get_s(i, "entity") == Some("audit"))
        .map(|i| get_s(&i, "action").unwrap().to_owned())
        .collect();
    assert!(audit.contains(&"user.activate".to_owned()), "{audit:?}");
}

#[tokio::test]
async fn only_the_hash_of_the_token_and_of_the_password_are_stored() {
    let app = TestApp::spawn().await;
    let ann = app.address("ann");
    app.register("Acme", &ann).await;
    let token = app.last_activation_token(&ann).await;
    assert_eq!(activate(&app, &token, PASSWORD, PASSWORD).await.status, 200);

    let dump = format!("{:?}", app.scan().await);
    assert!(!dump.contains(&token), "the raw token is stored somewhere");
    assert!(!dump.contains(PASSWORD), "the password is stored in clear");
    assert!(dump.contains(&hex::encode(Sha256::digest(token.as_bytes()))));
}

#[tokio::test]
async fn a_used_link_answers_409_and_points_to_sign_in() {
    let app = TestApp::spawn().await;
    let ann = app.address("ann");
    app.register("Acme", &ann).await;
    let token = app.last_activation_token(&ann).await;
    assert_eq!(activate(&app, &token, PASSWORD, PASSWORD).await.status, 200);

    let again = activate(
        &app,
        &token,
        "another fine passphrase 7",
        "another fine passphrase 7",
    )
    .await;
    assert_eq!(again.status, 409);
    assert_eq!(again.code(), "token_used");
    assert!(again.json["error"]["message"]
        .as_str()
        .unwrap()
        .contains("Sign in"));
}

#[tokio::test]
async fn two_simultaneous_uses_of_one_link_activate_once() {
    let app = TestApp::spawn().await;
    let ann = app.address("ann");
    let reg = app.register("Acme", &ann).await;
    let token = app.last_activation_token(&ann).await;
    let (a, b) = tokio::join!(
        activate(&app, &token, PASSWORD, PASSWORD),
        activate(
            &app,
            &token,
            "second racing passphrase 3",
            "second racing passphrase 3"
        ),
    );
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [200, 409]);
    let user = user_item(&app, &reg).await;
    let winner = if a.status == 200 {
        PASSWORD
    } else {
        "second racing passphrase 3"
    };
    assert!(verify_blocking(
        winner,
        get_s(&user, "password_hash").unwrap()
    ));
}

#[tokio::test]
async fn expired_invitation_link_offers_a_new_one() {
    let app = TestApp::spawn().await;
    let ann = app.address("ann");
    let reg = app.register("Acme", &ann).await;
    let old = app.last_activation_token(&ann).await;
    age_invitation(&app, &reg, &old, 2 * 24 * 3600).await;

    let expired = activate(&app, &old, PASSWORD, PASSWORD).await;
    assert_eq!(expired.status, 410);
    assert_eq!(expired.code(), "token_expired");

    let r = resend(&app, &old).await;
    assert_eq!(r.status, 202, "{:?}", r.json);
    let mails = app.outbox(&ann).await;
    assert_eq!(
        mails.len(),
        2,
        "a fresh link was emailed to the invited address"
    );
    let fresh = app.last_activation_token(&ann).await;
    assert_ne!(fresh, old);

    assert_eq!(
        activate(&app, &old, PASSWORD, PASSWORD).await.code(),
        "token_expired",
        "the old link stays dead"
    );
    assert_eq!(activate(&app, &fresh, PASSWORD, PASSWORD).await.status, 200);
    assert_eq!(
        get_s(&user_item(&app, &reg).await, "status"),
        Some("active")
    );
}

#[tokio::test]
async fn a_new_link_kills_the_previous_one_even_before_it_expires() {
    let app = TestApp::spawn().await;
    let ann = app.address("ann");
    let reg = app.register("Acme", &ann).await;
    let old = app.last_activation_token(&ann).await;
    age_invitation(&app, &reg, &old, 120).await;
    assert_eq!(resend(&app, &old).await.status, 202);
    let fresh = app.last_activation_token(&ann).await;

    let a = activate(&app, &old, PASSWORD, PASSWORD).await;
    assert_eq!((a.status, a.code()), (410, "token_expired"));
    assert_eq!(activate(&app, &fresh, PASSWORD, PASSWORD).await.status, 200);
}

#[tokio::test]
async fn asking_for_new_links_too_often_is_throttled() {
    let app = TestApp::spawn().await;
    let ann = app.address("ann");
    app.register("Acme", &ann).await;
    let token = app.last_activation_token(&ann).await;
    let r = resend(&app, &token).await;
    assert_eq!((r.status, r.code()), (429, "throttled"));
    let wait: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    assert_eq!(app.outbox(&ann).await.len(), 1, "no second email");
}

#[tokio::test]
async fn resend_tells_a_guesser_nothing() {
    let app = TestApp::spawn().await;
    let unknown = "ab".repeat(32);
    for token in [unknown.as_str(), "junk", ""] {
        let r = resend(&app, token).await;
        assert_eq!(r.status, 202, "{token:?}");
    }
}

#[tokio::test]
async fn a_failed_invitation_email_loses_nothing() {
    let app = TestApp::spawn().await;
    let ann = app.address("ann");
    let reg = app.register("Acme", &ann).await;
    let old = app.last_activation_token(&ann).await;
    age_invitation(&app, &reg, &old, 120).await;

    // SES refuses an unverified sender: the resend fails after the new link was stored.
    let broken = app.with_config(|c| c.mail_from = "nobody@unverified.test".into());
    let failed = answer(
        activate::handle(
            &broken,
            json_request("/api/activation/resend", &json!({ "token": old })),
        )
        .await,
    );
    assert_eq!((failed.status, failed.code()), (503, "mail_unavailable"));
    assert_eq!(app.outbox(&ann).await.len(), 1);

    // Asking again right away works: the failed attempt does not count against the person.
    assert_eq!(resend(&app, &old).await.status, 202);
    let fresh = app.last_activation_token(&ann).await;
    assert_eq!(activate(&app, &fresh, PASSWORD, PASSWORD).await.status, 200);
}

#[tokio::test]
async fn an_unknown_or_malformed_token_answers_404() {
    let app = TestApp::spawn().await;
    for token in ["cd".repeat(32), "not-a-token".to_owned(), String::new()] {
        let a = activate(&app, &token, PASSWORD, PASSWORD).await;
        assert_eq!((a.status, a.code()), (404, "token_invalid"), "{token:?}");
    }
}

#[tokio::test]
async fn bad_input_gets_a_clear_json_error_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let ann = app.address("ann");
    let reg = app.register("Acme", &ann).await;
    let token = app.last_activation_token(&ann).await;
    let before = app.scan().await.len();
    let handle = |req| activate::handle(&app.state, req);

    let cases: Vec<(lambda_http::Request, u16, &str)> = vec![
        (
            json_request(
                "/api/activation",
                &json!({ "password": PASSWORD, "password_confirm": PASSWORD }),
            ),
            400,
            "invalid_request",
        ),
        (
            request(
                "POST",
                "/api/activation",
                Some("application/json"),
                "{\"token\": ",
            ),
            400,
            "malformed_json",
        ),
        (
            request(
                "POST",
                "/api/activation",
                Some("application/json"),
                "x".repeat(1024 * 1024),
            ),
            413,
            "payload_too_large",
        ),
        (
            request(
                "POST",
                "/api/activation",
                Some("text/plain"),
                json!({ "token": token }).to_string(),
            ),
            415,
            "unsupported_media_type",
        ),
        (
            request(
                "POST",
                "/api/activation",
                None,
                json!({ "token": token }).to_string(),
            ),
            415,
            "unsupported_media_type",
        ),
        (
            json_request(
                "/api/activation",
                &json!({ "token": token, "password": PASSWORD, "password_confirm": "tangerine orbit kettle 95" }),
            ),
            422,
            "password_mismatch",
        ),
        (
            json_request(
                "/api/activation",
                &json!({ "token": token, "password": "short", "password_confirm": "short" }),
            ),
            422,
            "password_weak",
        ),
        (
            json_request(
                "/api/activation",
                &json!({ "token": token, "password": "password1234", "password_confirm": "password1234" }),
            ),
            422,
            "password_weak",
        ),
        (
            json_request(
                "/api/activation",
                &json!({ "token": 42, "password": PASSWORD, "password_confirm": PASSWORD }),
            ),
            400,
            "invalid_request",
        ),
        (
            request("GET", "/api/activation", None, ""),
            405,
            "method_not_allowed",
        ),
    ];
    for (req, status, code) in cases {
        let a = answer(handle(req).await);
        assert_eq!((a.status, a.code()), (status, code), "{:?}", a.json);
        assert!(!a.json["error"]["message"].as_str().unwrap().is_empty());
        assert_eq!(a.headers["content-type"], "application/json");
    }

    assert_eq!(app.scan().await.len(), before, "nothing was written");
    let user = user_item(&app, &reg).await;
    assert_eq!(get_s(&user, "status"), Some("invited"));
    assert_eq!(get_s(&user, "password_hash"), None);
    assert_eq!(
        get_bool(&app.item(token_pk(&token), "TOKEN").await.unwrap(), "used"),
        Some(false)
    );
}

#[tokio::test]
async fn a_weak_password_is_explained() {
    let app = TestApp::spawn().await;
    let ann = app.address("ann");
    app.register("Acme", &ann).await;
    let token = app.last_activation_token(&ann).await;
    let a = activate(&app, &token, "short", "short").await;
    assert_eq!(a.json["error"]["message"], "Use at least 12 characters.");
    let a = activate(&app, &token, &format!("{ann}2024"), &format!("{ann}2024")).await;
    assert_eq!(a.code(), "password_weak");
    assert!(a.json["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("This password is too easy to guess."));
}

#[tokio::test]
async fn a_cross_site_post_is_refused() {
    let app = TestApp::spawn().await;
    let ann = app.address("ann");
    app.register("Acme", &ann).await;
    let token = app.last_activation_token(&ann).await;
    let mut req = json_request(
        "/api/activation",
        &json!({ "token": token, "password": PASSWORD, "password_confirm": PASSWORD }),
    );
    req.headers_mut()
        .insert("origin", "https://evil.test".parse().unwrap());
    let a = answer(activate::handle(&app.state, req).await);
    assert_eq!((a.status, a.code()), (403, "forbidden_origin"));

    let mut req = json_request(
        "/api/activation",
        &json!({ "token": token, "password": PASSWORD, "password_confirm": PASSWORD }),
    );
    req.headers_mut()
        .insert("origin", BASE_URL.parse().unwrap());
    assert_eq!(
        answer(activate::handle(&app.state, req).await).status,
        200,
        "our own origin is welcome"
    );
}

/// The token of the newest reset link emailed to `to`, after asking for one.
async fn reset_token(app: &TestApp, to: &str) -> String {
    let a = answer(
        app.send(json_request(
            "/api/password/forgot",
            &json!({ "email": to }),
        ))
        .await,
    );
    assert_eq!(a.status, 202);
    let mails = app.outbox(to).await;
    let link = mails
        .last()
        .and_then(|m| m.link_to("/reset?token="))
        .unwrap();
    link.rsplit('=').next().unwrap().to_owned()
}

async fn reset(app: &TestApp, token: &str) -> Answer {
    let body = json!({ "token": token, "password": "lantern meadow copper 31", "password_confirm": "lantern meadow copper 31" });
    answer(app.send(json_request("/api/password/reset", &body)).await)
}

#[tokio::test]
async fn a_reset_link_cannot_activate_and_an_invitation_cannot_reset() {
    let app = TestApp::spawn().await;
    let ann = app.address("ann");
    let bob = app.address("bob");
    app.active_admin(&ann, PASSWORD).await;
    app.register("Other", &bob).await;
    let invitation = app.last_activation_token(&bob).await;
    let reset_link = reset_token(&app, &ann).await;
    let a = activate(&app, &reset_link, PASSWORD, PASSWORD).await;
    assert_eq!((a.status, a.code()), (404, "token_invalid"));
    let r = reset(&app, &invitation).await;
    assert_eq!((r.status, r.code()), (404, "token_invalid"));
    // Both still work for what they are.
    assert_eq!(
        activate(&app, &invitation, PASSWORD, PASSWORD).await.status,
        200
    );
    assert_eq!(reset(&app, &reset_link).await.status, 200);
}

#[tokio::test]
async fn a_reset_link_expires_after_an_hour_and_a_newer_one_kills_the_older() {
    let app = TestApp::spawn().await;
    let ann = app.address("ann");
    let reg = app.active_admin(&ann, PASSWORD).await;
    let first = reset_token(&app, &ann).await;
    let tok = app.item(token_pk(&first), "TOKEN").await.unwrap();
    let created = get_n(&tok, "created_at").unwrap();
    assert_eq!(
        get_n(&tok, "expires_at").unwrap() - created,
        3600,
        "one hour"
    );
    app.set_numbers(token_pk(&first), "TOKEN", &[("expires_at", now() - 1)])
        .await;
    let r = reset(&app, &first).await;
    assert_eq!((r.status, r.code()), (410, "token_expired"));

    // A newer link, once the minute between emails has passed, replaces the older.
    let sk = keys::user_sk(&reg.admin);
    app.set_numbers(pk_of(&reg), &sk, &[("reset_sent_at", now() - 120)])
        .await;
    let second = reset_token(&app, &ann).await;
    assert_ne!(second, first);
    app.set_numbers(pk_of(&reg), &sk, &[("reset_sent_at", now() - 120)])
        .await;
    let third = reset_token(&app, &ann).await;
    let older = reset(&app, &second).await;
    assert_eq!(
        (older.status, older.code()),
        (410, "token_expired"),
        "replaced by a newer link"
    );
    assert_eq!(reset(&app, &third).await.status, 200);
}

fn pk_of(reg: &porter_shared::tenants::Registration) -> String {
    keys::tenant_pk(&reg.tenant)
}

#[tokio::test]
async fn resending_a_used_invitation_sends_nothing() {
    let app = TestApp::spawn().await;
    let ann = app.address("ann");
    app.register("Acme", &ann).await;
    let token = app.last_activation_token(&ann).await;
    assert_eq!(activate(&app, &token, PASSWORD, PASSWORD).await.status, 200);
    let before = app.outbox(&ann).await.len();
    let r = resend(&app, &token).await;
    assert_eq!(r.status, 202, "the same answer as for anything else");
    assert_eq!(app.outbox(&ann).await.len(), before, "no email");
}

#[tokio::test]
async fn resend_answers_a_guesser_with_the_very_same_body() {
    let app = TestApp::spawn().await;
    let ann = app.address("ann");
    let reg = app.register("Acme", &ann).await;
    let real = app.last_activation_token(&ann).await;
    age_invitation(&app, &reg, &real, 120).await;
    let real_answer = resend(&app, &real).await;
    let junk = resend(&app, &"0".repeat(64)).await;
    let malformed = resend(&app, "nope").await;
    assert_eq!(real_answer.status, 202);
    assert_eq!(real_answer.json, junk.json);
    assert_eq!(junk.json, malformed.json);
}
