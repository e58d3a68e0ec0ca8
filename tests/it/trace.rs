//! With every crate tracing at `trace` level, a whole journey (invitation, activation, sign-in,
//! TOTP enrolment, a code, a reset link) leaves no password, token, session id, TOTP secret or
//! code, or recovery code in the output.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use porter_tests::*;
use serde_json::json;

#[tokio::test]
async fn tracing_at_trace_level_never_prints_a_password_a_token_a_cookie_or_a_code() {
    let captured = CapturedLog::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("trace"))
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .init();

    let app = TestApp::spawn().await;
    let ann = app.address("ann");
    app.register("Acme", &ann).await;
    let activation = app.last_activation_token(&ann).await;
    app.activate(&ann).await;
    let mut b = app.browser();
    let (secret, recovery) = b.enrol_totp(&ann).await;
    let session = b.cookie.clone().unwrap();
    let mut c = app.browser();
    c.sign_in(&ann, PASSWORD).await;
    let code = oathtool(&secret, now() + 30);
    let a = c
        .post("/api/login/mfa", json!({ "method": "totp", "code": code }))
        .await;
    assert_eq!(a.status, 200);
    let forgot = c
        .post("/api/password/forgot", json!({ "email": ann }))
        .await;
    assert_eq!(forgot.status, 202);
    let reset_mail = app.outbox(&ann).await.pop().unwrap();
    let reset_link = reset_mail.link_to("/reset?token=").unwrap();
    let reset_token = reset_link.rsplit('=').next().unwrap().to_owned();

    let out = captured.text();
    assert!(
        out.len() > 10_000,
        "trace output was captured: {}",
        out.len()
    );
    let session_id = session.split_once('=').unwrap().1.to_owned();
    let mut secrets = vec![
        ("password", PASSWORD.to_owned()),
        ("activation token", activation),
        ("reset token", reset_token),
        ("session id", session_id),
        ("totp secret", secret),
        // Six digits alone could turn up in any number; as a value they would not.
        ("totp code", format!("\"{code}\"")),
        ("totp code", format!("code={code}")),
    ];
    secrets.extend(recovery.into_iter().map(|r| ("recovery code", r)));
    for (what, value) in secrets {
        assert!(!out.contains(&value), "the {what} is in the trace output");
    }
}
