//! API management and Check License over HTTP, against the platform stand-in (a real HTTP
//! server on loopback that checks client assertions like a platform would).

use openssl::asn1::Asn1Time;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::symm::Cipher;
use openssl::x509::{X509NameBuilder, X509};
use porter_dev::platform::{Mode, PlatformStandIn};
use porter_tests::{Browser, TestApp};
use serde_json::{json, Value};
use std::time::Duration;

const PASSWORD: &str = "platform key password";

fn rsa(bits: u32) -> PKey<Private> {
    PKey::from_rsa(Rsa::generate(bits).unwrap()).unwrap()
}

fn pem_pkcs8(key: &PKey<Private>) -> String {
    String::from_utf8(key.private_key_to_pem_pkcs8().unwrap()).unwrap()
}

fn pem_encrypted(key: &PKey<Private>) -> String {
    String::from_utf8(
        key.private_key_to_pem_pkcs8_passphrase(Cipher::aes_256_cbc(), PASSWORD.as_bytes())
            .unwrap(),
    )
    .unwrap()
}

fn certificate(key: &PKey<Private>, not_before: i64, not_after: i64) -> String {
    let mut name = X509NameBuilder::new().unwrap();
    name.append_entry_by_text("CN", "acme.platform.test")
        .unwrap();
    let name = name.build();
    let mut b = X509::builder().unwrap();
    b.set_version(2).unwrap();
    b.set_subject_name(&name).unwrap();
    b.set_issuer_name(&name).unwrap();
    b.set_pubkey(key).unwrap();
    let (from, until) = (
        Asn1Time::from_unix(not_before).unwrap(),
        Asn1Time::from_unix(not_after).unwrap(),
    );
    b.set_not_before(&from).unwrap();
    b.set_not_after(&until).unwrap();
    b.sign(key, MessageDigest::sha256()).unwrap();
    String::from_utf8(b.build().to_pem().unwrap()).unwrap()
}

fn public_pem(key: &PKey<Private>) -> Vec<u8> {
    key.public_key_to_pem().unwrap()
}

struct Setup<'a> {
    app: &'a TestApp,
    admin: Browser<'a>,
    platform: PlatformStandIn,
    key: PKey<Private>,
}

const CLIENT_ID: &str = "acme-tenant";

fn body(platform: &PlatformStandIn, key_pem: &str, kid: &str) -> Value {
    json!({
        "hostname": platform.hostname(), "client_id": CLIENT_ID, "kid": kid,
        "private_key_pem": key_pem, "private_key_password": PASSWORD,
    })
}

async fn setup(app: &TestApp) -> Setup<'_> {
    let (_, admin) = app.ready_admin(&app.address("ann")).await;
    let platform = PlatformStandIn::start().await.unwrap();
    let key = rsa(2048);
    platform
        .trust("kid-1", CLIENT_ID, &public_pem(&key))
        .unwrap();
    Setup {
        app,
        admin,
        platform,
        key,
    }
}

impl Setup<'_> {
    async fn configure(&mut self) -> Value {
        let a = self
            .admin
            .put(
                "/api/config/platform",
                body(&self.platform, &pem_encrypted(&self.key), "kid-1"),
            )
            .await;
        assert_eq!(a.status, 200, "{:?}", a.json);
        a.json
    }

    async fn check(&mut self) -> porter_tests::Answer {
        self.admin.post("/api/license/check", json!({})).await
    }

    async fn menu_labels(&mut self) -> Vec<String> {
        fn walk(items: &Value, out: &mut Vec<String>) {
            for i in items.as_array().into_iter().flatten() {
                out.push(i["label"].as_str().unwrap_or_default().to_owned());
                walk(&i["children"], out);
            }
        }
        let me = self.admin.get("/api/me").await;
        let mut out = Vec::new();
        walk(&me.json["menu"], &mut out);
        out
    }
}

#[tokio::test]
async fn a_check_before_configuration_is_refused_and_the_page_can_tell() {
    let app = TestApp::spawn().await;
    let mut s = setup(&app).await;
    let got = s.admin.get("/api/config/platform").await;
    assert_eq!(
        (got.status, got.json["configured"].as_bool()),
        (200, Some(false))
    );
    let a = s.check().await;
    assert_eq!((a.status, a.code()), (409, "platform_not_configured"));
}

#[tokio::test]
async fn a_checked_license_fills_the_menu_with_a_proper_client_assertion() {
    let app = TestApp::spawn().await;
    let mut s = setup(&app).await;
    let cert = certificate(
        &s.key,
        porter_tests::now() - 60,
        porter_tests::now() + 86_400 * 30,
    );
    let mut b = body(&s.platform, &pem_encrypted(&s.key), "kid-1");
    b["certificate_pem"] = json!(cert);
    let saved = s.admin.put("/api/config/platform", b).await;
    assert_eq!(saved.status, 200, "{:?}", saved.json);
    assert_eq!(
        saved.json["key"],
        json!({ "type": "rsa", "bits": 2048, "encrypted": true })
    );
    assert_eq!(
        saved.json["certificate"]["subject"],
        "CN=acme.platform.test"
    );
    assert_eq!(
        saved.json["certificate"]["thumbprint_sha256"]
            .as_str()
            .unwrap()
            .len(),
        64
    );
    assert!(!s
        .menu_labels()
        .await
        .contains(&"Endpoint Management".to_owned()));

    let a = s.check().await;
    assert_eq!(
        (a.status, a.json["message"].as_str()),
        (200, Some("Menu updated")),
        "{:?}",
        a.json
    );
    assert_eq!(a.json["solutions"][0]["modules"][1]["name"], "Patching");
    let labels = s.menu_labels().await;
    for want in [
        "Endpoint Management",
        "Inventory",
        "Patching",
        "Digital Experience",
        "Configuration",
    ] {
        assert!(
            labels.contains(&want.to_owned()),
            "{want} not in {labels:?}"
        );
    }
    let (header, claims) = s.platform.accepted().pop().unwrap();
    assert_eq!(
        (
            header["alg"].as_str(),
            header["kid"].as_str(),
            header["typ"].as_str()
        ),
        (Some("RS256"), Some("kid-1"), Some("JWT"))
    );
    assert_eq!(
        (claims["iss"].as_str(), claims["sub"].as_str()),
        (Some(CLIENT_ID), Some(CLIENT_ID))
    );
    assert_eq!(claims["aud"], s.platform.token_endpoint().as_str());
    assert!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap() <= 300);

    // A core user sees the solutions, not Configuration.
    let core = app.address("cora");
    s.admin.add_user(&core, "core").await;
    let mut c = app.ready_member(&core).await;
    let me = c.get("/api/me").await;
    let ids: Vec<&str> = me.json["menu"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&"solution:endpoint") && !ids.contains(&"configuration"),
        "{ids:?}"
    );
    assert_eq!(c.post("/api/license/check", json!({})).await.status, 403);
    assert_eq!(c.get("/api/config/platform").await.status, 403);
    assert_eq!(c.put("/api/config/platform", json!({})).await.status, 403);

    let actions = s.admin.audit_actions().await;
    assert!(
        actions.iter().any(|a| a == "license.check")
            && actions.iter().any(|a| a == "platform.configure"),
        "{actions:?}"
    );
}

#[tokio::test]
async fn each_bad_connection_is_refused_with_its_own_code_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    let mut s = setup(&app).await;
    let key = pem_encrypted(&s.key);
    let plain = pem_pkcs8(&s.key);
    let other_cert = certificate(&rsa(2048), 0, porter_tests::now() + 86_400);
    let expired = certificate(&s.key, 0, porter_tests::now() - 86_400);
    let host = s.platform.hostname();
    let short = pem_pkcs8(&rsa(1024));
    let case = |edit: &dyn Fn(&mut Value)| {
        let mut b = json!({ "hostname": host, "client_id": CLIENT_ID, "kid": "kid-1", "private_key_pem": key, "private_key_password": PASSWORD });
        edit(&mut b);
        b
    };
    let cases: Vec<(Value, u16, &str)> = vec![
        (
            case(&|b| b["hostname"] = json!("https://platform.example.com")),
            400,
            "invalid_hostname",
        ),
        (
            case(&|b| b["hostname"] = json!("platform.example.com/api")),
            400,
            "invalid_hostname",
        ),
        (
            case(&|b| b["hostname"] = json!("user@platform.example.com")),
            400,
            "invalid_hostname",
        ),
        (
            case(&|b| b["private_key_password"] = json!("wrong")),
            422,
            "key_password_wrong",
        ),
        (
            case(&|b| b["private_key_pem"] = json!(plain)),
            422,
            "password_not_needed",
        ),
        (
            case(&|b| {
                b["private_key_pem"] =
                    json!("-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----")
            }),
            422,
            "key_invalid",
        ),
        (
            case(&|b| {
                b["private_key_pem"] = json!(short);
                b.as_object_mut().unwrap().remove("private_key_password");
            }),
            422,
            "key_invalid",
        ),
        (
            case(&|b| b["certificate_pem"] = json!(other_cert)),
            422,
            "certificate_mismatch",
        ),
        (
            case(&|b| b["certificate_pem"] = json!(expired)),
            422,
            "certificate_expired",
        ),
        (
            case(&|b| b["certificate_pem"] = json!("garbage")),
            422,
            "key_invalid",
        ),
        (
            case(&|b| {
                b.as_object_mut().unwrap().remove("private_key_pem");
            }),
            400,
            "invalid_request",
        ),
        (
            case(&|b| b["token_endpoint"] = json!("http://platform.example.com/token")),
            400,
            "invalid_token_endpoint",
        ),
    ];
    for (b, status, code) in cases {
        let a = s.admin.put("/api/config/platform", b.clone()).await;
        assert_eq!((a.status, a.code()), (status, code), "{b} → {:?}", a.json);
        if code == "key_invalid" {
            let msg = a.json["error"]["message"].as_str().unwrap();
            assert!(
                msg.starts_with("private_key_pem") || msg.starts_with("certificate_pem"),
                "names the field: {msg}"
            );
        }
    }
    let got = s.admin.get("/api/config/platform").await;
    assert_eq!(got.json["configured"], false);
    assert!(app
        .state
        .secrets()
        .get(
            &app.state.secrets().tenant_secret_name(
                s.admin.get("/api/me").await.json["tenant"]["id"]
                    .as_str()
                    .unwrap(),
                "platform"
            )
        )
        .await
        .is_err());
    let _ = s.app;
}

#[tokio::test]
async fn the_key_never_appears_in_an_answer_or_the_table_and_a_put_without_a_key_keeps_it() {
    let app = TestApp::spawn().await;
    let mut s = setup(&app).await;
    let pem = pem_encrypted(&s.key);
    let body_line = pem.lines().nth(2).unwrap().to_owned();
    let saved = s.configure().await;
    let mut answers = vec![
        saved.to_string(),
        s.admin.get("/api/config/platform").await.json.to_string(),
    ];
    let kept = s
        .admin
        .put(
            "/api/config/platform",
            json!({ "hostname": s.platform.hostname(), "client_id": CLIENT_ID, "kid": "kid-1" }),
        )
        .await;
    assert_eq!(
        (kept.status, kept.json["key"]["type"].as_str()),
        (200, Some("rsa")),
        "{:?}",
        kept.json
    );
    answers.push(kept.json.to_string());
    answers.push(s.check().await.json.to_string());
    for a in &answers {
        assert!(!a.contains(&body_line) && !a.contains(PASSWORD), "{a}");
    }
    for item in app.scan().await {
        let text = format!("{item:?}");
        assert!(
            !text.contains(&body_line) && !text.contains(PASSWORD),
            "{text}"
        );
    }
}

#[tokio::test]
async fn a_refused_a_dead_a_slow_and_a_malformed_platform_each_keep_the_previous_menu() {
    let app = TestApp::spawn().await;
    let mut s = setup(&app).await;
    s.configure().await;
    assert_eq!(s.check().await.status, 200);
    let before = s.menu_labels().await;

    s.platform.set_mode(Mode::RefuseToken(
        "invalid_client".into(),
        "<b>kid unknown</b>\u{7}".into(),
    ));
    let a = s.check().await;
    assert_eq!((a.status, a.code()), (502, "platform_auth_failed"));
    let msg = a.json["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("invalid_client")
            // As the platform wrote it: JSON, shown by the page as text, needs no HTML escape.
            && msg.contains("<b>kid unknown</b>")
            && !msg.contains('\u{7}'),
        "{msg}"
    );

    s.platform.set_mode(Mode::Malformed);
    let a = s.check().await;
    assert_eq!((a.status, a.code()), (502, "platform_bad_response"));

    // RFC 8414 §3.3: metadata naming another issuer is someone else's.
    s.platform.set_mode(Mode::WrongIssuer);
    let a = s.check().await;
    assert_eq!((a.status, a.code()), (502, "platform_bad_response"));
    assert!(
        a.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("issuer"),
        "{:?}",
        a.json
    );

    s.platform.set_mode(Mode::Slow(Duration::from_secs(7)));
    let started = std::time::Instant::now();
    let a = s.check().await;
    assert_eq!((a.status, a.code()), (503, "platform_unavailable"));
    assert!(
        started.elapsed() < Duration::from_secs(7),
        "no wait past the 5 s limit"
    );

    // Nothing listens at the configured address any more.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_port = dead.local_addr().unwrap().port();
    drop(dead);
    let mut moved = body(&s.platform, &pem_encrypted(&s.key), "kid-1");
    moved["hostname"] = json!(format!("127.0.0.1:{dead_port}"));
    let a = s.admin.put("/api/config/platform", moved).await;
    assert_eq!(a.status, 200, "{:?}", a.json);
    let a = s.check().await;
    assert_eq!((a.status, a.code()), (503, "platform_unavailable"));

    assert_eq!(
        s.menu_labels().await,
        before,
        "the previous entitlements stay"
    );
    let audit = s.admin.get("/api/audit?limit=100").await;
    let failures = audit.json["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "license.check" && e["outcome"] == "failure")
        .count();
    assert_eq!(failures, 5);
}

#[tokio::test]
async fn a_new_key_and_kid_are_used_by_the_very_next_check_and_ec_keys_sign_es256() {
    let app = TestApp::spawn().await;
    let mut s = setup(&app).await;
    s.configure().await;
    assert_eq!(s.check().await.status, 200);
    let group = openssl::ec::EcGroup::from_curve_name(openssl::nid::Nid::X9_62_PRIME256V1).unwrap();
    let ec = PKey::from_ec_key(openssl::ec::EcKey::generate(&group).unwrap()).unwrap();
    s.platform
        .trust("kid-2", CLIENT_ID, &public_pem(&ec))
        .unwrap();
    let saved = s
        .admin
        .put("/api/config/platform", json!({ "hostname": s.platform.hostname(), "client_id": CLIENT_ID, "kid": "kid-2", "private_key_pem": pem_pkcs8(&ec) }))
        .await;
    assert_eq!(
        saved.json["key"],
        json!({ "type": "ec", "curve": "P-256", "encrypted": false })
    );
    assert_eq!(s.check().await.status, 200);
    let (header, _) = s.platform.accepted().pop().unwrap();
    assert_eq!(
        (header["kid"].as_str(), header["alg"].as_str()),
        (Some("kid-2"), Some("ES256"))
    );
}

#[tokio::test]
async fn the_stand_in_refuses_a_replayed_assertion_and_an_unknown_kid_like_a_platform_would() {
    use porter_shared::credentials::platform_key::{client_assertion, open_key};
    use porter_shared::domain::Timestamp;
    let platform = PlatformStandIn::start().await.unwrap();
    let key = rsa(2048);
    platform
        .trust("kid-1", CLIENT_ID, &public_pem(&key))
        .unwrap();
    let signing = open_key(&pem_pkcs8(&key), None).unwrap();
    let endpoint = platform.token_endpoint();
    let post = |assertion: String| {
        let endpoint = endpoint.clone();
        async move {
            let form = [
                ("grant_type", "client_credentials"),
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ),
                ("client_assertion", assertion.as_str()),
                ("client_id", CLIENT_ID),
            ];
            porter_shared::outbound::use_sdk_tls_provider();
            let resp = reqwest::Client::new()
                .post(&endpoint)
                .form(&form)
                .send()
                .await
                .unwrap();
            (resp.status().as_u16(), resp.json::<Value>().await.unwrap())
        }
    };
    let now = Timestamp::now();
    let once = client_assertion(&signing, "kid-1", CLIENT_ID, &endpoint, "jti-1", now).unwrap();
    assert_eq!(post(once.clone()).await.0, 200);
    let (status, body) = post(once).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    assert!(body["error_description"].as_str().unwrap().contains("jti"));
    let unknown = client_assertion(&signing, "kid-9", CLIENT_ID, &endpoint, "jti-2", now).unwrap();
    assert_eq!(post(unknown).await.0, 401);
    let wrong_aud = client_assertion(
        &signing,
        "kid-1",
        CLIENT_ID,
        "https://elsewhere/token",
        "jti-3",
        now,
    )
    .unwrap();
    assert_eq!(post(wrong_aud).await.0, 401);
}

#[tokio::test]
async fn no_log_line_at_trace_level_carries_the_key_or_its_password() {
    let app = TestApp::spawn().await;
    let mut s = setup(&app).await;
    let buffer = porter_tests::CapturedLog::default();
    let sink = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || sink.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let pem = pem_encrypted(&s.key);
    let mut wrong = body(&s.platform, &pem, "kid-1");
    wrong["private_key_password"] = json!("a wrong password 123");
    s.admin.put("/api/config/platform", wrong).await;
    s.configure().await;
    assert_eq!(s.check().await.status, 200);
    s.platform
        .set_mode(Mode::RefuseToken("invalid_client".into(), "no".into()));
    assert_eq!(s.check().await.status, 502);
    let logs = buffer.text();
    assert!(logs.len() > 1000, "the capture works: {} bytes", logs.len());
    for secret in [
        PASSWORD,
        "a wrong password 123",
        pem.lines().nth(2).unwrap(),
    ] {
        assert!(!logs.contains(secret), "{secret:?} reached a log line");
    }
}

#[tokio::test]
async fn a_changed_hostname_without_the_key_stores_nothing_and_saving_needs_a_recent_proof() {
    let app = TestApp::spawn().await;
    let mut s = setup(&app).await;
    s.configure().await;
    let before = s.admin.get("/api/config/platform").await.json;
    let elsewhere = PlatformStandIn::start().await.unwrap();
    for change in [
        json!({ "hostname": elsewhere.hostname(), "client_id": CLIENT_ID, "kid": "kid-1" }),
        json!({ "hostname": s.platform.hostname(), "client_id": "someone-else", "kid": "kid-1" }),
        json!({ "hostname": s.platform.hostname(), "client_id": CLIENT_ID, "kid": "kid-1",
                "token_endpoint": format!("http://{}/token", elsewhere.hostname()) }),
    ] {
        let a = s.admin.put("/api/config/platform", change.clone()).await;
        assert_eq!((a.status, a.code()), (422, "key_required"), "{change}");
    }
    assert_eq!(s.admin.get("/api/config/platform").await.json, before);
    assert_eq!(
        s.check().await.status,
        200,
        "the stored connection still works"
    );
    s.admin.age_proof(400).await;
    let stale = s
        .admin
        .put(
            "/api/config/platform",
            body(&s.platform, &pem_encrypted(&s.key), "kid-1"),
        )
        .await;
    assert_eq!((stale.status, stale.code()), (403, "reauth_required"));
}

#[tokio::test]
async fn a_key_the_platform_maps_to_no_principal_is_explained_in_words() {
    let app = TestApp::spawn().await;
    let mut s = setup(&app).await;
    s.configure().await;
    s.platform.unmap("kid-1");
    let a = s.check().await;
    assert_eq!(
        (a.status, a.code()),
        (502, "platform_no_mapping"),
        "{:?}",
        a.json
    );
    assert_eq!(
        a.json["error"]["message"],
        "The platform has no JWT mapping for key kid-1; ask your platform administrator to map it to a user."
    );
}
