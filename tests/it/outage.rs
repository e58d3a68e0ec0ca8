//! Dependencies down: with AWS answering 503 (through a proxy in front of moto), every route
//! answers 503 `service_unavailable` in the error shape, quickly, never a panic; when AWS is
//! back nothing was left half-written.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use porter_dev::routes::RouteTable;
use porter_tests::*;
use serde_json::json;
use std::time::Duration;

/// A body with every field some route reads, valid enough to get past parsing.
fn body_for(path: &str) -> serde_json::Value {
    let email = "someone@example.test";
    let mut b = json!({
        "email": email, "password": PASSWORD, "password_confirm": PASSWORD,
        "token": "ab".repeat(32), "code": "123456", "method": "totp", "pin": "12345678",
        "role": "core", "organisation_name": "Acme Ltd", "current_password": PASSWORD,
    });
    if path == "/api/login/passkey" {
        // A well-formed answer: its challenge is looked up first.
        let client_data = URL_SAFE_NO_PAD.encode(
            r#"{"type":"webauthn.get","challenge":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","origin":"http://localhost:3000"}"#,
        );
        b["credential"] = json!({
            "id": "AAAA", "rawId": "AAAA", "type": "public-key", "extensions": {},
            "response": { "authenticatorData": "AAAA", "clientDataJSON": client_data,
                          "signature": "AAAA", "userHandle": null },
        });
    }
    if path.starts_with("/api/config/sso") {
        b = json!({ "method": "oidc", "client_id": "c", "client_secret": "s",
                    "discovery_url": "https://idp.example.test/.well-known/openid-configuration",
                    "domains": [], "second_factor": "always" });
    }
    b
}

#[tokio::test]
async fn with_aws_down_every_route_answers_503_in_the_error_shape_within_five_seconds() {
    let app = TestApp::spawn().await;
    let outage = Outage::start(&app.moto).await;
    let via = app.through(&outage.url);
    let (reg, mut b) = via.ready_admin(&via.address("ann")).await;
    let cookie = b.cookie.clone().unwrap();
    let yaml =
        std::fs::read_to_string(porter_dev::moto::repo_root().join("template.yaml")).unwrap();
    let routes = RouteTable::from_template(&yaml).unwrap();

    outage.down();
    let mut seen = Vec::new();
    for route in routes.routes() {
        if route.binary == "web" || route.path == "/.well-known/openid-configuration" {
            continue; // pages, assets and the provider's metadata: no AWS at all
        }
        if route.authorizer.is_some() {
            // The vendor's routes: API Gateway answers for them (the authorizer refuses what
            // it cannot check: 403), before any function of theirs runs.
            continue;
        }
        let method = route.method.clone().unwrap_or_else(|| "GET".into());
        // An id of the kind the route takes: organizations are tenants.
        let id = if route.path.starts_with("/api/organizations/") {
            reg.tenant.as_str()
        } else {
            reg.admin.as_str()
        };
        let id = if route.path.starts_with("/oauth2/clients/") {
            "c_0000000000000000"
        } else {
            id
        };
        let mut path = route.path.replace("{id}", id).replace("{*rest}", "x");
        if path.starts_with("/api/login/callback") {
            path.push_str("?state=s&code=c");
        }
        // The OpenID provider's requests as an app would send them (what is malformed is
        // answered before any AWS call).
        let hint = |typ: &str| {
            let header =
                URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"ES256","typ":"{typ}","kid":"k"}}"#));
            format!("{header}.e30.AAAA")
        };
        match path.as_str() {
            "/oauth2/authorize" => path.push_str(
                "?client_id=c_0000000000000000&redirect_uri=https%3A%2F%2Fapp.test%2Fcb&response_type=code&scope=openid",
            ),
            "/oauth2/logout" if method == "GET" => {
                path.push_str(&format!("?id_token_hint={}", hint("JWT")));
            }
            _ => {}
        }
        let (content_type, body) = if method == "GET" || method == "DELETE" {
            ("application/json", String::new())
        } else if path == "/oauth2/token" {
            let code = "0".repeat(64);
            (
                "application/x-www-form-urlencoded",
                format!("grant_type=authorization_code&code={code}&client_id=c_0000000000000000&client_secret={code}"),
            )
        } else {
            ("application/json", body_for(&path).to_string())
        };
        let mut req = request(&method, &path, Some(content_type), body);
        if path == "/oauth2/userinfo" {
            let bearer = format!("Bearer {}", hint("at+jwt"));
            req.headers_mut()
                .insert("authorization", bearer.parse().unwrap());
        }
        req.headers_mut().insert("cookie", cookie.parse().unwrap());
        req.headers_mut()
            .insert("sec-fetch-site", "same-origin".parse().unwrap());
        let a = tokio::time::timeout(Duration::from_secs(5), via.send(req))
            .await
            .unwrap_or_else(|_| panic!("{method} {path} hung past 5 s"));
        let a = answer(a);
        // The identity provider's redirect is a page load: it goes on to the sign-in page,
        // which says the service is unavailable.
        let location = a
            .headers
            .get("location")
            .map(|l| l.to_str().unwrap().to_owned());
        if location.as_deref() == Some("/login?error=service_unavailable") {
            seen.push(format!(
                "{method} {path} 503 service_unavailable (redirect)"
            ));
            continue;
        }
        // The token endpoint answers in OAuth's own shape (RFC 6749 §5.2).
        if path == "/oauth2/token" && a.json["error"] == "temporarily_unavailable" {
            seen.push(format!("{method} {path} {} service_unavailable", a.status));
            continue;
        }
        seen.push(format!("{method} {path} {} {}", a.status, a.code()));
    }
    let wrong: Vec<&String> = seen
        .iter()
        .filter(|s| !s.contains(" 503 service_unavailable"))
        .collect();
    assert!(wrong.is_empty(), "{wrong:#?}\nall: {seen:#?}");

    outage.up();
    assert_eq!(
        b.get("/api/me").await.status,
        200,
        "the session survived the outage"
    );
}

fn sessions(items: &[Item]) -> usize {
    items
        .iter()
        .filter(|i| get_s(i, "entity") == Some("session"))
        .count()
}

#[tokio::test]
async fn a_sign_in_cut_off_at_any_request_leaves_no_session_behind() {
    let app = TestApp::spawn().await;
    let outage = Outage::start(&app.moto).await;
    let via = app.through(&outage.url);
    let ann = via.address("ann");
    via.active_admin(&ann, PASSWORD).await;
    let mut cut_somewhere = false;
    for k in 0..12 {
        let before = sessions(&app.scan().await);
        outage.allow(k);
        let mut b = via.browser_at(&format!("192.0.2.{}", k + 1));
        let a = b
            .post(
                "/api/login/password",
                json!({ "email": ann, "password": PASSWORD }),
            )
            .await;
        outage.up();
        let after = sessions(&app.scan().await);
        match a.status {
            200 => assert_eq!(after, before + 1, "cut after {k} requests"),
            503 => {
                cut_somewhere = true;
                assert_eq!(a.code(), "service_unavailable");
                assert_eq!(after, before, "cut after {k} requests left a session");
            }
            other => panic!("cut after {k} requests answered {other}: {:?}", a.json),
        }
    }
    assert!(cut_somewhere);
    // Every counter the cut-off attempts took was released or is harmless: the right
    // password still signs in.
    assert_eq!(via.browser().sign_in(&ann, PASSWORD).await.status, 200);
}

#[tokio::test]
async fn a_user_added_while_the_store_fails_midway_is_either_whole_or_absent() {
    let app = TestApp::spawn().await;
    let outage = Outage::start(&app.moto).await;
    let via = app.through(&outage.url);
    let (reg, mut admin) = via.ready_admin(&via.address("ann")).await;
    // Enough cuts to pass every request of an addition (three since the caller is read in
    // two), and few enough whole additions to stay within the seat limit.
    for k in 0..6 {
        let bob = via.address(&format!("bob{k}"));
        outage.allow(k);
        let a = admin
            .post("/api/users", json!({ "email": bob, "role": "core" }))
            .await;
        outage.up();
        let users: Vec<Item> = app
            .scan()
            .await
            .into_iter()
            .filter(|i| get_s(i, "email") == Some(bob.as_str()))
            .collect();
        match a.status {
            201 => {
                assert!(!users.is_empty());
                // Whatever happened to the email, the invitation can be sent again.
                let id = a.json["id"].as_str().unwrap();
                let resend = admin
                    .post(&format!("/api/users/{id}/resend"), json!({}))
                    .await;
                assert!(
                    resend.status == 202 || resend.code() == "throttled",
                    "{:?}",
                    resend.json
                );
            }
            503 => assert!(users.is_empty(), "cut after {k}: {users:?}"),
            other => panic!("cut after {k} requests answered {other}: {:?}", a.json),
        }
    }
    let tenant = app
        .item(
            porter_shared::store::keys::tenant_pk(&reg.tenant),
            porter_shared::store::keys::META,
        )
        .await
        .unwrap();
    let listed = admin.get("/api/users").await.json["users"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(
        get_n(&tenant, "user_count"),
        Some(i64::try_from(listed).unwrap()),
        "the seat count matches the users that exist"
    );
}
