//! Single sign-on over HTTP: configuring a provider (checked, pending until an admin's test),
//! home-realm discovery, the callback's checks against a provider the tests control, linking.

use porter_shared::store::keys;
use porter_tests::idp::{FakeIdp, Person, Signing, CLIENT_ID, CLIENT_SECRET};
use porter_tests::{get_s, Answer, Browser, TestApp, PASSWORD};
use serde_json::{json, Value};

fn domain_of(email: &str) -> String {
    email.split('@').nth(1).unwrap().to_owned()
}

fn person(sub: &str, email: &str) -> Person {
    Person {
        sub: sub.to_owned(),
        email: email.to_owned(),
        email_verified: true,
    }
}

fn location(a: &Answer) -> String {
    assert_eq!(a.status, 302, "{:?}", a.json);
    a.headers["location"].to_str().unwrap().to_owned()
}

/// A configuration that leaves the second factor to the provider (`never`), so that tests of
/// other rules see a full session at once; the policies have tests of their own.
fn oidc_body(idp: &FakeIdp, domain: &str) -> Value {
    json!({
        "method": "oidc", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
        "discovery_url": idp.discovery_url(), "domains": [domain], "second_factor": "never",
    })
}

/// The `state` of the sign-in an identify answer sends the browser to the provider with.
fn state_in(identified: &Answer) -> String {
    url::Url::parse(identified.json["redirect"].as_str().unwrap())
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned()
}

/// An admin's test sign-in through the pending provider as `who`; where it lands.
async fn test_sign_in(
    admin: &mut Browser<'_>,
    idp: &FakeIdp,
    issuer: &str,
    who: &Person,
    extra: Value,
) -> String {
    let test = admin.post("/api/config/sso/test", json!({})).await;
    assert_eq!(test.status, 200, "{:?}", test.json);
    let back = idp.authorize(test.json["redirect"].as_str().unwrap(), issuer, who, extra);
    location(&admin.get(&back).await)
}

/// The configuration's status and the method sign-in uses now.
async fn sso_state(admin: &mut Browser<'_>) -> (String, String) {
    let now = admin.get("/api/config/sso").await;
    (
        now.json["status"].as_str().unwrap().to_owned(),
        now.json["sign_in_method"].as_str().unwrap().to_owned(),
    )
}

/// An organisation whose admin is ready and verified the domain of their address, with a
/// provider at hand that nothing routes to yet.
struct Verified<'a> {
    idp: FakeIdp,
    admin_email: String,
    domain: String,
    reg: porter_shared::tenants::Registration,
    admin: Browser<'a>,
}

async fn verified_as<'a>(app: &'a TestApp, admin_email: &str) -> Verified<'a> {
    let idp = FakeIdp::start().await;
    let admin_email = admin_email.to_owned();
    let domain = domain_of(&admin_email);
    let (reg, mut admin) = app.ready_admin(&admin_email).await;
    admin.verify_domain(&domain).await;
    Verified {
        idp,
        admin_email,
        domain,
        reg,
        admin,
    }
}

/// An organisation whose admin has configured the provider and proven it with a test.
struct Setup<'a> {
    app: &'a TestApp,
    idp: FakeIdp,
    admin: Browser<'a>,
    admin_email: String,
    domain: String,
}

async fn configured(app: &TestApp) -> Setup<'_> {
    configured_as(app, &app.address("ann")).await
}

/// [`configured`], with the admin (and the domain) given.
async fn configured_as<'a>(app: &'a TestApp, admin_email: &str) -> Setup<'a> {
    let Verified {
        idp,
        admin_email,
        domain,
        mut admin,
        ..
    } = verified_as(app, admin_email).await;
    route_domain(&mut admin, &idp, &domain, &admin_email).await;
    Setup {
        app,
        idp,
        admin,
        admin_email,
        domain,
    }
}

/// The organisation routes `domain` to `idp`: the configuration saved (pending), then its
/// admin's (`admin_email`) test sign-in makes it active.
async fn route_domain(admin: &mut Browser<'_>, idp: &FakeIdp, domain: &str, admin_email: &str) {
    let saved = admin.put("/api/config/sso", oidc_body(idp, domain)).await;
    assert_eq!(
        (saved.status, saved.json["status"].as_str()),
        (200, Some("pending")),
        "{:?}",
        saved.json
    );
    let who = person("sub-ann", admin_email);
    let landed = test_sign_in(admin, idp, &idp.base, &who, json!({})).await;
    assert_eq!(landed, "/app/configuration/sso?tested=ok");
}

impl Setup<'_> {
    /// Adds a user (by the admin) at the organisation's domain.
    async fn add(&mut self, local: &str, role: &str) -> String {
        let email = format!("{local}@{}", self.domain);
        self.admin.add_user(&email, role).await;
        email
    }

    /// A fresh browser signing in as `who` through the provider; the callback's answer.
    async fn sign_in(&self, email: &str, who: &Person, extra: Value) -> (Browser<'_>, Answer) {
        let mut b = self.app.browser();
        let id = b
            .post("/api/login/identify", json!({ "email": email }))
            .await;
        assert_eq!(id.json["next"], "sso", "{:?}", id.json);
        let back = self.idp.authorize(
            id.json["redirect"].as_str().unwrap(),
            &self.idp.base,
            who,
            extra,
        );
        let a = b.get(&back).await;
        (b, a)
    }
}

#[tokio::test]
async fn an_admin_configures_a_provider_tests_it_and_then_the_domain_signs_in_through_it() {
    let app = TestApp::spawn().await;
    let Verified {
        idp,
        admin_email,
        domain,
        reg,
        mut admin,
    } = verified_as(&app, &app.address("ann")).await;

    let saved = admin.put("/api/config/sso", oidc_body(&idp, &domain)).await;
    assert_eq!(saved.status, 200, "{:?}", saved.json);
    assert_eq!(saved.json["issuer"], idp.base.as_str());
    assert_eq!(saved.json["has_secret"], true);
    assert_eq!(
        saved.json["sign_in_method"], "porter",
        "not used before the test"
    );
    let redirect_uri = saved.json["redirect_uri"].as_str().unwrap();
    let callback_ref = redirect_uri
        .strip_prefix("http://localhost:3000/api/login/callback/")
        .unwrap();
    assert!(callback_ref.len() >= 43, "{redirect_uri}");
    let mut nobody = app.browser();
    let id = nobody
        .post(
            "/api/login/identify",
            json!({ "email": format!("zed@{domain}") }),
        )
        .await;
    assert_eq!(
        id.json,
        json!({ "next": "password" }),
        "pending configurations route nobody"
    );

    let test = admin.post("/api/config/sso/test", json!({})).await;
    let redirect = test.json["redirect"].as_str().unwrap();
    assert!(
        redirect.starts_with(&format!("{}/authorize?", idp.base)),
        "{redirect}"
    );
    assert!(
        admin.sso_cookie.is_some(),
        "the sign-in is bound to this browser"
    );
    let back = idp.authorize(
        redirect,
        &idp.base,
        &person("sub-ann", &admin_email),
        json!({}),
    );
    let done = admin.get(&back).await;
    assert_eq!(location(&done), "/app/configuration/sso?tested=ok");
    assert_eq!(
        sso_state(&mut admin).await,
        ("active".into(), "oidc".into())
    );

    // Anyone of the domain, registered or not, is sent to the provider: the answer depends on
    // the domain only.
    let id = nobody
        .post(
            "/api/login/identify",
            json!({ "email": format!("zed@{domain}") }),
        )
        .await;
    assert_eq!(id.json["next"], "sso");
    let set = nobody.sso_cookie.clone().unwrap();
    assert!(set.starts_with("porter_sso="), "{set}");

    let bob = format!("bob@{domain}");
    let mut s = Setup {
        app: &app,
        idp,
        admin,
        admin_email,
        domain,
    };
    s.admin.add_user(&bob, "core").await;
    let (mut b, a) = s.sign_in(&bob, &person("sub-bob", &bob), json!({})).await;
    assert_eq!(location(&a), "/app");
    let cookie = a
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect::<Vec<_>>();
    assert!(
        cookie.iter().any(|c| c.starts_with("porter_session=")
            && c.contains("HttpOnly")
            && c.contains("SameSite=Lax")),
        "{cookie:?}"
    );
    assert!(
        cookie
            .iter()
            .any(|c| c.starts_with("porter_sso=;") && c.contains("Max-Age=0")),
        "{cookie:?}"
    );
    assert!(
        cookie
            .iter()
            .any(|c| c.starts_with("porter_device=") && c.contains("SameSite=Strict")),
        "a sign-in through the provider leaves a device cookie too: {cookie:?}"
    );
    let me = b.get("/api/me").await;
    assert_eq!(
        (me.status, me.json["user"]["email"].as_str()),
        (200, Some(bob.as_str()))
    );
    let link = app
        .item(keys::idp_pk(&s.idp.base, "sub-bob"), keys::IDP_SK)
        .await
        .unwrap();
    assert_eq!(get_s(&link, "tid"), Some(reg.tenant.as_str()));
    let user = app
        .item(
            keys::tenant_pk(&reg.tenant),
            &keys::user_sk(
                &porter_shared::domain::UserId::parse(get_s(&link, "uid").unwrap()).unwrap(),
            ),
        )
        .await
        .unwrap();
    assert_eq!(
        get_s(&user, "status"),
        Some("active"),
        "an invited user becomes active"
    );
    let actions = s.admin.audit_actions().await;
    for want in ["sso.configure", "sso.activate", "sso.link", "login.success"] {
        assert!(
            actions.iter().any(|a| a == want),
            "{want} missing from {actions:?}"
        );
    }
}

#[tokio::test]
async fn saving_checks_the_provider_and_the_domains_and_stores_nothing_when_a_check_fails() {
    let app = TestApp::spawn().await;
    let Verified {
        idp,
        admin_email: _,
        domain,
        reg,
        mut admin,
    } = verified_as(&app, &app.address("ann")).await;
    let cases = [
        (
            json!({ "method": "oidc", "client_id": CLIENT_ID, "client_secret": "s", "discovery_url": "http://10.1.2.3/.well-known/openid-configuration", "domains": [domain] }),
            422,
            "idp_address_refused",
        ),
        (
            json!({ "method": "oidc", "client_id": CLIENT_ID, "client_secret": "s", "discovery_url": "https://169.254.169.254/.well-known/openid-configuration", "domains": [domain] }),
            422,
            "idp_address_refused",
        ),
        (
            json!({ "method": "oidc", "client_id": CLIENT_ID, "client_secret": "s", "discovery_url": format!("{}/other", idp.base), "domains": [domain] }),
            422,
            "discovery_invalid",
        ),
        (
            json!({ "method": "oidc", "client_id": CLIENT_ID, "client_secret": "s", "discovery_url": idp.discovery_url(), "domains": ["gmail.com"] }),
            422,
            "domain_not_allowed",
        ),
        (
            json!({ "method": "oidc", "client_id": CLIENT_ID, "client_secret": "s", "discovery_url": idp.discovery_url(), "domains": ["nobody-here.example"] }),
            422,
            "domain_unverified",
        ),
        (
            json!({ "method": "oidc", "client_id": CLIENT_ID, "discovery_url": idp.discovery_url(), "domains": [domain] }),
            400,
            "invalid_request",
        ),
        (json!({ "method": "saml" }), 400, "invalid_method"),
        (
            json!({ "method": "entra_id", "client_id": CLIENT_ID, "client_secret": "s", "directory_id": "not-a-guid" }),
            400,
            "invalid_directory_id",
        ),
    ];
    for (body, status, code) in cases {
        let a = admin.put("/api/config/sso", body.clone()).await;
        assert_eq!(
            (a.status, a.code()),
            (status, code),
            "{body} → {:?}",
            a.json
        );
    }
    // A document whose issuer is not the one its URL promises.
    let mut doc = json!({
        "issuer": "https://evil.example", "authorization_endpoint": format!("{}/authorize", idp.base),
        "token_endpoint": format!("{}/token", idp.base), "jwks_uri": format!("{}/jwks", idp.base),
        "response_types_supported": ["code"], "code_challenge_methods_supported": ["S256"],
        "id_token_signing_alg_values_supported": ["RS256"],
    });
    idp.serve_discovery(doc.clone());
    let a = admin.put("/api/config/sso", oidc_body(&idp, &domain)).await;
    assert_eq!((a.status, a.code()), (422, "discovery_invalid"));
    assert!(
        a.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("issuer"),
        "{:?}",
        a.json
    );
    doc["issuer"] = json!(idp.base);
    doc["code_challenge_methods_supported"] = json!(["plain"]);
    idp.serve_discovery(doc);
    let a = admin.put("/api/config/sso", oidc_body(&idp, &domain)).await;
    assert_eq!((a.status, a.code()), (422, "discovery_invalid"));
    assert!(
        app.item(keys::tenant_pk(&reg.tenant), keys::SSO_SK)
            .await
            .is_none(),
        "nothing stored"
    );
}

#[tokio::test]
async fn a_domain_routes_to_one_organisation_and_the_secret_never_leaves_secrets_manager() {
    let app = TestApp::spawn().await;
    let mut s = configured(&app).await;
    let got = s.admin.get("/api/config/sso").await;
    assert_eq!(got.json["has_secret"], true);
    assert!(!got.json.to_string().contains(CLIENT_SECRET));
    for item in app.scan().await {
        assert!(!format!("{item:?}").contains(CLIENT_SECRET), "{item:?}");
    }
    // Another organisation, with a person at the same domain, may hold a challenge for it but
    // cannot verify it, nor route it.
    let other_admin = format!("olga@other-{}", s.domain);
    let (_, mut olga) = app.ready_admin(&other_admin).await;
    olga.add_user(&format!("xavier@{}", s.domain), "core").await;
    let added = olga
        .post("/api/config/sso/domains", json!({ "domain": s.domain }))
        .await;
    assert_eq!(added.status, 201, "{:?}", added.json);
    let verified = olga
        .publish_and_verify(&s.domain, added.json["txt_value"].as_str().unwrap())
        .await;
    assert_eq!(
        (verified.status, verified.code()),
        (409, "domain_taken"),
        "{:?}",
        verified.json
    );
    let a = olga
        .put("/api/config/sso", oidc_body(&s.idp, &s.domain))
        .await;
    assert_eq!(
        (a.status, a.code()),
        (422, "domain_unverified"),
        "{:?}",
        a.json
    );
    let route = app
        .item(keys::domain_pk(&s.domain), keys::DOMAIN_SK)
        .await
        .unwrap();
    let ours = s.admin.get("/api/me").await.json["tenant"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(get_s(&route, "tid"), Some(ours.as_str()));
    assert_eq!(get_s(&route, "verified_by"), Some("dns"));
}

#[tokio::test]
async fn a_core_user_gets_403_from_single_sign_on_configuration() {
    let app = TestApp::spawn().await;
    let admin_email = app.address("ann");
    let (_, mut admin) = app.ready_admin(&admin_email).await;
    let core = app.address("cora");
    admin.add_user(&core, "core").await;
    let mut c = app.ready_member(&core).await;
    assert_eq!(c.get("/api/config/sso").await.code(), "forbidden");
    assert_eq!(
        c.put("/api/config/sso", json!({ "method": "porter" }))
            .await
            .status,
        403
    );
    assert_eq!(c.post("/api/config/sso/test", json!({})).await.status, 403);
}

#[tokio::test]
async fn every_id_token_check_refuses_the_sign_in_and_creates_no_session() {
    let app = TestApp::spawn().await;
    let mut s = configured(&app).await;
    let bob = s.add("bob", "core").await;
    type Tamper = fn(&mut Value);
    let tampers: [(&str, Tamper); 8] = [
        ("wrong iss", |c| c["iss"] = json!("https://evil.example")),
        ("wrong aud", |c| c["aud"] = json!("someone-else")),
        ("several aud, no azp", |c| {
            c["aud"] = json!([CLIENT_ID, "other"])
        }),
        ("expired", |c| c["exp"] = json!(porter_tests::now() - 120)),
        ("issued in the future", |c| {
            c["iat"] = json!(porter_tests::now() + 600)
        }),
        ("missing sub", |c| {
            c.as_object_mut().unwrap().remove("sub");
        }),
        ("wrong nonce", |c| c["nonce"] = json!("not-the-nonce")),
        ("no nonce", |c| {
            c.as_object_mut().unwrap().remove("nonce");
        }),
    ];
    for (what, tamper) in tampers {
        s.idp.tamper(tamper);
        let (b, a) = s.sign_in(&bob, &person("sub-bob", &bob), json!({})).await;
        assert_eq!(location(&a), "/login?error=sso_failed", "{what}");
        assert!(b.cookie.is_none(), "{what}: no session");
    }
    s.idp.tamper(|_| {});
    for signing in [
        Signing::ForeignKey,
        Signing::None,
        Signing::Hs256WithPublicKey,
    ] {
        s.idp.sign_with(signing);
        let (b, a) = s.sign_in(&bob, &person("sub-bob", &bob), json!({})).await;
        assert_eq!(location(&a), "/login?error=sso_failed");
        assert!(b.cookie.is_none());
    }
    s.idp.sign_with(Signing::Honest);
    let (_, a) = s.sign_in(&bob, &person("sub-bob", &bob), json!({})).await;
    assert_eq!(location(&a), "/app", "the honest token still works");
    let audit = s.admin.get("/api/audit?limit=100").await;
    let failures: Vec<String> = audit.json["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "login.sso" && e["outcome"] == "failure")
        .map(|e| e["target"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(failures.len(), 11, "{failures:?}");
    assert!(
        failures.iter().any(|f| f.contains("nonce")),
        "the reason is in the trail: {failures:?}"
    );
}

#[tokio::test]
async fn a_state_works_once_only_in_the_browser_that_started_it_and_only_with_the_providers_iss() {
    let app = TestApp::spawn().await;
    let mut s = configured(&app).await;
    let bob = s.add("bob", "core").await;
    let mut b = app.browser();
    let id = b.post("/api/login/identify", json!({ "email": bob })).await;
    let back = s.idp.authorize(
        id.json["redirect"].as_str().unwrap(),
        &s.idp.base,
        &person("sub-bob", &bob),
        json!({}),
    );
    // Another browser presenting the same answer: refused, and the state is spent.
    let mut thief = app.browser();
    let stolen = thief.get(&back).await;
    assert_eq!(location(&stolen), "/login?error=sso_expired");
    assert!(thief.cookie.is_none());
    let replay = b.get(&back).await;
    assert_eq!(
        location(&replay),
        "/login?error=sso_expired",
        "a state works once"
    );

    let id = b.post("/api/login/identify", json!({ "email": bob })).await;
    let back = s.idp.authorize(
        id.json["redirect"].as_str().unwrap(),
        &s.idp.base,
        &person("sub-bob", &bob),
        json!({}),
    );
    let mixed = back.replace(
        &format!("iss={}", url_encode(&s.idp.base)),
        "iss=https%3A%2F%2Fevil.example",
    );
    assert_ne!(mixed, back);
    assert_eq!(location(&b.get(&mixed).await), "/login?error=sso_failed");

    let id = b.post("/api/login/identify", json!({ "email": bob })).await;
    let state = state_in(&id);
    let path = FakeIdp::callback_path(id.json["redirect"].as_str().unwrap());
    let cancelled = b
        .get(&format!("{path}?error=access_denied&state={state}"))
        .await;
    assert_eq!(location(&cancelled), "/login?error=sso_cancelled");
    let before = s.idp.token_requests();
    let none = b.get(&format!("{path}?code=x&state=never-issued")).await;
    assert_eq!(location(&none), "/login?error=sso_expired");
    assert_eq!(
        s.idp.token_requests(),
        before,
        "no code is exchanged for an unknown state"
    );
    let _ = &mut s;
}

fn url_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn a_rotated_provider_key_is_fetched_again_and_accepted() {
    let app = TestApp::spawn().await;
    let mut s = configured(&app).await;
    let bob = s.add("bob", "core").await;
    let (_, a) = s.sign_in(&bob, &person("sub-bob", &bob), json!({})).await;
    assert_eq!(location(&a), "/app");
    s.idp.rotate_keys("key-2");
    let (_, a) = s.sign_in(&bob, &person("sub-bob", &bob), json!({})).await;
    assert_eq!(location(&a), "/app");
}

#[tokio::test]
async fn linking_needs_a_verified_address_of_this_organisation_and_then_follows_the_subject() {
    let app = TestApp::spawn().await;
    let mut s = configured(&app).await;
    let bob = s.add("bob", "core").await;
    let unverified = Person {
        email_verified: false,
        ..person("sub-bob", &bob)
    };
    let (_, a) = s.sign_in(&bob, &unverified, json!({})).await;
    assert_eq!(
        location(&a),
        "/login?error=sso_failed",
        "an unverified address is not linked"
    );
    let (_, a) = s
        .sign_in(
            &bob,
            &person("sub-zed", &format!("zed@{}", s.domain)),
            json!({}),
        )
        .await;
    assert_eq!(location(&a), "/login?error=sso_not_registered");
    // A person of another organisation at an address outside the configuration's verified
    // domains is not linked, whatever the provider says.
    let outside = format!("eve@outside-{}", s.domain);
    app.register("Outside", &outside).await;
    let (_, a) = s
        .sign_in(&bob, &person("sub-eve", &outside), json!({}))
        .await;
    assert_eq!(
        location(&a),
        "/login?error=sso_not_registered",
        "an address at an unverified domain is not linked"
    );
    assert!(app
        .item(keys::idp_pk(&s.idp.base, "sub-eve"), keys::IDP_SK)
        .await
        .is_none());

    let (_, a) = s.sign_in(&bob, &person("sub-bob", &bob), json!({})).await;
    assert_eq!(location(&a), "/app");
    // The email claim changed at the provider: the subject still finds bob.
    let (mut b, a) = s
        .sign_in(
            &bob,
            &person("sub-bob", "robert@elsewhere.example"),
            json!({}),
        )
        .await;
    assert_eq!(location(&a), "/app");
    assert_eq!(b.get("/api/me").await.json["user"]["email"], bob.as_str());
    // Another subject presenting bob's address is refused.
    let (b, a) = s
        .sign_in(&bob, &person("sub-impostor", &bob), json!({}))
        .await;
    assert_eq!(location(&a), "/login?error=sso_failed");
    assert!(b.cookie.is_none());
}

#[tokio::test]
async fn a_password_does_not_bypass_the_identity_provider() {
    let app = TestApp::spawn().await;
    let s = configured(&app).await;
    let mut b = app.browser();
    let a = b
        .post(
            "/api/login/password",
            json!({ "email": s.admin_email, "password": PASSWORD }),
        )
        .await;
    assert_eq!((a.status, a.code()), (401, "invalid_credentials"));
    assert!(b.cookie.is_none());
}

#[tokio::test]
async fn a_test_that_names_another_person_leaves_the_configuration_pending() {
    let app = TestApp::spawn().await;
    let Verified {
        idp,
        admin_email: _,
        domain,
        mut admin,
        ..
    } = verified_as(&app, &app.address("ann")).await;
    let bob = format!("bob@{domain}");
    admin.add_user(&bob, "admin").await;
    admin.put("/api/config/sso", oidc_body(&idp, &domain)).await;
    let landed = test_sign_in(
        &mut admin,
        &idp,
        &idp.base,
        &person("sub-bob", &bob),
        json!({}),
    )
    .await;
    assert_eq!(
        landed,
        "/app/configuration/sso?tested=failed&reason=sso_other_person"
    );
    assert_eq!(
        sso_state(&mut admin).await,
        ("pending".into(), "porter".into())
    );
    // Back to passwords is always possible, at once.
    let back = admin
        .put("/api/config/sso", json!({ "method": "porter" }))
        .await;
    assert_eq!(
        (back.status, back.json["method"].as_str()),
        (200, Some("porter"))
    );
    let id = app
        .browser()
        .post("/api/login/identify", json!({ "email": bob }))
        .await;
    assert_eq!(id.json, json!({ "next": "password" }), "nothing routes");
}

#[tokio::test]
async fn entra_id_is_found_by_directory_and_its_tid_must_match() {
    let idp = FakeIdp::start().await;
    let authority = idp.base.clone();
    let app =
        TestApp::spawn_with(|c| c.entra_authority = url::Url::parse(&authority).unwrap()).await;
    let directory = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    let issuer = idp.entra_issuer(directory);
    let admin_email = app.address("ann");
    let domain = domain_of(&admin_email);
    let (_, mut admin) = app.ready_admin(&admin_email).await;
    admin.verify_domain(&domain).await;
    let saved = admin
        .put(
            "/api/config/sso",
            json!({
                "method": "entra_id", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                "directory_id": directory, "domains": [domain], "second_factor": "never",
            }),
        )
        .await;
    assert_eq!(
        (saved.status, saved.json["issuer"].as_str()),
        (200, Some(issuer.as_str())),
        "{:?}",
        saved.json
    );
    let entra = |email: &str| json!({ "tid": directory, "preferred_username": email });
    // Entra ID vouches through preferred_username, whatever `email` says.
    let who = Person {
        email_verified: false,
        ..person("oid-ann", "ignored@x.example")
    };
    let landed = test_sign_in(&mut admin, &idp, &issuer, &who, entra(&admin_email)).await;
    assert_eq!(landed, "/app/configuration/sso?tested=ok");

    let bob = format!("bob@{domain}");
    admin.add_user(&bob, "core").await;
    let mut b = app.browser();
    let id = b.post("/api/login/identify", json!({ "email": bob })).await;
    let other_tid =
        json!({ "tid": "00000000-0000-0000-0000-000000000000", "preferred_username": bob });
    let back = idp.authorize(
        id.json["redirect"].as_str().unwrap(),
        &issuer,
        &person("oid-bob", &bob),
        other_tid,
    );
    assert_eq!(location(&b.get(&back).await), "/login?error=sso_failed");
    let id = b.post("/api/login/identify", json!({ "email": bob })).await;
    let back = idp.authorize(
        id.json["redirect"].as_str().unwrap(),
        &issuer,
        &person("oid-bob", &bob),
        entra(&bob),
    );
    assert_eq!(location(&b.get(&back).await), "/app");
}

#[tokio::test]
async fn with_mfa_after_sso_the_provider_gives_only_the_first_factor() {
    let app = TestApp::spawn().await;
    let mut s = configured(&app).await;
    let mut body = oidc_body(&s.idp, &s.domain);
    // The older switch still works: `true` is `always`.
    body["mfa_after_sso"] = json!(true);
    body.as_object_mut().unwrap().remove("second_factor");
    body.as_object_mut().unwrap().remove("client_secret");
    let saved = s.admin.put("/api/config/sso", body).await;
    assert_eq!(
        (saved.status, saved.json["has_secret"].as_bool()),
        (200, Some(true)),
        "the stored secret is kept"
    );
    let who = person("sub-ann", &s.admin_email);
    let landed = test_sign_in(&mut s.admin, &s.idp, &s.idp.base, &who, json!({})).await;
    assert_eq!(landed, "/app/configuration/sso?tested=ok");

    let bob = s.add("bob", "core").await;
    let (mut b, a) = s.sign_in(&bob, &person("sub-bob", &bob), json!({})).await;
    assert_eq!(location(&a), "/login?step=mfa_enroll");
    assert_eq!(
        b.get("/api/me").await.code(),
        "mfa_required",
        "the session is at the password level"
    );
    b.enrol_totp_after_first_factor().await;
    assert_eq!(b.get("/api/me").await.status, 200);
}

#[tokio::test]
async fn people_added_to_a_routed_domain_are_invited_to_sign_in_with_their_company_account() {
    let app = TestApp::spawn().await;
    let mut s = configured(&app).await;
    let bob = s.add("bob", "core").await;
    let mail = app.outbox(&bob).await.pop().unwrap();
    assert!(
        mail.body.contains("Sign in with your company account"),
        "{}",
        mail.body
    );
    assert!(
        !mail.body.contains("/activate?token="),
        "no password link: {}",
        mail.body
    );
    let elsewhere = app.address("carol").replace("@", "@other-");
    s.admin.add_user(&elsewhere, "core").await;
    let mail = app.outbox(&elsewhere).await.pop().unwrap();
    assert!(
        mail.body.contains("/activate?token="),
        "other domains choose a password"
    );
}

#[tokio::test]
async fn the_operator_preconfigures_single_sign_on_and_can_turn_it_off_again() {
    use porter_shared::domain::{Email, SsoMethod, Timestamp};
    use porter_shared::tenants;
    let app = TestApp::spawn().await;
    let idp = FakeIdp::start().await;
    let admin = app.address("ann");
    let input = tenants::OperatorSso {
        method: SsoMethod::Oidc,
        client_id: CLIENT_ID.into(),
        client_secret: secrecy::SecretString::from(CLIENT_SECRET.to_owned()),
        discovery_url: Some(idp.discovery_url()),
        directory_id: None,
        domains: vec![domain_of(&admin)],
        second_factor: porter_shared::domain::SecondFactorPolicy::Never,
    };
    let config = tenants::check_operator_config(&app.state, &input)
        .await
        .unwrap();
    let reg = tenants::register_tenant_with_sso(
        &app.state,
        "Acme",
        &Email::parse(&admin).unwrap(),
        None,
        Some((config, input.client_secret)),
        Timestamp::now(),
    )
    .await
    .unwrap();
    let mail = app.outbox(&admin).await.pop().unwrap();
    assert!(
        mail.body.contains("Sign in with your company account"),
        "{}",
        mail.body
    );
    // The first admin's first sign-in goes straight to the provider and activates them.
    let mut b = app.browser();
    let id = b
        .post("/api/login/identify", json!({ "email": admin }))
        .await;
    assert_eq!(id.json["next"], "sso");
    let back = idp.authorize(
        id.json["redirect"].as_str().unwrap(),
        &idp.base,
        &person("sub-ann", &admin),
        json!({}),
    );
    assert_eq!(location(&b.get(&back).await), "/app/setup");

    // Someone invited a moment ago, to sign in with the company account.
    let bob = format!("bob@{}", domain_of(&admin));
    let s = b
        .post("/api/setup", json!({ "organisation_name": "Acme Ltd" }))
        .await;
    assert_eq!(s.status, 200, "{:?}", s.json);
    b.add_user(&bob, "core").await;

    let mut emailed = tenants::disable_by_operator(&app.state, &reg.tenant)
        .await
        .unwrap();
    emailed.sort();
    let mut expected = vec![admin.clone(), bob.clone()];
    expected.sort();
    assert_eq!(
        emailed, expected,
        "who never had a password gets a link to set one"
    );
    let reset = app.outbox(&admin).await.pop().unwrap();
    assert!(reset.body.contains("/reset?token="), "{}", reset.body);
    let invitation = app.outbox(&bob).await.pop().unwrap();
    assert!(
        invitation.body.contains("/activate?token="),
        "{}",
        invitation.body
    );
    let id = app
        .browser()
        .post("/api/login/identify", json!({ "email": admin }))
        .await;
    assert_eq!(
        id.json,
        json!({ "next": "password" }),
        "passwords again, at once"
    );
}

#[tokio::test]
async fn a_person_without_a_role_signs_in_through_the_provider_and_is_told_to_ask_the_administrator(
) {
    let app = TestApp::spawn().await;
    let mut s = configured(&app).await;
    let email = format!("nora@{}", s.domain);
    let added = s
        .admin
        .post("/api/users", json!({ "email": email, "role": null }))
        .await;
    assert_eq!(added.status, 201, "{:?}", added.json);
    let (mut b, a) = s
        .sign_in(&email, &person("sub-nora", &email), json!({}))
        .await;
    assert_eq!(location(&a), "/app");
    assert_eq!(b.get("/api/me").await.code(), "no_role");
}

#[tokio::test]
async fn a_callback_reads_few_items_and_the_client_secret_once_per_instance() {
    let app = TestApp::spawn().await;
    let outage = porter_tests::Outage::start(&app.moto).await;
    let via = app.through(&outage.url);
    let mut s = configured(&via).await;
    let bob = s.add("bob", "core").await;
    let who = person("sub-bob", &bob);
    let mut counts = Vec::new();
    for round in ["first sign-in", "linked sign-in"] {
        let mut b = via.browser();
        let id = b.post("/api/login/identify", json!({ "email": bob })).await;
        let back = s.idp.authorize(
            id.json["redirect"].as_str().unwrap(),
            &s.idp.base,
            &who,
            json!({}),
        );
        outage.take_dynamodb();
        let a = b.get(&back).await;
        assert_eq!(location(&a), "/app", "{round}");
        let (trips, others) = outage.take_split();
        println!(
            "{round}: {} requests {:?}; {others:?}",
            trips.operations.len(),
            trips.rounds
        );
        counts.push(trips.operations.len());
        // The test sign-in read the secret; the instance keeps it.
        assert!(
            !others.iter().any(|op| op.contains("GetSecretValue")),
            "{round}: the client secret was read again: {others:?}"
        );
    }
    assert!(
        counts[0] <= 6,
        "first sign-in: {} DynamoDB requests",
        counts[0]
    );
    assert!(
        counts[1] <= 5,
        "linked sign-in: {} DynamoDB requests",
        counts[1]
    );
}

#[tokio::test]
async fn a_changed_client_needs_its_secret_again_and_saving_needs_a_recent_proof() {
    let app = TestApp::spawn().await;
    let mut s = configured(&app).await;
    let mut body = oidc_body(&s.idp, &s.domain);
    body["client_id"] = json!("another-client");
    body.as_object_mut().unwrap().remove("client_secret");
    let a = s.admin.put("/api/config/sso", body).await;
    assert_eq!(
        (a.status, a.code()),
        (422, "secret_required"),
        "{:?}",
        a.json
    );
    let now = s.admin.get("/api/config/sso").await;
    assert_eq!(now.json["client_id"], CLIENT_ID, "nothing was stored");
    assert_eq!(now.json["status"], "active");

    // Five minutes after the last proof of the second factor, where sign-in goes cannot change.
    s.admin.age_proof(301).await;
    let a = s
        .admin
        .put("/api/config/sso", oidc_body(&s.idp, &s.domain))
        .await;
    assert_eq!(
        (a.status, a.code()),
        (403, "reauth_required"),
        "{:?}",
        a.json
    );
    let off = s
        .admin
        .put("/api/config/sso", json!({ "method": "porter" }))
        .await;
    assert_eq!((off.status, off.code()), (403, "reauth_required"));
}

#[tokio::test]
async fn an_authorization_endpoint_that_is_not_https_is_refused_at_save() {
    let app = TestApp::spawn().await;
    let Verified {
        idp,
        admin_email: _,
        domain,
        mut admin,
        ..
    } = verified_as(&app, &app.address("ann")).await;
    idp.serve_discovery(json!({
        "issuer": idp.base, "authorization_endpoint": "http://idp.example.com/authorize",
        "token_endpoint": format!("{}/token", idp.base), "jwks_uri": format!("{}/jwks", idp.base),
        "response_types_supported": ["code"], "code_challenge_methods_supported": ["S256"],
        "id_token_signing_alg_values_supported": ["RS256"],
    }));
    let a = admin.put("/api/config/sso", oidc_body(&idp, &domain)).await;
    assert_eq!(
        (a.status, a.code()),
        (422, "discovery_invalid"),
        "{:?}",
        a.json
    );
    let message = a.json["error"]["message"].as_str().unwrap();
    assert!(message.contains("authorization endpoint"), "{message}");
}

#[tokio::test]
async fn a_failed_callback_keeps_only_an_oauth_error_code_in_the_trail() {
    let app = TestApp::spawn().await;
    let s = configured(&app).await;
    let bob = s.admin_email.replace("ann@", "bob@");
    let mut b = app.browser();
    let id = b.post("/api/login/identify", json!({ "email": bob })).await;
    let state = state_in(&id);
    let path = FakeIdp::callback_path(id.json["redirect"].as_str().unwrap());
    let crafted = "call%20us%20at%20555-0100%20to%20restore%20access";
    let a = b
        .get(&format!(
            "{path}?state={state}&error={crafted}&error_description={crafted}"
        ))
        .await;
    assert_eq!(location(&a), "/login?error=sso_cancelled");
    let trail = format!("{:?}", app.scan().await);
    assert!(trail.contains("error=unknown"), "{trail}");
    assert!(!trail.contains("555-0100"), "{trail}");
}

#[tokio::test]
async fn a_pin_sent_before_the_domain_was_routed_to_a_provider_no_longer_signs_in() {
    let app = TestApp::spawn().await;
    let Verified {
        idp,
        admin_email,
        domain,
        mut admin,
        ..
    } = verified_as(&app, &app.address("ann")).await;
    let on = admin
        .put("/api/config/signin", json!({ "email_pin": true }))
        .await;
    assert_eq!(on.status, 200);
    let bob = format!("bob@{domain}");
    admin.add_user(&bob, "core").await;
    let mut b = app.browser();
    let asked = b
        .post("/api/login/pin/request", json!({ "email": bob }))
        .await;
    assert_eq!(asked.status, 202);
    let pin = app.pin_from_outbox(&bob).await.expect("a PIN was emailed");

    // Meanwhile the organisation moves its domain to its identity provider.
    route_domain(&mut admin, &idp, &domain, &admin_email).await;

    let a = b
        .post("/api/login/pin", json!({ "email": bob, "pin": pin }))
        .await;
    assert_eq!(
        (a.status, a.code()),
        (401, "invalid_credentials"),
        "{:?}",
        a.json
    );
}

#[tokio::test]
async fn a_key_published_for_encryption_or_another_alg_verifies_no_token() {
    for (kid, mark) in [("key-enc", "use"), ("key-es256", "alg")] {
        // A stack each: the key set is sent for once, not once per case.
        let app = TestApp::spawn().await;
        let mut s = configured(&app).await;
        let bob = s.add("bob", "core").await;
        s.idp.rotate_keys(kid);
        s.idp.mark_keys(|k| {
            if mark == "use" {
                k["use"] = json!("enc");
            } else {
                k["alg"] = json!("ES256");
            }
        });
        let (_, a) = s.sign_in(&bob, &person("sub-bob", &bob), json!({})).await;
        assert_eq!(location(&a), "/login?error=sso_failed", "{kid}");
    }
}

#[tokio::test]
async fn an_unknown_key_sends_for_the_key_set_again_at_most_once_a_minute() {
    let app = TestApp::spawn().await;
    let mut s = configured(&app).await;
    let bob = s.add("bob", "core").await;
    let who = person("sub-bob", &bob);
    let (_, a) = s.sign_in(&bob, &who, json!({})).await;
    assert_eq!(location(&a), "/app", "the cached set signs in");
    let fetched = s.idp.jwks_requests();

    s.idp.rotate_keys("key-2");
    let (_, a) = s.sign_in(&bob, &who, json!({})).await;
    assert_eq!(location(&a), "/app", "a new key is fetched once");
    assert_eq!(s.idp.jwks_requests(), fetched + 1);

    // Another unknown key within the minute: the set is not fetched again.
    s.idp.rotate_keys("key-3");
    let (_, a) = s.sign_in(&bob, &who, json!({})).await;
    assert_eq!(location(&a), "/login?error=sso_failed");
    assert_eq!(
        s.idp.jwks_requests(),
        fetched + 1,
        "no second fetch within a minute"
    );
}

#[tokio::test]
async fn removing_a_person_removes_their_link_and_a_person_added_again_links_afresh() {
    let app = TestApp::spawn().await;
    let mut s = configured(&app).await;
    let bob = s.add("bob", "core").await;
    let who = person("sub-bob", &bob);
    let (_, a) = s.sign_in(&bob, &who, json!({})).await;
    assert_eq!(location(&a), "/app");
    let link = keys::idp_pk(&s.idp.base, "sub-bob");
    assert!(
        app.item(link.clone(), keys::IDP_SK).await.is_some(),
        "linked"
    );

    let users = s.admin.get("/api/users").await;
    let id = users.json["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == bob)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        s.admin.delete(&format!("/api/users/{id}")).await.status,
        204
    );
    assert!(
        app.item(link, keys::IDP_SK).await.is_none(),
        "the link died with the person"
    );

    s.admin.add_user(&bob, "core").await;
    let (_, a) = s.sign_in(&bob, &who, json!({})).await;
    assert_eq!(location(&a), "/app", "linked again by address");
}

#[tokio::test]
async fn linking_a_company_sign_in_to_an_account_with_a_password_is_emailed() {
    let app = TestApp::spawn().await;
    let mut s = configured(&app).await;
    let linked = |mails: Vec<porter_dev::outbox::SentMail>| {
        mails
            .into_iter()
            .filter(|m| m.subject.contains("company sign-in was linked"))
            .count()
    };
    // The admin had a password and a second factor: their test sign-in linked them.
    assert_eq!(linked(app.outbox(&s.admin_email).await), 1);
    // Someone invited who never had another way in is not told.
    let bob = s.add("bob", "core").await;
    let (_, a) = s.sign_in(&bob, &person("sub-bob", &bob), json!({})).await;
    assert_eq!(location(&a), "/app");
    assert_eq!(linked(app.outbox(&bob).await), 0);
}

#[tokio::test]
async fn an_answer_without_iss_from_a_provider_that_always_names_itself_is_refused_before_the_token_request(
) {
    let app = TestApp::spawn().await;
    let mut s = configured(&app).await;
    let bob = s.add("bob", "core").await;
    let mut b = app.browser();
    let id = b.post("/api/login/identify", json!({ "email": bob })).await;
    s.idp.omit_iss();
    let without_iss = s.idp.authorize(
        id.json["redirect"].as_str().unwrap(),
        &s.idp.base,
        &person("sub-bob", &bob),
        json!({}),
    );
    assert!(!without_iss.contains("iss="), "{without_iss}");
    let before = s.idp.token_requests();
    let a = b.get(&without_iss).await;
    assert_eq!(location(&a), "/login?error=sso_failed");
    assert_eq!(s.idp.token_requests(), before, "no code was sent anywhere");
    assert!(b.cookie.is_none());
}

#[tokio::test]
async fn failed_callbacks_nobody_signed_in_to_make_are_written_to_the_trail_twenty_times_at_most() {
    let app = TestApp::spawn().await;
    let mut s = configured(&app).await;
    let bob = s.add("bob", "core").await;
    let mut b = app.browser();
    for _ in 0..23 {
        let id = b.post("/api/login/identify", json!({ "email": bob })).await;
        let state = state_in(&id);
        let path = FakeIdp::callback_path(id.json["redirect"].as_str().unwrap());
        let a = b
            .get(&format!("{path}?error=access_denied&state={state}"))
            .await;
        assert_eq!(location(&a), "/login?error=sso_cancelled");
    }
    let written = app
        .scan()
        .await
        .into_iter()
        .filter(|i| {
            get_s(i, "action") == Some("login.sso") && get_s(i, "outcome") == Some("failure")
        })
        .count();
    assert_eq!(written, 20, "counted past twenty, not written");
}

#[tokio::test]
async fn only_a_domain_proved_in_dns_routes_and_another_tenants_admin_cannot_take_it() {
    let app = TestApp::spawn().await;
    let idp = FakeIdp::start().await;
    let bigcorp = format!("bigcorp-{}.test", std::process::id());
    // Evil's admin adds someone at bigcorp and tries to route the domain to its own provider.
    let (_, mut evil) = app.ready_admin(&app.address("eve")).await;
    evil.add_user(&format!("x@{bigcorp}"), "core").await;
    let a = evil.put("/api/config/sso", oidc_body(&idp, &bigcorp)).await;
    assert_eq!(
        (a.status, a.code()),
        (422, "domain_unverified"),
        "{:?}",
        a.json
    );
    let public = evil
        .post("/api/config/sso/domains", json!({ "domain": "gmail.com" }))
        .await;
    assert_eq!((public.status, public.code()), (422, "domain_not_allowed"));
    let junk = evil
        .post(
            "/api/config/sso/domains",
            json!({ "domain": "not a domain" }),
        )
        .await;
    assert_eq!((junk.status, junk.code()), (400, "invalid_domain"));

    let added = evil
        .post("/api/config/sso/domains", json!({ "domain": bigcorp }))
        .await;
    assert_eq!(added.status, 201, "{:?}", added.json);
    assert_eq!(added.json["status"], "unverified");
    assert_eq!(added.json["verified_by"], Value::Null);
    assert_eq!(
        added.json["txt_name"],
        format!("_porter-challenge.{bigcorp}")
    );
    let evil_value = added.json["txt_value"].as_str().unwrap().to_owned();
    let random = evil_value.strip_prefix("porter-verification=").unwrap();
    assert!(random.len() >= 22, "at least 128 bits: {evil_value}");
    let none = evil
        .post(
            &format!("/api/config/sso/domains/{bigcorp}/verify"),
            json!({}),
        )
        .await;
    assert_eq!((none.status, none.code()), (422, "domain_unverified"));
    let said = none.json["error"]["message"].as_str().unwrap();
    assert!(
        said.contains(&format!("no TXT record at _porter-challenge.{bigcorp}")),
        "{said}"
    );

    // BigCorp holds its own challenge for the same domain and proves it in its DNS.
    let (_, mut big) = app.ready_admin(&format!("ann@{bigcorp}")).await;
    let mine = big
        .post("/api/config/sso/domains", json!({ "domain": bigcorp }))
        .await;
    assert_eq!(mine.status, 201, "any number of pending challenges");
    let big_value = mine.json["txt_value"].as_str().unwrap().to_owned();
    assert_ne!(big_value, evil_value);
    let wrong = big
        .publish_and_verify(&bigcorp, "porter-verification=nope")
        .await;
    assert_eq!((wrong.status, wrong.code()), (422, "domain_unverified"));
    assert!(
        wrong.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("is not"),
        "{:?}",
        wrong.json
    );
    let ok = big.publish_and_verify(&bigcorp, &big_value).await;
    assert_eq!(
        (ok.status, ok.json["status"].as_str()),
        (200, Some("verified"))
    );
    // Verified once is verified, even when the record is taken down afterwards.
    app.dns
        .set_txt(&format!("_porter-challenge.{bigcorp}"), vec![]);
    let again = big
        .post(
            &format!("/api/config/sso/domains/{bigcorp}/verify"),
            json!({}),
        )
        .await;
    assert_eq!(again.json["status"], "verified", "{:?}", again.json);
    // Evil publishing its own value now gets nowhere: BigCorp verified it first.
    let late = evil.publish_and_verify(&bigcorp, &evil_value).await;
    assert_eq!((late.status, late.code()), (409, "domain_taken"));
    let a = evil.put("/api/config/sso", oidc_body(&idp, &bigcorp)).await;
    assert_eq!((a.status, a.code()), (422, "domain_unverified"));
    let listed = big.get("/api/config/sso/domains").await;
    assert_eq!(listed.json["domains"][0]["domain"], bigcorp.as_str());
    assert_eq!(listed.json["domains"][0]["status"], "verified");
    assert_eq!(listed.json["domains"][0]["verified_by"], "dns");
    assert!(listed.json["domains"][0]["verified_at"].is_string());

    // Routed once BigCorp's configuration is active; released only when nothing names it.
    big.put("/api/config/sso", oidc_body(&idp, &bigcorp)).await;
    let in_use = big
        .delete(&format!("/api/config/sso/domains/{bigcorp}"))
        .await;
    assert_eq!((in_use.status, in_use.code()), (409, "domain_in_use"));
    big.put("/api/config/sso", json!({ "method": "porter" }))
        .await;
    let gone = big
        .delete(&format!("/api/config/sso/domains/{bigcorp}"))
        .await;
    assert_eq!(gone.status, 204);
    assert!(app
        .item(keys::domain_pk(&bigcorp), keys::DOMAIN_SK)
        .await
        .is_none());
    let actions = big.audit_actions().await;
    for want in ["domain.add", "domain.verify", "domain.remove"] {
        assert!(actions.iter().any(|a| a == want), "{want}: {actions:?}");
    }
}

#[tokio::test]
async fn a_person_of_another_organisation_at_a_verified_domain_lands_in_their_own_after_porters_second_factor(
) {
    let app = TestApp::spawn().await;
    let s = configured(&app).await;
    // Olga's organisation has a person at the domain s verified.
    let (olga_reg, mut olga) = app.ready_admin(&format!("olga@other-{}", s.domain)).await;
    let xavier = format!("xavier@{}", s.domain);
    olga.add_user(&xavier, "core").await;
    let (mut b, a) = s
        .sign_in(
            &xavier,
            &person("sub-xavier", &xavier),
            json!({ "amr": ["pwd", "mfa"] }),
        )
        .await;
    assert_eq!(
        location(&a),
        "/login?step=mfa_enroll",
        "whatever the provider proved, Porter's own factor follows"
    );
    assert_eq!(b.get("/api/me").await.code(), "mfa_required");
    b.enrol_totp_after_first_factor().await;
    let me = b.get("/api/me").await;
    assert_eq!(me.json["tenant"]["id"], olga_reg.tenant.as_str());
    assert_eq!(me.json["user"]["email"], xavier.as_str());
}

#[tokio::test]
async fn an_answer_at_another_configurations_redirect_uri_is_refused_before_any_token_request() {
    let app = TestApp::spawn().await;
    // A's provider is the attacker's; B's is an honest one, whose client id and redirect URI
    // anyone can read off its sign-in pages.
    let mut a = configured(&app).await;
    let mut b_setup = configured_as(&app, &format!("ann@b-{}", a.domain)).await;
    let other_uri = b_setup.admin.get("/api/config/sso").await.json["redirect_uri"]
        .as_str()
        .unwrap()
        .to_owned();
    a.idp.bounce_to(&b_setup.idp, CLIENT_ID, &other_uri);
    let bob = a.add("bob", "core").await;
    let mut browser = app.browser();
    let id = browser
        .post("/api/login/identify", json!({ "email": bob }))
        .await;
    // The attacker's authorization endpoint sends the browser on to the honest provider, which
    // answers at its own registered redirect URI with the state of A's sign-in.
    porter_shared::outbound::use_sdk_tls_provider();
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let bounced = no_redirects
        .get(id.json["redirect"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(bounced.status(), 302);
    let at_honest = bounced.headers()["location"].to_str().unwrap().to_owned();
    assert!(at_honest.starts_with(&b_setup.idp.base), "{at_honest}");
    let back = b_setup.idp.authorize(
        &at_honest,
        &b_setup.idp.base,
        &person("sub-bob", &bob),
        json!({}),
    );
    let query = back.split_once('?').unwrap().1.to_owned();
    let other_path = url::Url::parse(&other_uri).unwrap().path().to_owned();
    assert!(back.starts_with(&other_path), "{back}");
    let before = (a.idp.token_requests(), b_setup.idp.token_requests());
    let mixed = browser.get(&back).await;
    assert_eq!(location(&mixed), "/login?error=sso_failed");
    let shared = browser.get(&format!("/api/login/callback?{query}")).await;
    assert_eq!(
        location(&shared),
        "/login?error=sso_expired",
        "the state was spent"
    );
    assert_eq!(
        (a.idp.token_requests(), b_setup.idp.token_requests()),
        before,
        "no code went to any token endpoint"
    );
    // The old shared path refuses a fresh answer too.
    let id = browser
        .post("/api/login/identify", json!({ "email": bob }))
        .await;
    let back = a.idp.authorize(
        id.json["redirect"].as_str().unwrap(),
        &a.idp.base,
        &person("sub-bob", &bob),
        json!({}),
    );
    let query = back.split_once('?').unwrap().1;
    let shared = browser.get(&format!("/api/login/callback?{query}")).await;
    assert_eq!(location(&shared), "/login?error=sso_failed");
    assert_eq!(a.idp.token_requests(), before.0);
    assert!(browser.cookie.is_none());
}

#[tokio::test]
async fn a_stored_secret_is_never_sent_to_a_token_endpoint_it_was_not_saved_for() {
    let app = TestApp::spawn().await;
    let mut s = configured(&app).await;
    let evil = FakeIdp::start().await;
    // The provider's discovery document now names another token endpoint.
    let mut doc = json!({
        "issuer": s.idp.base, "authorization_endpoint": format!("{}/authorize", s.idp.base),
        "token_endpoint": format!("{}/token", evil.base), "jwks_uri": format!("{}/jwks", s.idp.base),
        "response_types_supported": ["code"], "code_challenge_methods_supported": ["S256"],
        "id_token_signing_alg_values_supported": ["RS256"],
    });
    s.idp.serve_discovery(doc.clone());
    let mut body = oidc_body(&s.idp, &s.domain);
    body.as_object_mut().unwrap().remove("client_secret");
    let a = s.admin.put("/api/config/sso", body.clone()).await;
    assert_eq!(
        (a.status, a.code()),
        (422, "secret_required"),
        "{:?}",
        a.json
    );
    // Only a secret typed again goes there.
    body["client_secret"] = json!(CLIENT_SECRET);
    let a = s.admin.put("/api/config/sso", body).await;
    assert_eq!(a.status, 200, "{:?}", a.json);
    let who = person("sub-ann", &s.admin_email);
    test_sign_in(&mut s.admin, &s.idp, &s.idp.base, &who, json!({})).await;
    assert_eq!(evil.received_secrets(), vec![CLIENT_SECRET.to_owned()]);
    doc["token_endpoint"] = json!(format!("{}/token", s.idp.base));
    s.idp.serve_discovery(doc);
    assert!(s.idp.received_secrets().iter().all(|x| x == CLIENT_SECRET));
}

#[tokio::test]
async fn porters_second_factor_follows_by_policy_and_what_the_providers_amr_shows() {
    let app = TestApp::spawn().await;
    let mut s = configured(&app).await;
    let bob = s.add("bob", "core").await;
    let policy = |value: Value| {
        let mut body = oidc_body(&s.idp, &s.domain);
        body.as_object_mut().unwrap().remove("second_factor");
        if !value.is_null() {
            body["second_factor"] = value;
        }
        body
    };
    let default = policy(Value::Null);
    let unless = policy(json!("unless_provider_mfa"));
    let never = policy(json!("never"));
    let bad = policy(json!("sometimes"));
    let a = s.admin.put("/api/config/sso", bad).await;
    assert_eq!((a.status, a.code()), (400, "invalid_second_factor"));
    let cases = [
        (
            default,
            json!({ "amr": ["pwd", "mfa"] }),
            "/login?step=mfa_enroll",
            "always",
        ),
        (
            unless.clone(),
            json!({ "amr": ["pwd", "otp"] }),
            "/app",
            "unless_provider_mfa",
        ),
        (
            unless,
            json!({ "amr": ["pwd"] }),
            "/login?step=mfa_enroll",
            "unless_provider_mfa",
        ),
        (never, json!({}), "/app", "never"),
    ];
    for (body, amr, lands, shown) in cases {
        let saved = s.admin.put("/api/config/sso", body).await;
        assert_eq!(saved.json["second_factor"], shown, "{:?}", saved.json);
        let who = person("sub-ann", &s.admin_email);
        let tested = test_sign_in(&mut s.admin, &s.idp, &s.idp.base, &who, json!({})).await;
        assert_eq!(tested, "/app/configuration/sso?tested=ok");
        let (_, a) = s.sign_in(&bob, &person("sub-bob", &bob), amr.clone()).await;
        assert_eq!(location(&a), lands, "{shown} with {amr}");
    }
    let mut trail = s.admin.get("/api/audit?action=sso.second_factor").await;
    let events = trail.json["events"].take();
    assert!(
        events.to_string().contains("never"),
        "the admin's choice is audited: {events}"
    );
}

#[tokio::test]
async fn a_failed_test_links_nobody_but_the_admin_and_a_new_issuer_lets_people_link_again() {
    let app = TestApp::spawn().await;
    let mut s = configured(&app).await;
    let bob = s.add("bob", "core").await;
    let (_, a) = s.sign_in(&bob, &person("sub-bob", &bob), json!({})).await;
    assert_eq!(location(&a), "/app");
    // A new provider, pending: a test as bob fails and links nobody.
    let idp2 = FakeIdp::start().await;
    let saved = s
        .admin
        .put("/api/config/sso", oidc_body(&idp2, &s.domain))
        .await;
    assert_eq!(saved.status, 200, "{:?}", saved.json);
    let landed = test_sign_in(
        &mut s.admin,
        &idp2,
        &idp2.base,
        &person("sub2-bob", &bob),
        json!({}),
    )
    .await;
    assert_eq!(
        landed,
        "/app/configuration/sso?tested=failed&reason=sso_other_person"
    );
    assert!(app
        .item(keys::idp_pk(&idp2.base, "sub2-bob"), keys::IDP_SK)
        .await
        .is_none());
    // The admin's own test switches the issuer; bob links again by email.
    let who = person("sub2-ann", &s.admin_email);
    let landed = test_sign_in(&mut s.admin, &idp2, &idp2.base, &who, json!({})).await;
    assert_eq!(landed, "/app/configuration/sso?tested=ok");
    s.idp = idp2;
    let (_, a) = s.sign_in(&bob, &person("sub2-bob", &bob), json!({})).await;
    assert_eq!(location(&a), "/app");
    assert!(app
        .item(keys::idp_pk(&s.idp.base, "sub2-bob"), keys::IDP_SK)
        .await
        .is_some());
}

#[tokio::test]
async fn the_operator_vouches_for_a_domain_and_the_trail_says_so() {
    use porter_shared::tenants;
    let app = TestApp::spawn().await;
    let admin_email = app.address("ann");
    let domain = domain_of(&admin_email);
    let (reg, mut admin) = app.ready_admin(&admin_email).await;
    let claim = tenants::verify_domain_by_operator(&app.state, &reg.tenant, &domain)
        .await
        .unwrap();
    assert!(claim.is_verified());
    let listed = admin.get("/api/config/sso/domains").await;
    assert_eq!(listed.json["domains"][0]["verified_by"], "operator");
    let trail = admin.get("/api/audit?action=domain.verify").await;
    assert!(
        trail.json.to_string().contains("operator"),
        "{:?}",
        trail.json
    );
    assert!(
        tenants::remove_domain_by_operator(&app.state, &reg.tenant, &domain)
            .await
            .unwrap()
    );
    assert_eq!(
        admin.get("/api/config/sso/domains").await.json["domains"],
        json!([])
    );
}

#[tokio::test]
async fn a_passkey_does_not_bypass_the_identity_provider_either() {
    use porter_tests::passkey::{answer_passkey, register, soft_key};
    let app = TestApp::spawn().await;
    let Verified {
        idp,
        admin_email,
        domain,
        mut admin,
        ..
    } = verified_as(&app, &app.address("ann")).await;
    let bob = format!("bob@{domain}");
    admin.add_user(&bob, "core").await;
    app.activate(&bob).await;
    let mut b = app.browser();
    assert_eq!(b.sign_in(&bob, PASSWORD).await.json["next"], "mfa_enroll");
    let mut held = soft_key();
    let added = register(&mut b, &mut held, "/api/mfa/passkey", |_| {}).await;
    assert_eq!(added.status, 200, "{:?}", added.json);
    let mut before = app.browser();
    let credential = answer_passkey(&mut before, &mut held, |_| {}).await;
    let a = before
        .post("/api/login/passkey", json!({ "credential": credential }))
        .await;
    assert_eq!(a.status, 200, "before the domain is routed: {:?}", a.json);

    // The organisation moves its domain to its identity provider: single sign-on decides.
    route_domain(&mut admin, &idp, &domain, &admin_email).await;
    let mut after = app.browser();
    let credential = answer_passkey(&mut after, &mut held, |_| {}).await;
    let a = after
        .post("/api/login/passkey", json!({ "credential": credential }))
        .await;
    assert_eq!(
        (a.status, a.code()),
        (401, "invalid_credentials"),
        "{:?}",
        a.json
    );
    assert_eq!(after.get("/api/me").await.status, 401);
}
