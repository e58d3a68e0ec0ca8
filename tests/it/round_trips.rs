//! DynamoDB requests per step, counted at a proxy in front of moto: what leaves the process,
//! SDK retries included, not what the code seems to do. A round is a set of requests sent
//! without waiting for each other; the rounds are what a person waits for. The bounds are the
//! goals (a password step in 3 rounds, the MFA step in 2, any authenticated read in 1), and
//! the request counts are today's: a change that adds one fails here and has to say why.
//! `--nocapture` prints the figures.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use porter_tests::*;
use serde_json::json;

struct Budget {
    step: &'static str,
    rounds: usize,
    requests: usize,
}

impl Budget {
    fn of(step: &'static str, rounds: usize, requests: usize) -> Self {
        Self {
            step,
            rounds,
            requests,
        }
    }
}

fn within(trips: &Trips, budget: &Budget, report: &mut Vec<String>) {
    let line = format!(
        "{}: {} rounds, {} requests {:?}",
        budget.step,
        trips.rounds.len(),
        trips.operations.len(),
        trips.rounds
    );
    println!("{line}");
    if trips.rounds.len() > budget.rounds || trips.operations.len() > budget.requests {
        report.push(format!(
            "{line}; budget {} rounds, {} requests",
            budget.rounds, budget.requests
        ));
    }
}

/// A test stack whose DynamoDB requests are counted at a proxy (`via` reaches moto through
/// it), and the steps found over budget so far.
struct Counted {
    _app: TestApp,
    outage: Outage,
    via: TestApp,
    over: std::cell::RefCell<Vec<String>>,
}

impl Counted {
    async fn start() -> Self {
        let app = TestApp::spawn().await;
        let outage = Outage::start(&app.moto).await;
        let via = app.through(&outage.url);
        Self {
            _app: app,
            outage,
            via,
            over: Default::default(),
        }
    }

    /// Forgets what was counted so far (the set-up's requests).
    fn reset(&self) {
        self.outage.take_dynamodb();
    }

    /// What was counted since the last look, against `rounds` and `requests`.
    fn step(&self, step: &'static str, rounds: usize, requests: usize) {
        let budget = Budget::of(step, rounds, requests);
        within(
            &self.outage.take_dynamodb(),
            &budget,
            &mut self.over.borrow_mut(),
        );
    }

    fn done(&self) {
        let over = self.over.borrow();
        assert!(over.is_empty(), "over budget:\n{}", over.join("\n"));
    }
}

#[tokio::test]
async fn each_sign_in_step_and_every_authenticated_read_waits_for_few_dynamodb_rounds() {
    let c = Counted::start().await;
    let via = &c.via;
    let ann = via.address("ann");
    via.active_admin(&ann, PASSWORD).await;
    let mut setup = via.browser();
    let (secret, _) = setup.enrol_totp(&ann).await;
    let name = json!({ "organisation_name": "Acme Ltd" });
    assert_eq!(setup.post("/api/setup", name).await.status, 200);
    let mut b = via.browser_at("192.0.2.200");
    b.post("/api/login/identify", json!({ "email": ann })).await;
    c.reset();

    let a = b
        .post(
            "/api/login/password",
            json!({ "email": ann, "password": PASSWORD }),
        )
        .await;
    assert_eq!(a.status, 200, "{:?}", a.json);
    c.step("password step", 3, 3);

    let code = oathtool(&secret, now() + 30);
    let a = b
        .post("/api/login/mfa", json!({ "method": "totp", "code": code }))
        .await;
    assert_eq!(a.status, 200, "{:?}", a.json);
    c.step("MFA step", 2, 2);

    // Reads that list (sessions, users, audit events) query beside the caller's read.
    for (path, requests) in [
        ("/api/me", 1),
        ("/api/account", 2),
        ("/api/users", 2),
        ("/api/audit", 2),
        ("/api/config/sso", 1),
        ("/api/config/signin", 1),
        ("/api/config/signin/options", 1),
        ("/api/config/platform", 1),
    ] {
        let a = b.get(path).await;
        assert_eq!(a.status, 200, "{path}: {:?}", a.json);
        c.step(path, 1, requests);
    }
    // An access token: the caller (session, user and tenant, whose item holds the
    // entitlements, in one batch) and one KMS Sign, which is not DynamoDB's.
    let a = b.post("/api/token", json!({})).await;
    assert_eq!(a.status, 200, "{:?}", a.json);
    c.step("/api/token", 1, 1);
    c.done();
}

#[tokio::test]
async fn a_session_acting_in_a_managed_organization_costs_no_extra_request() {
    let c = Counted::start().await;
    let via = &c.via;
    let (reg, mut ann) = via.ready_admin(&via.address("ann")).await;
    via.state.store.set_msp(&reg.tenant, 3).await.unwrap();
    let created = ann
        .post("/api/organizations", json!({ "name": "Contoso" }))
        .await;
    assert_eq!(created.status, 201, "{:?}", created.json);
    let id = created.json["id"].as_str().unwrap().to_owned();
    let switched = ann
        .post("/api/session/organization", json!({ "id": id }))
        .await;
    assert_eq!(switched.status, 200, "{:?}", switched.json);
    c.reset();
    // The same rounds and requests as at home: the MSP's item joins the one batch read.
    for (path, requests) in [
        ("/api/config/sso", 1),
        ("/api/config/platform", 1),
        ("/api/users", 2),
        ("/api/audit", 2),
    ] {
        let a = ann.get(path).await;
        assert_eq!(a.status, 200, "{path}: {:?}", a.json);
        c.step(path, 1, requests);
    }
    let a = ann.post("/api/token", json!({})).await;
    assert_eq!(a.status, 200, "{:?}", a.json);
    c.step("/api/token", 1, 1);
    c.done();
}

#[tokio::test]
async fn a_wrong_password_and_a_wrong_code_cost_no_more_rounds_than_right_ones() {
    let c = Counted::start().await;
    let via = &c.via;
    let bea = via.address("bea");
    via.ready_admin(&bea).await;
    let mut b = via.browser_at("192.0.2.201");
    c.reset();

    let nobody = via.address("nobody");
    for (email, password, step) in [
        (&bea, "wrong horse battery", "wrong password"),
        (&nobody, PASSWORD, "unknown address"),
    ] {
        let a = b
            .post(
                "/api/login/password",
                json!({ "email": email, "password": password }),
            )
            .await;
        assert_eq!(a.code(), "invalid_credentials");
        c.step(step, 3, 3);
    }

    let a = b
        .post(
            "/api/login/password",
            json!({ "email": bea, "password": PASSWORD }),
        )
        .await;
    assert_eq!(a.status, 200);
    c.reset();
    let a = b
        .post(
            "/api/login/mfa",
            json!({ "method": "totp", "code": "000000" }),
        )
        .await;
    assert_eq!(a.code(), "invalid_code");
    c.step("wrong code", 2, 2);
    c.done();
}

#[tokio::test]
async fn a_passkey_sign_in_and_a_texted_code_cost_few_dynamodb_rounds() {
    use porter_tests::passkey::{answer_passkey, register, soft_key};
    let c = Counted::start().await;
    let via = &c.via;
    let dee = via.address("dee");
    let (_, mut admin) = via.ready_admin(&dee).await;
    let on = json!({ "sms_mfa": true });
    assert_eq!(
        admin.put("/api/config/signin/options", on).await.status,
        200
    );
    let mut held = soft_key();
    let added = register(&mut admin, &mut held, "/api/mfa/passkey", |_| {}).await;
    assert_eq!(added.status, 200, "{:?}", added.json);
    let number = "+447911123499";
    let sent = admin.post("/api/mfa/sms", json!({ "phone": number })).await;
    assert_eq!(sent.status, 202, "{:?}", sent.json);
    let code = via.texts_to(number).await.last().unwrap().code().unwrap();
    let done = admin
        .post("/api/mfa/sms/confirm", json!({ "code": code }))
        .await;
    assert_eq!(done.status, 200, "{:?}", done.json);

    // Options: the source's counter (read, then taken) and the challenge stored.
    let mut b = via.browser_at("192.0.2.203");
    let options = b.post("/api/login/passkey/options", json!({})).await;
    assert_eq!(options.status, 200);
    let credential = answer_passkey(&mut b, &mut held, |_| {}).await;
    c.reset();
    // The answer: the challenge with the passkey's index; the user, tenant, counter and
    // device; the domain's route; one transaction.
    let a = b
        .post("/api/login/passkey", json!({ "credential": credential }))
        .await;
    assert_eq!(a.status, 200, "{:?}", a.json);
    c.step("passkey sign-in", 4, 4);
    let _ = b.post("/api/login/passkey/options", json!({})).await;
    c.step("passkey options", 3, 3);

    // A texted code: the caller, the number's counter (read, then taken), the code's hash
    // stored; checking it is the MFA step's two rounds.
    let mut d = via.browser_at("192.0.2.204");
    assert_eq!(d.sign_in(&dee, PASSWORD).await.json["next"], "mfa_verify");
    c.reset();
    let sent = d.post("/api/login/mfa", json!({ "method": "sms" })).await;
    assert_eq!(sent.status, 202, "{:?}", sent.json);
    c.step("text a code", 4, 4);
    let code = via.texts_to(number).await.last().unwrap().code().unwrap();
    let a = d
        .post("/api/login/mfa", json!({ "method": "sms", "code": code }))
        .await;
    assert_eq!(a.status, 200, "{:?}", a.json);
    c.step("texted code step", 2, 2);
    c.done();
}

#[tokio::test]
async fn a_pin_step_right_or_wrong_waits_for_three_dynamodb_rounds() {
    let c = Counted::start().await;
    let via = &c.via;
    let cal = via.address("cal");
    let (_, mut admin) = via.ready_admin(&cal).await;
    let on = json!({ "email_pin": true });
    assert_eq!(admin.put("/api/config/signin", on).await.status, 200);
    let mut b = via.browser_at("192.0.2.202");
    let asked = json!({ "email": cal });
    assert_eq!(b.post("/api/login/pin/request", asked).await.status, 202);
    let pin = via.pin_from_outbox(&cal).await.expect("a PIN was emailed");
    let wrong = format!("{:08}", (pin.parse::<u32>().unwrap() + 1) % 100_000_000);
    c.reset();

    for (typed, step, status) in [
        (wrong.as_str(), "wrong PIN", 401),
        ("not a pin", "no PIN typed", 401),
        (pin.as_str(), "PIN step", 200),
    ] {
        let a = b
            .post("/api/login/pin", json!({ "email": cal, "pin": typed }))
            .await;
        assert_eq!(a.status, status, "{step}: {:?}", a.json);
        c.step(step, 3, 4);
    }
    c.done();
}

#[tokio::test]
async fn confirming_an_authenticator_and_changing_the_password_count_their_guess_in_few_requests() {
    let c = Counted::start().await;
    let via = &c.via;
    let dan = via.address("dan");
    via.active_admin(&dan, PASSWORD).await;
    let mut b = via.browser_at("192.0.2.203");
    assert_eq!(b.sign_in(&dan, PASSWORD).await.status, 200);
    let start = b.post("/api/mfa/totp", json!({})).await;
    let secret = start.json["secret"].as_str().unwrap().to_owned();
    c.reset();

    // Session, user, tenant and counter; one transaction (the guess with its writes).
    let wrong = b
        .post("/api/mfa/totp/confirm", json!({ "code": "000000" }))
        .await;
    assert_eq!(wrong.code(), "invalid_code");
    c.step("wrong confirmation code", 2, 2);
    let code = oathtool(&secret, now());
    let right = b
        .post("/api/mfa/totp/confirm", json!({ "code": code }))
        .await;
    assert_eq!(right.status, 200, "{:?}", right.json);
    c.step("confirmation code", 2, 2);

    // Session, user, tenant and SSO configuration; counters and domain route; one transaction.
    for (current, step, status) in [
        ("not my password at all", "wrong current password", 401),
        (PASSWORD, "password change", 200),
    ] {
        let new = "a quite new phrase 2026";
        let body = json!({ "current_password": current, "password": new, "password_confirm": new });
        let a = b.post("/api/account/password", body).await;
        assert_eq!(a.status, status, "{step}: {:?}", a.json);
        c.step(step, 3, 3);
    }
    c.done();
}

#[tokio::test]
async fn every_admin_write_reads_the_caller_and_its_target_in_one_batch() {
    let c = Counted::start().await;
    let via = &c.via;
    let (_, mut admin) = via.ready_admin(&via.address("eve")).await;
    let fay = via.address("fay");
    let id = admin.add_user(&fay, "core").await;
    let reads = |trips: &Trips| {
        trips
            .operations
            .iter()
            .filter(|op| matches!(op.as_str(), "GetItem" | "BatchGetItem" | "Query"))
            .count()
    };
    let mut over = Vec::new();
    c.reset();
    for (method, path, body, status) in [
        (
            "PATCH",
            format!("/api/users/{id}"),
            json!({ "role": "admin" }),
            200,
        ),
        ("POST", format!("/api/users/{id}/resend"), json!({}), 429),
        (
            "PUT",
            "/api/config/sso".to_owned(),
            json!({ "method": "porter" }),
            200,
        ),
        ("POST", "/api/license/check".to_owned(), json!({}), 409),
        ("DELETE", format!("/api/users/{id}"), json!({}), 204),
    ] {
        let a = match method {
            "PATCH" => admin.patch(&path, body).await,
            "PUT" => admin.put(&path, body).await,
            "DELETE" => admin.delete(&path).await,
            _ => admin.post(&path, body).await,
        };
        assert_eq!(a.status, status, "{method} {path}: {:?}", a.json);
        let trips = c.outage.take_dynamodb();
        println!("{method} {path}: {:?}", trips.rounds);
        // The session, the caller, tenant and target together.
        if reads(&trips) > 1 {
            over.push(format!("{method} {path}: {:?}", trips.rounds));
        }
    }
    assert!(
        over.is_empty(),
        "read more than twice:\n{}",
        over.join("\n")
    );
}

/// The `dynamodb:LeadingKeys` patterns template.yaml grants `function` (its resource name) on
/// `target` ("Table", "Table/index", "AuditTable"); `None` when a statement grants it without
/// that condition.
fn leading_keys(template: &serde_yaml::Value, function: &str, target: &str) -> Option<Vec<String>> {
    let mut patterns = Vec::new();
    let policies = template["Resources"][function]["Properties"]["Policies"]
        .as_sequence()
        .unwrap();
    for st in policies
        .iter()
        .flat_map(|p| p["Statement"].as_sequence().unwrap())
    {
        let resource = format!("{:?}", st["Resource"]);
        let on = if resource.contains("AuditTable") {
            "AuditTable"
        } else if resource.contains("Table.Arn}/index") {
            "Table/index"
        } else if resource.contains("Table") {
            "Table"
        } else {
            continue;
        };
        if on != target {
            continue;
        }
        let keys = &st["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"];
        patterns.extend(
            keys.as_sequence()?
                .iter()
                .map(|k| k.as_str().unwrap().to_owned()),
        );
    }
    Some(patterns)
}

fn matches(pattern: &str, key: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => key.starts_with(prefix),
        None => key == pattern,
    }
}

/// The items (table, partition key) each function named, function by function.
type FunctionKeys = std::sync::Arc<std::sync::Mutex<Vec<(String, Vec<(String, String)>)>>>;

/// moto does not enforce IAM, so each request a function makes in a journey through most
/// routes is held against the `dynamodb:LeadingKeys` conditions of its policy in
/// template.yaml: a kind of item missing there would be refused in AWS.
#[tokio::test]
async fn every_function_names_only_the_kinds_of_items_its_iam_policy_allows() {
    let app = TestApp::spawn().await;
    let outage = Outage::start(&app.moto).await;
    let seen: FunctionKeys = Default::default();
    let (log, keys) = (seen.clone(), outage.keys.clone());
    let via = app
        .through(&outage.url)
        .observed(std::sync::Arc::new(move |f: &str| {
            let named = std::mem::take(&mut *keys.lock().unwrap());
            log.lock().unwrap().push((f.to_owned(), named));
        }));

    let ann = via.address("ann");
    let (_, mut admin) = via.ready_admin(&ann).await;
    assert_eq!(admin.get("/api/me").await.status, 200);
    assert_eq!(admin.get("/api/account").await.status, 200);
    assert_eq!(admin.post("/api/token", json!({})).await.status, 200);
    assert_eq!(admin.get("/.well-known/jwks.json").await.status, 200);
    // A product route: the authorizer reads the session, then the route runs.
    assert_eq!(admin.get("/api/solutions/x").await.status, 403);
    let bob = via.address("bob");
    admin.add_user(&bob, "core").await;
    assert_eq!(admin.get("/api/users").await.status, 200);
    assert_eq!(admin.get("/api/audit").await.status, 200);
    assert_eq!(admin.get("/api/config/sso").await.status, 200);
    let domain = json!({ "domain": format!("acme-{}.test", std::process::id()) });
    assert_eq!(
        admin.post("/api/config/sso/domains", domain).await.status,
        201
    );
    assert_eq!(admin.get("/api/config/platform").await.status, 200);
    admin.post("/api/license/check", json!({})).await;
    let pin_on = json!({ "email_pin": true });
    assert_eq!(admin.put("/api/config/signin", pin_on).await.status, 200);
    let new_password = "lantern meadow copper 31"; // pragma: allowlist secret
    let change = json!({ "current_password": PASSWORD, "password": new_password, "password_confirm": new_password });
    assert_eq!(
        admin.post("/api/account/password", change).await.status,
        200
    );
    assert_eq!(admin.delete("/api/account/sessions").await.status, 200);

    let mut b = via.browser_at("192.0.2.77");
    b.post("/api/password/forgot", json!({ "email": ann }))
        .await;
    b.post("/api/login/pin/request", json!({ "email": ann }))
        .await;
    let pin = via.pin_from_outbox(&ann).await.unwrap();
    let signed = b
        .post("/api/login/pin", json!({ "email": ann, "pin": pin }))
        .await;
    assert_eq!(signed.status, 200, "{:?}", signed.json);
    b.post(
        "/api/login/mfa",
        json!({ "method": "totp", "code": "000000" }),
    )
    .await;
    b.post("/api/logout", json!({})).await;

    let yaml =
        std::fs::read_to_string(porter_dev::moto::repo_root().join("template.yaml")).unwrap();
    let template: serde_yaml::Value = serde_yaml::from_str(&yaml).unwrap();
    let resource_of = |binary: &str| {
        template["Resources"]
            .as_mapping()
            .unwrap()
            .iter()
            .find(|(_, r)| r["Metadata"]["BuildProperties"]["Binary"].as_str() == Some(binary))
            .map(|(name, _)| name.as_str().unwrap().to_owned())
            .unwrap()
    };
    let table = &via.state.config.table_name;
    let audit = &via.state.config.audit_table_name;
    let mut refused = std::collections::BTreeSet::new();
    let mut checked = std::collections::BTreeSet::new();
    for (binary, named) in seen.lock().unwrap().iter() {
        let function = resource_of(binary);
        for (t, key) in named {
            let target = if t == audit {
                "AuditTable"
            } else if t.starts_with(&format!("{table}/index")) {
                "Table/index"
            } else if t == table {
                "Table"
            } else {
                continue;
            };
            let kind = key.split('#').next().unwrap_or_default().to_owned();
            checked.insert(format!("{function} {target} {kind}"));
            let allowed = leading_keys(&template, &function, target)
                .unwrap_or_else(|| panic!("{function} reaches {target} without LeadingKeys"));
            if !allowed.iter().any(|p| matches(p, key)) {
                refused.insert(format!(
                    "{function} {target} {kind}#… (allowed {allowed:?})"
                ));
            }
        }
    }
    println!("checked: {checked:#?}");
    assert!(
        checked.len() >= 30,
        "the journey reached too little: {checked:#?}"
    );
    assert!(refused.is_empty(), "IAM would refuse:\n{refused:#?}");
}

#[tokio::test]
async fn an_app_signing_in_with_porter_costs_few_dynamodb_rounds() {
    use base64::Engine;
    use porter_shared::clients::{self, NewClient};
    use secrecy::ExposeSecret;
    use sha2::Digest;
    let c = Counted::start().await;
    let via = &c.via;
    let (_, mut ann) = via.ready_admin(&via.address("ann")).await;
    let redirect = "https://support.example.test/cb";
    let new = NewClient {
        name: "Support portal".into(),
        redirect_uris: vec![redirect.into()],
        post_logout_redirect_uris: vec![],
        public: false,
    };
    let (client, secret) =
        clients::register(&via.state, new, porter_shared::domain::Timestamp::now())
            .await
            .unwrap();
    let secret = secret.unwrap().expose_secret().to_owned();
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"; // pragma: allowlist secret (RFC 7636 Appendix B)
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()));
    c.reset();

    // The client and the browser's session at once, then the code.
    let a = ann
        .get(&format!(
            "/oauth2/authorize?response_type=code&client_id={}&redirect_uri={redirect}&scope=openid%20offline_access&code_challenge={challenge}&code_challenge_method=S256",
            client.id
        ))
        .await;
    assert_eq!(a.status, 302, "{}", a.text);
    c.step("/oauth2/authorize", 2, 3);
    let location = url::Url::parse(a.headers["location"].to_str().unwrap()).unwrap();
    let code = location
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();

    // The client with the code, the session with its user and tenant, one transaction (and
    // two KMS Signs, which are not DynamoDB's).
    let form = |pairs: &[(&str, &str)]| {
        let mut f = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in pairs {
            f.append_pair(k, v);
        }
        request(
            "POST",
            "/oauth2/token",
            Some("application/x-www-form-urlencoded"),
            f.finish(),
        )
    };
    let base = [
        ("client_id", client.id.as_str()),
        ("client_secret", secret.as_str()),
    ];
    let exchange = [
        base.as_slice(),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", redirect),
            ("code_verifier", verifier),
        ],
    ]
    .concat();
    let a = answer(via.send(form(&exchange)).await);
    assert_eq!(a.status, 200, "{:?}", a.json);
    c.step("/oauth2/token (code)", 3, 3);

    let access = a.json["access_token"].as_str().unwrap().to_owned();
    let mut req = request("GET", "/oauth2/userinfo", None, "");
    req.headers_mut()
        .insert("authorization", format!("Bearer {access}").parse().unwrap());
    let info = answer(via.send(req).await);
    assert_eq!(info.status, 200, "{:?}", info.json);
    c.step("/oauth2/userinfo", 1, 1);

    let rt = a.json["refresh_token"].as_str().unwrap().to_owned();
    let refresh = [
        base.as_slice(),
        &[("grant_type", "refresh_token"), ("refresh_token", &rt)],
    ]
    .concat();
    let a = answer(via.send(form(&refresh)).await);
    assert_eq!(a.status, 200, "{:?}", a.json);
    c.step("/oauth2/token (refresh)", 3, 3);
    c.done();
}
