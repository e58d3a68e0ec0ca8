//! The foundation: table, tenant registration, email uniqueness, secrets, pages.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use porter_shared::domain::{Email, Timestamp};
use porter_shared::secrets::SecretsError;
use porter_shared::store::keys;
use porter_shared::store::table::TableOutcome;
use porter_shared::store::tenants::RegisterError;
use porter_shared::tenants;
use porter_tests::*;
use secrecy::{ExposeSecret, SecretString};

#[tokio::test]
async fn registering_a_tenant_writes_tenant_admin_email_index_and_token_together() {
    let app = TestApp::spawn().await;
    let ann = app.address("ann");
    let reg = app.register("Acme", &app.address("Ann")).await;
    assert!(reg.mail.is_ok());

    let tenant = app
        .state
        .store
        .get_tenant(&reg.tenant)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            tenant.name.as_str(),
            tenant.max_users,
            tenant.user_count,
            tenant.setup_done
        ),
        ("Acme", 5, 1, false)
    );

    let users = app.state.store.list_users(&reg.tenant).await.unwrap();
    assert_eq!(users.len(), 1);
    assert_eq!(users[0].email.as_str(), ann, "stored lowercased");
    assert_eq!(users[0].role.map(|r| r.as_str()), Some("admin"));
    assert_eq!(users[0].status.as_str(), "invited");

    let index = app
        .item(keys::email_pk(&Email::parse(&ann).unwrap()), "EMAIL")
        .await
        .unwrap();
    assert_eq!(get_s(&index, "tid"), Some(reg.tenant.as_str()));
    assert_eq!(get_s(&index, "uid"), Some(reg.admin.as_str()));

    let tokens: Vec<_> = app
        .scan()
        .await
        .into_iter()
        .filter(|i| get_s(i, "entity") == Some("token"))
        .collect();
    assert_eq!(tokens.len(), 1);
    let now = Timestamp::now().0;
    let expires = get_n(&tokens[0], "expires_at").unwrap();
    assert!((expires - now - 2 * 24 * 3600).abs() < 60, "valid two days");
    assert!(
        get_n(&tokens[0], "ttl").unwrap() > expires,
        "kept past expiry so it can be renewed"
    );
}

#[tokio::test]
async fn an_email_already_registered_elsewhere_is_refused_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let ann = app.address("ann");
    app.register("Acme", &ann).await;
    let before = app.scan().await;

    let err = tenants::register_tenant(
        &app.state,
        "Other",
        &Email::parse(&ann.to_uppercase()).unwrap(),
        None,
        Timestamp::now(),
    )
    .await
    .err()
    .unwrap();
    assert!(matches!(err, RegisterError::EmailTaken(_)), "{err}");
    assert_eq!(err.to_string(), format!("{ann} is already registered"));
    assert_eq!(app.scan().await.len(), before.len());
    assert_eq!(app.outbox(&ann).await.len(), 1, "no second invitation");
    assert_eq!(app.state.store.list_tenants().await.unwrap().len(), 1);
}

#[tokio::test]
async fn creating_the_table_twice_is_harmless() {
    let app = TestApp::spawn().await;
    assert_eq!(
        app.state.store.ensure_table().await.unwrap(),
        TableOutcome::AlreadyExisted
    );
    let ttl = app
        .state
        .store
        .client()
        .describe_time_to_live()
        .table_name(app.state.store.table_name())
        .send()
        .await
        .unwrap();
    assert_eq!(
        ttl.time_to_live_description().unwrap().attribute_name(),
        Some("ttl")
    );
    let desc = app
        .state
        .store
        .client()
        .describe_table()
        .table_name(app.state.store.table_name())
        .send()
        .await
        .unwrap();
    let gsis = desc.table().unwrap().global_secondary_indexes();
    assert_eq!(gsis.len(), 1);
    assert_eq!(gsis[0].index_name(), Some("gsi1"));
}

#[tokio::test]
async fn the_seat_limit_cannot_drop_below_the_seats_taken() {
    let app = TestApp::spawn().await;
    let reg = app.register("Acme", &app.address("ann")).await;
    app.state.store.set_max_users(&reg.tenant, 8).await.unwrap();
    assert_eq!(
        app.state
            .store
            .get_tenant(&reg.tenant)
            .await
            .unwrap()
            .unwrap()
            .max_users,
        8
    );
    assert!(app.state.store.set_max_users(&reg.tenant, 0).await.is_err());
    let unknown = porter_shared::domain::TenantId::parse("t_0000000000000000").unwrap();
    assert!(
        app.state.store.set_max_users(&unknown, 5).await.is_err(),
        "no tenant is created by it"
    );
    assert!(app
        .state
        .store
        .get_tenant(&unknown)
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn secrets_are_stored_and_read_back_through_secrets_manager() {
    let app = TestApp::spawn().await;
    let secrets = &app.state.secrets();
    let name =
        secrets.tenant_secret_name(&format!("t_{}", app.state.store.table_name()), "platform");
    assert!(name.starts_with("porter/local/tenant/"));
    assert!(matches!(
        secrets.get(&name).await,
        Err(SecretsError::NotFound(_))
    ));

    secrets
        .put(&name, &SecretString::from("first"))
        .await
        .unwrap();
    secrets
        .put(&name, &SecretString::from("second"))
        .await
        .unwrap();
    assert_eq!(secrets.get(&name).await.unwrap().expose_secret(), "second");
}

#[tokio::test]
async fn pages_are_served_with_a_strict_content_security_policy() {
    let a = web::handle(request("GET", "/activate?token=abc", None, "")).await;
    assert_eq!(a.status(), 200);
    let csp = a.headers()["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert_eq!(
        a.headers()["referrer-policy"],
        "no-referrer",
        "the token must not leak through Referer"
    );
    let body: &[u8] = a.body().as_ref();
    assert!(String::from_utf8_lossy(body).contains("Choose your password"));

    let health = answer(web::handle(request("GET", "/api/health", None, "")).await);
    assert_eq!(
        (health.status, health.json["status"].as_str()),
        (200, Some("ok"))
    );
    let root = web::handle(request("GET", "/", None, "")).await;
    assert_eq!(
        (
            root.status().as_u16(),
            root.headers()["location"].to_str().unwrap()
        ),
        (302, "/login")
    );
    let missing = answer(web::handle(request("GET", "/api/nothing", None, "")).await);
    assert_eq!((missing.status, missing.code()), (404, "not_found"));
    let post = answer(web::handle(request("POST", "/login", None, "")).await);
    assert_eq!(post.status, 405);
}

#[tokio::test]
async fn audit_events_live_in_their_own_table_and_nowhere_else() {
    let app = TestApp::spawn().await;
    let (_, mut admin) = app.ready_admin(&app.address("ann")).await;
    let scan = |table: String| {
        let client = app.state.store.client().clone();
        async move {
            client
                .scan()
                .table_name(table)
                .send()
                .await
                .unwrap()
                .items
                .unwrap_or_default()
        }
    };
    let main = scan(app.state.config.table_name.clone()).await;
    assert!(main
        .iter()
        .all(|i| !get_s(i, "sk").unwrap_or("").starts_with("AUDIT#")));
    let audit = scan(app.state.config.audit_table_name.clone()).await;
    assert!(audit.len() >= 3, "{audit:?}");
    assert!(audit.iter().all(|i| get_s(i, "entity") == Some("audit")));
    assert!(admin
        .audit_actions()
        .await
        .contains(&"user.activate".to_owned()));
}

#[tokio::test]
async fn every_state_changing_route_refuses_a_request_from_another_site() {
    use porter_dev::routes::RouteTable;
    let app = TestApp::spawn().await;
    let (reg, admin) = app.ready_admin(&app.address("ann")).await;
    let cookie = admin.cookie.clone().unwrap();
    let yaml =
        std::fs::read_to_string(porter_dev::moto::repo_root().join("template.yaml")).unwrap();
    let routes = RouteTable::from_template(&yaml).unwrap();
    let mut checked = 0;
    for route in routes.routes() {
        let Some(method) = route.method.as_deref() else {
            continue;
        };
        if !["POST", "PUT", "PATCH", "DELETE"].contains(&method) {
            continue;
        }
        let path = route.path.replace("{id}", reg.admin.as_str());
        // The one exception: the OpenID provider's token endpoint reads no cookie, and apps
        // in a browser call it from their own origins (tests/it/oidc.rs covers it).
        if path == "/oauth2/token" {
            continue;
        }
        for (with_cookie, origin) in [(true, "https://evil.example"), (false, "null")] {
            let mut req = request(method, &path, Some("application/json"), "{}");
            req.headers_mut().insert("origin", origin.parse().unwrap());
            if with_cookie {
                req.headers_mut().insert("cookie", cookie.parse().unwrap());
            }
            let a = answer(app.send(req).await);
            assert_eq!(
                (a.status, a.code()),
                (403, "forbidden_origin"),
                "{method} {path} from {origin}"
            );
        }
        checked += 1;
    }
    assert!(checked >= 24, "{checked} routes");
}

#[tokio::test]
async fn porterctl_tenant_invite_emails_a_new_link_and_the_old_one_stops_working() {
    let app = TestApp::spawn().await;
    let ann = app.address("ann");
    let reg = app.register("Acme", &ann).await;
    let old = app.last_activation_token(&ann).await;
    // The first invitation went out more than a minute ago.
    app.set_numbers(
        keys::tenant_pk(&reg.tenant),
        &keys::user_sk(&reg.admin),
        &[("invited_at", Timestamp::now().0 - 120)],
    )
    .await;
    let bin = std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("porterctl");
    let out = std::process::Command::new(&bin)
        .args(["tenant", "invite", reg.tenant.as_str(), "--email", &ann])
        .env_clear()
        .envs(porter_dev::stack::env_vars(&app.moto, &app.state.config))
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e} (run `cargo build --workspace --bins`)",
                bin.display()
            )
        });
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("older links no longer work"));
    let new = app.last_activation_token(&ann).await;
    assert_ne!(new, old);
    let set = |token: &str| {
        json_request(
            "/api/activation",
            &serde_json::json!({ "token": token, "password": PASSWORD, "password_confirm": PASSWORD }),
        )
    };
    let refused = answer(app.send(set(&old)).await);
    assert_eq!(
        (refused.status, refused.code()),
        (410, "token_expired"),
        "a replaced link reads as expired and offers a new one"
    );
    assert_eq!(answer(app.send(set(&new)).await).status, 200);
}
