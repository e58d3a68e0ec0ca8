//! DynamoDB requests per sign-in step, counted at a proxy in front of moto (what the SDK
//! really sends, not what the code seems to do). The bounds are today's counts: a change that
//! adds a request fails here and has to say why. `--nocapture` prints the figures.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use porter_tests::*;
use serde_json::json;

#[tokio::test]
async fn dynamodb_requests_per_step_stay_within_their_budget() {
    let app = TestApp::spawn().await;
    let outage = Outage::start(&app.moto).await;
    let via = app.through(&outage.url);
    let ann = via.address("ann");
    via.active_admin(&ann, PASSWORD).await;
    let (secret, _) = via.browser().enrol_totp(&ann).await;
    let mut b = via.browser_at("192.0.2.200");
    b.post("/api/login/identify", json!({ "email": ann })).await;
    outage.take_dynamodb();

    let mut report = Vec::new();
    let mut step = |name: &str, ops: Vec<String>, budget: usize| {
        println!("{name}: {} requests {ops:?}", ops.len());
        report.push((name.to_owned(), ops.len(), budget));
    };
    let a = b
        .post(
            "/api/login/password",
            json!({ "email": ann, "password": PASSWORD }),
        )
        .await;
    assert_eq!(a.status, 200);
    step("password step", outage.take_dynamodb(), 9);
    let code = oathtool(&secret, now() + 30);
    let a = b
        .post("/api/login/mfa", json!({ "method": "totp", "code": code }))
        .await;
    assert_eq!(a.status, 200);
    step("MFA step", outage.take_dynamodb(), 8);
    assert_eq!(b.get("/api/me").await.status, 200);
    step("GET /api/me", outage.take_dynamodb(), 5);
    assert_eq!(b.get("/api/account").await.status, 200);
    step("GET /api/account", outage.take_dynamodb(), 5);
    for (name, count, budget) in report {
        assert!(count <= budget, "{name}: {count} requests, budget {budget}");
    }
}
