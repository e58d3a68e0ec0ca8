//! No breached passwords: activation, reset and change look the new password up in a
//! k-anonymity range service (a stand-in on loopback over a small list). Only five hex
//! digits of its SHA-1 leave Porter, with `Add-Padding: true`; an unreachable or silent
//! service holds nobody up.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use porter_dev::breached::BREACHED;
use porter_tests::*;
use serde_json::json;
use std::sync::{Arc, Mutex};

fn set(token: &str, password: &str) -> serde_json::Value {
    json!({ "token": token, "password": password, "password_confirm": password })
}

#[tokio::test]
async fn a_breached_password_is_refused_at_activation_reset_and_change() {
    let app = TestApp::spawn().await;
    let ann = app.address("ann");
    app.register("Acme", &ann).await;
    let token = app.last_activation_token(&ann).await;
    let refused = answer(
        app.send(json_request("/api/activation", &set(&token, BREACHED[0])))
            .await,
    );
    assert_eq!(refused.status, 422, "{:?}", refused.json);
    assert_eq!(refused.code(), "password_breached");
    assert_eq!(
        refused.json["error"]["message"],
        "This password has appeared in a data breach; choose another."
    );
    // Nothing was spent: the same link still activates with another password.
    let ok = answer(
        app.send(json_request("/api/activation", &set(&token, PASSWORD)))
            .await,
    );
    assert_eq!(ok.status, 200, "{:?}", ok.json);

    let mut b = app.browser();
    b.enrol_totp(&ann).await;
    let change = b
        .post(
            "/api/account/password",
            json!({ "current_password": PASSWORD, "password": BREACHED[1], "password_confirm": BREACHED[1] }),
        )
        .await;
    assert_eq!((change.status, change.code()), (422, "password_breached"));

    b.post("/api/password/forgot", json!({ "email": ann }))
        .await;
    let mail = app.outbox(&ann).await.pop().unwrap();
    let link = mail.link_to("/reset?token=").unwrap();
    let reset_token = link.rsplit('=').next().unwrap().to_owned();
    let reset = b
        .post("/api/password/reset", set(&reset_token, BREACHED[0]))
        .await;
    assert_eq!((reset.status, reset.code()), (422, "password_breached"));
    let reset = b
        .post(
            "/api/password/reset",
            set(&reset_token, "a fresh and quiet meadow 19"),
        )
        .await;
    assert_eq!(reset.status, 200, "{:?}", reset.json);
}

/// What a range server was asked: each path, with its `Add-Padding` header.
type Asked = Arc<Mutex<Vec<(String, Option<String>)>>>;

/// A range server that records what it was asked, and answers `body`.
async fn recording(body: &'static str) -> (String, Asked) {
    use axum::extract::State;
    use axum::http::{HeaderMap, Uri};
    let seen: Asked = Arc::default();
    let app = axum::Router::new()
        .fallback(
            move |State(seen): State<Asked>, uri: Uri, headers: HeaderMap| async move {
                let padding = headers
                    .get("add-padding")
                    .map(|v| v.to_str().unwrap().to_owned());
                seen.lock().unwrap().push((uri.path().to_owned(), padding));
                body
            },
        )
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/range/", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, seen)
}

#[tokio::test]
async fn only_five_hex_digits_of_the_password_hash_leave_porter() {
    let (url, seen) = recording("").await;
    let app = TestApp::spawn_with(|c| c.breached_passwords_url = url).await;
    let ann = app.address("ann");
    app.active_admin(&ann, PASSWORD).await;
    let asked = seen.lock().unwrap().clone();
    assert_eq!(asked.len(), 1, "{asked:?}");
    let (path, padding) = &asked[0];
    let prefix = path.strip_prefix("/range/").unwrap();
    assert_eq!(prefix.len(), 5);
    assert!(prefix.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(padding.as_deref(), Some("true"));
    assert!(!path.contains(PASSWORD) && !path.contains(&PASSWORD.replace(' ', "%20")));
}

#[tokio::test]
async fn an_unreachable_or_silent_service_does_not_hold_the_person_up() {
    // Nothing listens: refused at once.
    let app = TestApp::spawn_with(|c| {
        c.breached_passwords_url = "http://127.0.0.1:9/range/".into(); // pragma: allowlist secret
    })
    .await;
    app.active_admin(&app.address("ann"), PASSWORD).await;

    // Accepts the connection and never answers: given up after 1.5 s.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/range/", silent.local_addr().unwrap());
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            open.push(socket);
        }
    });
    let app = TestApp::spawn_with(|c| c.breached_passwords_url = url).await;
    // A guard against hanging, not a measure of speed: the lookup gives up after 1.5 s.
    tokio::time::timeout(
        std::time::Duration::from_secs(30),
        app.active_admin(&app.address("bea"), PASSWORD),
    )
    .await
    .expect("a silent breach service held the activation up");
    held.abort();

    // An answer that is not a range: accepted too.
    let (url, _) = recording("<html>maintenance</html>").await;
    let app = TestApp::spawn_with(|c| c.breached_passwords_url = url).await;
    app.active_admin(&app.address("cy"), PASSWORD).await;
}
