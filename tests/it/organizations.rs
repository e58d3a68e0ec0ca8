//! Managed organizations: an MSP's admins add, rename and remove the organizations it manages,
//! switch their session into one, and everything then applies to it; nobody else reaches them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use porter_shared::tenants::Registration;
use porter_tests::*;
use serde_json::{json, Value};

/// An MSP whose admin is signed in (full session, set up), allowed `max` organizations.
async fn msp<'a>(app: &'a TestApp, admin: &str, max: u32) -> (Registration, Browser<'a>) {
    let (reg, b) = app.ready_admin(admin).await;
    app.state.store.set_msp(&reg.tenant, max).await.unwrap();
    (reg, b)
}

async fn add_organization(b: &mut Browser<'_>, name: &str) -> String {
    let a = b.post("/api/organizations", json!({ "name": name })).await;
    assert_eq!(a.status, 201, "{:?}", a.json);
    assert_eq!(a.json["name"], json!(name));
    a.json["id"].as_str().unwrap().to_owned()
}

async fn switch_to(b: &mut Browser<'_>, id: &str) -> Answer {
    b.post("/api/session/organization", json!({ "id": id }))
        .await
}

fn names(list: &Value) -> Vec<String> {
    list["organizations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn an_msp_admin_adds_renames_and_removes_the_organizations_it_manages() {
    let app = TestApp::spawn().await;
    let (_, mut ann) = msp(&app, &app.address("ann"), 3).await;

    let id = add_organization(&mut ann, "Contoso").await;
    let list = ann.get("/api/organizations").await;
    assert_eq!(list.status, 200, "{:?}", list.json);
    assert_eq!(list.json["limit"], json!(3));
    let row = &list.json["organizations"][0];
    assert_eq!(row["id"], json!(id));
    assert_eq!(row["users"], json!(0));
    assert_eq!(row["max_users"], json!(5));
    assert_eq!(row["checked_at"], Value::Null);
    assert!(row["created_at"].as_str().unwrap().ends_with('Z'));

    let bad = ann
        .post("/api/organizations", json!({ "name": "  " }))
        .await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.code(), "invalid_organization_name");

    let renamed = ann
        .patch(
            &format!("/api/organizations/{id}"),
            json!({ "name": "Contoso Ltd" }),
        )
        .await;
    assert_eq!(renamed.status, 200, "{:?}", renamed.json);
    assert_eq!(
        names(&ann.get("/api/organizations").await.json),
        ["Contoso Ltd"]
    );

    let removed = ann.delete(&format!("/api/organizations/{id}")).await;
    assert_eq!(removed.status, 204, "{:?}", removed.json);
    assert!(names(&ann.get("/api/organizations").await.json).is_empty());
    assert_eq!(
        ann.delete(&format!("/api/organizations/{id}")).await.code(),
        "organization_not_found"
    );
    let actions = ann.audit_actions().await;
    for action in [
        "organization.create",
        "organization.rename",
        "organization.remove",
    ] {
        assert!(actions.iter().any(|a| a == action), "{action}: {actions:?}");
    }
}

#[tokio::test]
async fn ordinary_tenants_and_core_users_cannot_manage_organizations() {
    let app = TestApp::spawn().await;
    let (_, mut plain) = app.ready_admin(&app.address("pat")).await;
    for a in [
        plain.get("/api/organizations").await,
        plain
            .post("/api/organizations", json!({ "name": "Contoso" }))
            .await,
    ] {
        assert_eq!(a.status, 403, "{:?}", a.json);
        assert_eq!(a.code(), "not_an_msp");
    }

    let (_, mut ann) = msp(&app, &app.address("ann"), 3).await;
    let cid = app.address("cid");
    ann.add_user(&cid, "core").await;
    let mut core = app.ready_member(&cid).await;
    let a = core.get("/api/organizations").await;
    assert_eq!(a.status, 403);
    assert_eq!(a.code(), "forbidden");
}

#[tokio::test]
async fn the_organization_limit_holds_under_twenty_concurrent_creates() {
    let app = TestApp::spawn().await;
    let (reg, ann) = msp(&app, &app.address("ann"), 5).await;
    let mut browsers: Vec<Browser<'_>> = (0..20)
        .map(|_| {
            let mut b = app.browser();
            b.cookie = ann.cookie.clone();
            b
        })
        .collect();
    let answers =
        futures::future::join_all(browsers.iter_mut().enumerate().map(|(i, b)| async move {
            b.post(
                "/api/organizations",
                json!({ "name": format!("Customer {i}") }),
            )
            .await
        }))
        .await;
    let created = answers.iter().filter(|a| a.status == 201).count();
    let refused: Vec<_> = answers.iter().filter(|a| a.status != 201).collect();
    assert_eq!(created, 5);
    assert!(
        refused
            .iter()
            .all(|a| a.status == 409 && a.code() == "organization_limit_reached"),
        "{:?}",
        refused.iter().map(|a| &a.json).collect::<Vec<_>>()
    );
    let msp = app
        .state
        .store
        .get_tenant(&reg.tenant)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(msp.org_count, 5);
    assert_eq!(
        app.state
            .store
            .list_organizations(&reg.tenant)
            .await
            .unwrap()
            .len(),
        5
    );
}

#[tokio::test]
async fn switching_rotates_the_session_and_every_route_then_applies_to_the_organization() {
    let app = TestApp::spawn().await;
    let (reg, mut ann) = msp(&app, &app.address("ann"), 3).await;
    let id = add_organization(&mut ann, "Contoso").await;
    let before = ann.cookie.clone().unwrap();

    let switched = switch_to(&mut ann, &id).await;
    assert_eq!(switched.status, 200, "{:?}", switched.json);
    assert_eq!(switched.json["organization"]["kind"], json!("managed"));
    let after = ann.cookie.clone().unwrap();
    assert_ne!(before, after, "a new session id");
    let mut old = app.browser();
    old.cookie = Some(before);
    assert_eq!(old.get("/api/me").await.status, 401, "the old id is dead");

    let me = ann.get("/api/me").await;
    assert_eq!(me.status, 200, "{:?}", me.json);
    assert_eq!(me.json["organization"]["id"], json!(id));
    assert_eq!(me.json["organization"]["managed_by"], json!("Acme Ltd"));
    let places: Vec<_> = me.json["organizations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        places,
        [reg.tenant.to_string(), id.clone()],
        "their own first"
    );

    // Users: the organization's, where MSP staff take no seat and do not appear.
    let bob = app.address("bob");
    let invited = ann
        .post("/api/users", json!({ "email": bob, "role": "admin" }))
        .await;
    assert_eq!(invited.status, 201, "{:?}", invited.json);
    let users = ann.get("/api/users").await;
    let emails: Vec<_> = users.json["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(emails, std::slice::from_ref(&bob));
    assert_eq!(users.json["user_count"], json!(1));

    // The organization's log says who did it, and for which MSP.
    let audit = ann.get("/api/audit").await;
    let invite = audit.json["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "user.invite")
        .cloned()
        .expect("the invitation is in the organization's log");
    assert_eq!(invite["via"], json!("Acme Ltd"));
    assert_eq!(invite["actor_email"], json!(ann_email(&me.json)));

    // Access tokens name the organization and the MSP.
    let token = ann.post("/api/token", json!({})).await;
    let claims = jwt_claims(token.json["access_token"].as_str().unwrap());
    assert_eq!(claims["tid"], json!(id));
    assert_eq!(claims["msp"], json!(reg.tenant.to_string()));

    // Back home: the MSP's own people, and its log records the switch.
    let home = switch_to(&mut ann, reg.tenant.as_str()).await;
    assert_eq!(home.status, 200, "{:?}", home.json);
    assert_eq!(home.json["organization"]["kind"], json!("msp"));
    let users = ann.get("/api/users").await;
    assert!(!users.json.to_string().contains(&bob), "{:?}", users.json);
    assert!(ann
        .audit_actions()
        .await
        .contains(&"organization.switch".to_owned()));
}

fn ann_email(me: &Value) -> Value {
    me["user"]["email"].clone()
}

fn jwt_claims(token: &str) -> Value {
    use base64::Engine;
    let part = token.split('.').nth(1).unwrap();
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .unwrap();
    serde_json::from_slice(&raw).unwrap()
}

#[tokio::test]
async fn nobody_outside_an_msp_or_its_scope_reaches_its_organizations() {
    let app = TestApp::spawn().await;
    let ann_address = app.address("ann");
    let (reg, mut ann) = msp(&app, &ann_address, 3).await;
    let contoso = add_organization(&mut ann, "Contoso").await;
    let fabrikam = add_organization(&mut ann, "Fabrikam").await;

    // An organization's own admin: its own tenant only.
    assert_eq!(switch_to(&mut ann, &contoso).await.status, 200);
    let bob = app.address("bob");
    ann.post("/api/users", json!({ "email": bob, "role": "admin" }))
        .await;
    let mut bob_b = app.ready_member(&bob).await;
    let me = bob_b.get("/api/me").await;
    assert_eq!(me.json["organization"]["kind"], json!("managed"));
    assert_eq!(me.json["organizations"].as_array().unwrap().len(), 1);
    assert_eq!(bob_b.get("/api/organizations").await.code(), "not_an_msp");
    for other in [reg.tenant.to_string(), fabrikam.clone()] {
        let a = switch_to(&mut bob_b, &other).await;
        assert_eq!(a.status, 404, "{other}: {:?}", a.json);
        assert_eq!(a.code(), "organization_not_found");
    }
    let users = bob_b.get("/api/users").await;
    assert!(
        users.json["users"].as_array().unwrap().len() == 1
            && !users.json.to_string().contains(&ann_address),
        "MSP staff are not in the organization's list"
    );

    // Another MSP's admin: as if the organizations did not exist.
    let (_, mut eve) = msp(&app, &app.address("eve"), 3).await;
    for a in [
        switch_to(&mut eve, &contoso).await,
        eve.patch(
            &format!("/api/organizations/{contoso}"),
            json!({ "name": "Mine" }),
        )
        .await,
        eve.delete(&format!("/api/organizations/{contoso}")).await,
        eve.delete("/api/organizations/not-an-id").await,
    ] {
        assert_eq!(a.status, 404, "{:?}", a.json);
        assert_eq!(a.code(), "organization_not_found");
    }
    assert_eq!(
        names(&ann.get("/api/organizations").await.json),
        ["Contoso", "Fabrikam"]
    );

    // A core user of the MSP, whose scope is empty by default: nowhere but home.
    assert_eq!(switch_to(&mut ann, reg.tenant.as_str()).await.status, 200);
    let cid = app.address("cid");
    ann.add_user(&cid, "core").await;
    let mut cid_b = app.ready_member(&cid).await;
    assert_eq!(
        switch_to(&mut cid_b, &contoso).await.code(),
        "organization_not_found"
    );
}

#[tokio::test]
async fn removing_an_organization_ends_its_peoples_sessions_and_deletes_its_addresses_and_secrets()
{
    let app = TestApp::spawn().await;
    let (_, mut ann) = msp(&app, &app.address("ann"), 3).await;
    let contoso = add_organization(&mut ann, "Contoso").await;
    assert_eq!(switch_to(&mut ann, &contoso).await.status, 200);
    let bob = app.address("bob");
    ann.post("/api/users", json!({ "email": bob, "role": "admin" }))
        .await;
    let mut bob_b = app.ready_member(&bob).await;
    assert_eq!(bob_b.get("/api/me").await.status, 200);

    // Its single sign-on client secret and platform key, as saving them would leave them.
    let secrets = app.state.secrets();
    let secret_names = ["sso", "platform"].map(|part| secrets.tenant_secret_name(&contoso, part));
    for name in &secret_names {
        secrets
            .put(name, &secrecy::SecretString::from("{\"k\":\"v\"}"))
            .await
            .unwrap();
    }

    let mut other_tab = app.browser();
    other_tab.cookie = ann.cookie.clone();
    let removed = ann.delete(&format!("/api/organizations/{contoso}")).await;
    assert_eq!(removed.status, 204, "{:?}", removed.json);
    assert_eq!(bob_b.get("/api/me").await.status, 401, "its people are out");
    assert_eq!(
        other_tab.get("/api/users").await.status,
        401,
        "a session acting in it ends"
    );
    let email = porter_shared::domain::Email::parse(&bob).unwrap();
    assert!(
        app.item(porter_shared::store::keys::email_pk(&email), "EMAIL")
            .await
            .is_none(),
        "the address is free again"
    );
    for name in &secret_names {
        assert!(
            matches!(
                secrets.get(name).await,
                Err(porter_shared::secrets::SecretsError::NotFound(_))
            ),
            "{name} is gone"
        );
    }
}

#[tokio::test]
async fn a_scope_lets_a_core_user_in_and_taking_it_away_ends_their_session_there() {
    let app = TestApp::spawn().await;
    let (_, mut ann) = msp(&app, &app.address("ann"), 3).await;
    let contoso = add_organization(&mut ann, "Contoso").await;
    let fabrikam = add_organization(&mut ann, "Fabrikam").await;
    let cid = app.address("cid");
    let cid_id = ann.add_user(&cid, "core").await;
    let mut cid_b = app.ready_member(&cid).await;
    assert_eq!(
        switch_to(&mut cid_b, &contoso).await.code(),
        "organization_not_found"
    );

    let path = format!("/api/users/{cid_id}");
    let bad = ann.patch(&path, json!({ "organizations": "some" })).await;
    assert_eq!(bad.code(), "invalid_organizations");
    let foreign = ann
        .patch(&path, json!({ "organizations": ["t_0000000000000000"] }))
        .await;
    assert_eq!(foreign.code(), "organization_not_found");

    // The role stays as it is when only the scope is sent.
    let scoped = ann
        .patch(&path, json!({ "organizations": [contoso] }))
        .await;
    assert_eq!(scoped.status, 200, "{:?}", scoped.json);
    assert_eq!(scoped.json["role"], json!("core"));
    assert_eq!(switch_to(&mut cid_b, &contoso).await.status, 200);
    assert_eq!(
        switch_to(&mut cid_b, &fabrikam).await.code(),
        "organization_not_found"
    );
    assert_eq!(
        cid_b.get("/api/me").await.json["organization"]["id"],
        json!(contoso)
    );

    let emptied = ann.patch(&path, json!({ "organizations": [] })).await;
    assert_eq!(emptied.status, 200, "{:?}", emptied.json);
    assert_eq!(
        cid_b.get("/api/me").await.status,
        401,
        "out of scope: the session acting there ends"
    );
    assert!(ann
        .audit_actions()
        .await
        .contains(&"organization.scope".to_owned()));
}

/// The ids of the first session and the first device `b`'s account lists (its own, when it
/// has them), from one read of the account.
async fn session_and_device_ids(b: &mut Browser<'_>) -> (String, String) {
    let account = b.get("/api/account").await;
    let first = |list: &str| {
        account.json[list][0]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("no {list} listed: {:?}", account.json))
            .to_owned()
    };
    (first("sessions"), first("devices"))
}

/// Every route with an `{id}` (or a domain) in its path, tried by someone who must not reach
/// what it names: each answers `code`'s kind of 404 and changes nothing.
async fn refused_everywhere(
    who: &str,
    b: &mut Browser<'_>,
    user: &str,
    session: &str,
    device: &str,
    domain: &str,
) {
    let tries = [
        (
            b.patch(&format!("/api/users/{user}"), json!({ "role": "core" }))
                .await,
            "user_not_found",
        ),
        (
            b.post(&format!("/api/users/{user}/resend"), json!({}))
                .await,
            "user_not_found",
        ),
        (
            b.delete(&format!("/api/users/{user}")).await,
            "user_not_found",
        ),
        (
            b.delete(&format!("/api/account/sessions/{session}")).await,
            "session_not_found",
        ),
        (
            b.delete(&format!("/api/account/devices/{device}")).await,
            "device_not_found",
        ),
        (
            b.post(
                &format!("/api/config/sso/domains/{domain}/verify"),
                json!({}),
            )
            .await,
            "domain_not_found",
        ),
        (
            b.delete(&format!("/api/config/sso/domains/{domain}")).await,
            "domain_not_found",
        ),
    ];
    for (i, (a, code)) in tries.iter().enumerate() {
        assert_eq!(
            (a.status, a.code()),
            (404, *code),
            "{who}, try {i}: {:?}",
            a.json
        );
    }
}

/// An admin of organization `org` invited by the MSP's `ann`, signed in, with a domain added:
/// their browser, address, id, session id and device id.
async fn organization_admin<'a>(
    app: &'a TestApp,
    ann: &mut Browser<'_>,
    org: &str,
    local: &str,
    domain: &str,
) -> (Browser<'a>, String, String, String, String) {
    assert_eq!(switch_to(ann, org).await.status, 200);
    let address = app.address(local);
    let id = ann.add_user(&address, "admin").await;
    let mut b = app.ready_member(&address).await;
    let (session, device) = session_and_device_ids(&mut b).await;
    let added = b
        .post("/api/config/sso/domains", json!({ "domain": domain }))
        .await;
    assert!(matches!(added.status, 200 | 201), "{:?}", added.json);
    (b, address, id, session, device)
}

#[tokio::test]
async fn every_route_with_an_id_is_a_404_from_every_side_of_an_msp() {
    let app = TestApp::spawn().await;
    let ann_address = app.address("ann");
    let (reg, mut ann) = msp(&app, &ann_address, 3).await;
    let ann_id = ann.get("/api/me").await.json["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let contoso = add_organization(&mut ann, "Contoso").await;
    let fabrikam = add_organization(&mut ann, "Fabrikam").await;

    // Each organization's admin, with a session, a device and a domain of its own.
    let (mut fay_b, fay, fay_id, fay_session, fay_device) = Box::pin(organization_admin(
        &app,
        &mut ann,
        &fabrikam,
        "fay",
        "fabrikam.test",
    ))
    .await;
    let (mut bob_b, _, bob_id, bob_session, bob_device) = Box::pin(organization_admin(
        &app,
        &mut ann,
        &contoso,
        "bob",
        "contoso.test",
    ))
    .await;

    // An admin of the MSP whose scope is Contoso alone, working there.
    assert_eq!(switch_to(&mut ann, reg.tenant.as_str()).await.status, 200);
    let dana = app.address("dana");
    let dana_id = ann.add_user(&dana, "admin").await;
    let scoped = ann
        .patch(
            &format!("/api/users/{dana_id}"),
            json!({ "organizations": [contoso] }),
        )
        .await;
    assert_eq!(scoped.json["organizations"], json!([contoso]));
    let mut dana_b = app.ready_member(&dana).await;
    let dana_places = dana_b.get("/api/me").await.json["organizations"].clone();
    assert_eq!(
        dana_places.as_array().unwrap().len(),
        2,
        "the MSP and Contoso: {dana_places:?}"
    );
    assert_eq!(switch_to(&mut dana_b, &contoso).await.status, 200);

    // Another MSP's admin.
    let (_, mut eve) = msp(&app, &app.address("eve"), 3).await;

    // Contoso's admin reaches neither the MSP's people nor Fabrikam's.
    Box::pin(refused_everywhere(
        "bob → fay",
        &mut bob_b,
        &fay_id,
        &fay_session,
        &fay_device,
        "fabrikam.test",
    ))
    .await;
    Box::pin(refused_everywhere(
        "bob → ann",
        &mut bob_b,
        &ann_id,
        &fay_session,
        &fay_device,
        "fabrikam.test",
    ))
    .await;
    // Dana, working in Contoso, reaches nothing of Fabrikam's, nor Bob's sessions and devices.
    Box::pin(refused_everywhere(
        "dana → fay",
        &mut dana_b,
        &fay_id,
        &bob_session,
        &bob_device,
        "fabrikam.test",
    ))
    .await;
    // Eve reaches nothing of the MSP or its organizations.
    Box::pin(refused_everywhere(
        "eve → bob",
        &mut eve,
        &bob_id,
        &bob_session,
        &bob_device,
        "contoso.test",
    ))
    .await;
    Box::pin(refused_everywhere(
        "eve → ann",
        &mut eve,
        &ann_id,
        &fay_session,
        &fay_device,
        "fabrikam.test",
    ))
    .await;

    // The organizations routes: Fabrikam is outside Dana's scope, and Eve's MSP manages
    // neither; Bob's tenant is no MSP at all.
    for (who, b) in [("dana", &mut dana_b), ("eve", &mut eve)] {
        for a in [
            b.patch(
                &format!("/api/organizations/{fabrikam}"),
                json!({ "name": "Mine" }),
            )
            .await,
            b.delete(&format!("/api/organizations/{fabrikam}")).await,
            switch_to(b, &fabrikam).await,
        ] {
            assert_eq!(
                (a.status, a.code()),
                (404, "organization_not_found"),
                "{who}: {:?}",
                a.json
            );
        }
    }
    let bobs = bob_b
        .delete(&format!("/api/organizations/{fabrikam}"))
        .await;
    assert_eq!((bobs.status, bobs.code()), (403, "not_an_msp"));
    assert_eq!(
        switch_to(&mut bob_b, reg.tenant.as_str()).await.code(),
        "organization_not_found"
    );

    // A scoped admin lists only her organizations and cannot widen anyone's reach.
    assert_eq!(
        switch_to(&mut dana_b, reg.tenant.as_str()).await.status,
        200
    );
    assert_eq!(
        names(&dana_b.get("/api/organizations").await.json),
        ["Contoso"]
    );
    let wider = dana_b
        .post("/api/organizations", json!({ "name": "Northwind" }))
        .await;
    assert_eq!(
        (wider.status, wider.code()),
        (403, "all_organizations_required")
    );
    let widen = dana_b
        .patch(
            &format!("/api/users/{dana_id}"),
            json!({ "organizations": "all" }),
        )
        .await;
    assert_eq!(
        (widen.status, widen.code()),
        (403, "all_organizations_required")
    );

    // What lists a tenant's data shows only the tenant the session acts in.
    assert_eq!(switch_to(&mut dana_b, &contoso).await.status, 200);
    for path in [
        "/api/users",
        "/api/audit",
        "/api/config/sso",
        "/api/config/sso/domains",
        "/api/config/signin",
        "/api/config/platform",
        "/api/me",
    ] {
        for (who, b) in [("bob", &mut bob_b), ("dana", &mut dana_b)] {
            let a = b.get(path).await;
            assert_eq!(a.status, 200, "{who} {path}: {:?}", a.json);
            let text = a.json.to_string();
            assert!(
                !text.contains(&fay) && !text.contains("fabrikam") && !text.contains(&fabrikam),
                "{who} {path} shows Fabrikam: {text}"
            );
        }
    }
    let bob_users = bob_b.get("/api/users").await.json.to_string();
    assert!(!bob_users.contains(&dana) && !bob_users.contains(&ann_address));

    // Nothing changed: Fay is an admin with her session, device and domain.
    assert_eq!(
        fay_b.get("/api/me").await.json["user"]["role"],
        json!("admin")
    );
    assert_eq!(session_and_device_ids(&mut fay_b).await.1, fay_device);
    let domains = fay_b.get("/api/config/sso/domains").await.json.to_string();
    assert!(domains.contains("fabrikam.test"), "{domains}");
    assert_eq!(
        names(&ann.get("/api/organizations").await.json),
        ["Contoso", "Fabrikam"]
    );
    assert_eq!(
        bob_b.get("/api/me").await.json["user"]["role"],
        json!("admin")
    );
}
