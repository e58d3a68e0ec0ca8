//! User management: setup, invitations with roles, the seat limit, role rules, isolation, audit.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use futures::future::join_all;
use porter_shared::store::keys;
use porter_tests::*;
use serde_json::json;

fn entity(items: &[Item], kind: &str) -> usize {
    items
        .iter()
        .filter(|i| get_s(i, "entity") == Some(kind))
        .count()
}

#[tokio::test]
async fn setup_comes_first_and_happens_once() {
    let app = TestApp::spawn().await;
    let ann = app.address("ann");
    app.active_admin(&ann, PASSWORD).await;
    let mut b = app.browser();
    b.enrol_totp(&ann).await;
    for a in [
        b.get("/api/users").await,
        b.post(
            "/api/users",
            json!({ "email": app.address("x"), "role": "core" }),
        )
        .await,
        b.get("/api/audit").await,
    ] {
        assert_eq!(
            (a.status, a.code()),
            (409, "setup_required"),
            "{:?}",
            a.json
        );
    }
    // Blank, a direction override that would make the invitation read otherwise, a link.
    for name in [
        "  ",
        "Acme\u{202E}dtL",
        "Acme\u{2066}Ltd",
        "https://evil.example",
        "Visit www.evil.example",
    ] {
        let bad = b
            .post("/api/setup", json!({ "organisation_name": name }))
            .await;
        assert_eq!(
            (bad.status, bad.code()),
            (400, "invalid_organisation_name"),
            "{name:?}"
        );
    }
    assert_eq!(
        b.post("/api/setup", json!({ "organisation_name": "Acme Ltd" }))
            .await
            .status,
        200
    );
    let again = b
        .post("/api/setup", json!({ "organisation_name": "Other" }))
        .await;
    assert_eq!((again.status, again.code()), (409, "setup_done"));
    let me = b.get("/api/me").await;
    assert_eq!(
        (
            me.json["tenant"]["name"].as_str(),
            me.json["tenant"]["setup_done"].as_bool()
        ),
        (Some("Acme Ltd"), Some(true))
    );
    assert_eq!(b.get("/api/users").await.status, 200);
}

#[tokio::test]
async fn an_added_user_is_invited_by_email_and_listed_with_their_role() {
    let app = TestApp::spawn().await;
    let (reg, mut admin) = app.ready_admin(&app.address("ann")).await;
    let cora = app.address("Cora");
    let added = admin
        .post("/api/users", json!({ "email": cora, "role": "core" }))
        .await;
    assert_eq!(added.status, 201, "{:?}", added.json);
    assert_eq!(
        (
            added.json["status"].as_str(),
            added.json["invitation_sent"].as_bool()
        ),
        (Some("invited"), Some(true))
    );
    let cora = cora.to_lowercase();
    let mails = app.outbox(&cora).await;
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].subject, "Welcome to Porter");
    assert!(
        mails[0].body.contains("Acme Ltd"),
        "the organisation name is in the email"
    );

    let list = admin.get("/api/users").await;
    assert_eq!(
        (
            list.json["user_count"].as_u64(),
            list.json["max_users"].as_u64()
        ),
        (Some(2), Some(5))
    );
    assert_eq!(
        list.json["roles"],
        json!([
            { "role": "admin", "label": "Solutions Admin" },
            { "role": "core", "label": "Solutions Core" },
            { "role": null, "label": "No role yet" },
        ]),
        "the pages take the role names from here"
    );
    let row = list.json["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == cora.as_str())
        .unwrap()
        .clone();
    assert_eq!(
        (
            row["role"].as_str(),
            row["role_label"].as_str(),
            row["status"].as_str()
        ),
        (Some("core"), Some("Solutions Core"), Some("invited"))
    );
    assert_eq!(row["mfa_enrolled"], false);
    let me_row = list.json["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["role"] == "admin")
        .unwrap()
        .clone();
    assert_eq!(me_row["mfa_enrolled"], true);
    assert!(me_row["last_sign_in"].as_str().is_some());

    let mut core = app.ready_member(&cora).await;
    let me = core.get("/api/me").await;
    assert_eq!(me.json["user"]["role"], "core");
    assert!(
        me.json["menu"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["id"] != "configuration"),
        "{:?}",
        me.json["menu"]
    );
    let tenant = app
        .state
        .store
        .get_tenant(&reg.tenant)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(tenant.user_count, 2);
}

#[tokio::test]
async fn bad_input_to_add_user_is_refused_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let (_, mut admin) = app.ready_admin(&app.address("ann")).await;
    let before = app.scan().await.len();
    let cases = [
        (
            json!({ "email": "not-an-email", "role": "core" }),
            400,
            "invalid_email",
        ),
        (
            json!({ "email": app.address("x"), "role": "owner" }),
            400,
            "invalid_role",
        ),
        (json!({ "role": "core" }), 400, "invalid_request"),
        (
            json!({ "email": app.address("ann"), "role": "core" }),
            409,
            "email_taken",
        ),
    ];
    for (body, status, code) in cases {
        let a = admin.post("/api/users", body).await;
        assert_eq!((a.status, a.code()), (status, code), "{:?}", a.json);
    }
    // Sign-in bookkeeping (session activity) aside, nothing new was written.
    let after = app.scan().await;
    assert_eq!(entity(&after, "user"), 1);
    assert_eq!(entity(&after, "email"), 1);
    assert!(after.len() <= before, "{} > {before}", after.len());
}

#[tokio::test]
async fn twenty_concurrent_adds_never_pass_the_seat_limit() {
    let app = TestApp::spawn().await;
    let (reg, admin) = app.ready_admin(&app.address("ann")).await;
    let cookie = admin.cookie.clone().unwrap();
    let adds = (0..20).map(|i| {
        let mut req = json_request(
            "/api/users",
            &json!({ "email": app.address(&format!("u{i}")), "role": "core" }),
        );
        req.headers_mut().insert("cookie", cookie.parse().unwrap());
        req.headers_mut()
            .insert("sec-fetch-site", "same-origin".parse().unwrap());
        app.send(req)
    });
    let answers: Vec<Answer> = join_all(adds).await.into_iter().map(answer).collect();
    let created = answers.iter().filter(|a| a.status == 201).count();
    let refused: Vec<_> = answers.iter().filter(|a| a.status == 409).collect();
    assert_eq!(created, 4, "five seats, one taken by the admin");
    assert_eq!(refused.len(), 16);
    assert!(refused.iter().all(|a| a.code() == "user_limit_reached"));
    assert_eq!(
        refused[0].json["error"]["message"],
        "Your organisation has reached its user limit; contact your representative to add more."
    );

    let tenant = app
        .state
        .store
        .get_tenant(&reg.tenant)
        .await
        .unwrap()
        .unwrap();
    let items = app.scan().await;
    assert_eq!(tenant.user_count, 5);
    assert_eq!(entity(&items, "user"), 5);
    assert_eq!(entity(&items, "email"), 5);
    assert_eq!(
        app.state.store.list_users(&reg.tenant).await.unwrap().len(),
        5
    );
}

#[tokio::test]
async fn removing_a_user_frees_the_seat_and_ends_their_session_at_once() {
    let app = TestApp::spawn().await;
    let (_, mut admin) = app.ready_admin(&app.address("ann")).await;
    let cora = app.address("cora");
    let id = admin.add_user(&cora, "core").await;
    for i in 0..3 {
        assert_eq!(
            admin
                .post(
                    "/api/users",
                    json!({ "email": app.address(&format!("f{i}")), "role": "core" })
                )
                .await
                .status,
            201
        );
    }
    let full = admin
        .post(
            "/api/users",
            json!({ "email": app.address("extra"), "role": null }),
        )
        .await;
    assert_eq!((full.status, full.code()), (409, "user_limit_reached"));

    let mut core = app.ready_member(&cora).await;
    assert_eq!(core.get("/api/me").await.status, 200);
    assert_eq!(admin.delete(&format!("/api/users/{id}")).await.status, 204);
    assert_eq!(
        core.get("/api/me").await.code(),
        "unauthenticated",
        "the removed user's session stopped"
    );
    assert_eq!(core.sign_in(&cora, PASSWORD).await.status, 401);
    assert_eq!(
        admin
            .post(
                "/api/users",
                json!({ "email": app.address("extra"), "role": null })
            )
            .await
            .status,
        201,
        "the seat is free again"
    );
    assert_eq!(
        admin.delete(&format!("/api/users/{id}")).await.code(),
        "user_not_found"
    );
}

#[tokio::test]
async fn a_core_user_gets_403_from_configuration_and_user_management() {
    let app = TestApp::spawn().await;
    let (reg, mut admin) = app.ready_admin(&app.address("ann")).await;
    let cora = app.address("cora");
    admin
        .post("/api/users", json!({ "email": cora, "role": "core" }))
        .await;
    let mut core = app.ready_member(&cora).await;
    let someone = format!("/api/users/{}", reg.admin);
    let answers = [
        core.get("/api/users").await,
        core.post(
            "/api/users",
            json!({ "email": app.address("z"), "role": "admin" }),
        )
        .await,
        core.patch(&someone, json!({ "role": "core" })).await,
        core.delete(&someone).await,
        core.post(&format!("{someone}/resend"), json!({})).await,
        core.get("/api/audit").await,
        core.post("/api/setup", json!({ "organisation_name": "Mine" }))
            .await,
    ];
    for a in answers {
        assert_eq!((a.status, a.code()), (403, "forbidden"), "{:?}", a.json);
    }
    assert_eq!(
        app.state.store.list_users(&reg.tenant).await.unwrap().len(),
        2,
        "nothing changed"
    );
}

#[tokio::test]
async fn an_admin_cannot_see_or_change_another_tenants_users() {
    let app = TestApp::spawn().await;
    let (_, mut ann) = app.ready_admin(&app.address("ann")).await;
    let bob_email = app.address("bob");
    let (bob_reg, _) = app.ready_admin(&bob_email).await;
    let theirs = format!("/api/users/{}", bob_reg.admin);
    for a in [
        ann.patch(&theirs, json!({ "role": "core" })).await,
        ann.delete(&theirs).await,
        ann.post(&format!("{theirs}/resend"), json!({})).await,
    ] {
        assert_eq!(
            (a.status, a.code()),
            (404, "user_not_found"),
            "{:?}",
            a.json
        );
    }
    let list = ann.get("/api/users").await;
    assert!(list.json["users"]
        .as_array()
        .unwrap()
        .iter()
        .all(|u| u["email"] != bob_email.as_str()));
    let bob = app
        .state
        .store
        .get_user(&bob_reg.tenant, &bob_reg.admin)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(bob.role.map(|r| r.as_str()), Some("admin"));
}

#[tokio::test]
async fn the_last_active_admin_cannot_demote_or_remove_themselves_while_others_are_only_invited() {
    let app = TestApp::spawn().await;
    let (reg, mut admin) = app.ready_admin(&app.address("ann")).await;
    let me = format!("/api/users/{}", reg.admin);
    let demote = admin.patch(&me, json!({ "role": "core" })).await;
    assert_eq!((demote.status, demote.code()), (409, "last_admin"));
    let remove = admin.delete(&me).await;
    assert_eq!((remove.status, remove.code()), (409, "last_admin"));
    let none = admin.patch(&me, json!({ "role": null })).await;
    assert_eq!(none.code(), "last_admin");
    assert_eq!(admin.get("/api/me").await.json["user"]["role"], "admin");

    let dana = app.address("dana");
    admin
        .post("/api/users", json!({ "email": dana, "role": "admin" }))
        .await;
    let while_invited = admin.patch(&me, json!({ "role": "core" })).await;
    assert_eq!(
        (while_invited.status, while_invited.code()),
        (409, "last_admin"),
        "an admin who has not activated yet does not count"
    );
    assert_eq!(admin.delete(&me).await.code(), "last_admin");
    app.activate(&dana).await;
    let demoted = admin.patch(&me, json!({ "role": "core" })).await;
    assert_eq!(
        demoted.status, 200,
        "with a second admin, the first may step down"
    );
    assert_eq!(
        admin.get("/api/me").await.status,
        401,
        "a role change ends the user's sessions"
    );
}

#[tokio::test]
async fn a_role_change_ends_that_users_sessions_and_takes_effect() {
    let app = TestApp::spawn().await;
    let (_, mut admin) = app.ready_admin(&app.address("ann")).await;
    let cora = app.address("cora");
    let id = admin.add_user(&cora, "core").await;
    app.activate(&cora).await;
    let mut core = app.browser();
    let (secret, _) = core.enrol_totp(&cora).await;
    assert_eq!(
        core.get("/api/users").await.code(),
        "forbidden",
        "core users cannot manage users"
    );
    let changed = admin
        .patch(&format!("/api/users/{id}"), json!({ "role": "admin" }))
        .await;
    assert_eq!(
        (changed.status, changed.json["role"].as_str()),
        (200, Some("admin"))
    );
    assert_eq!(core.get("/api/me").await.status, 401);
    // Signing in again, cora is an admin now.
    let mut again = app.browser();
    again.sign_in(&cora, PASSWORD).await;
    let code = oathtool(&secret, now() + 30);
    let mfa = again
        .post("/api/login/mfa", json!({ "method": "totp", "code": code }))
        .await;
    assert_eq!(mfa.status, 200, "{:?}", mfa.json);
    let me = again.get("/api/me").await;
    assert_eq!(me.json["user"]["role"], "admin");
    assert_eq!(
        again.get("/api/users").await.status,
        200,
        "and can manage users"
    );
    let bad = admin
        .patch(&format!("/api/users/{id}"), json!({ "role": "root" }))
        .await;
    assert_eq!((bad.status, bad.code()), (400, "invalid_role"));
}

#[tokio::test]
async fn a_user_added_without_a_role_is_told_to_ask_the_administrator() {
    let app = TestApp::spawn().await;
    let (_, mut admin) = app.ready_admin(&app.address("ann")).await;
    let nora = app.address("nora");
    assert_eq!(
        admin
            .post("/api/users", json!({ "email": nora, "role": null }))
            .await
            .status,
        201
    );
    let mut b = app.ready_member(&nora).await;
    let me = b.get("/api/me").await;
    assert_eq!((me.status, me.code()), (403, "no_role"));
    assert_eq!(b.get("/api/users").await.code(), "no_role");
}

#[tokio::test]
async fn an_invitation_whose_email_fails_is_not_lost() {
    let app = TestApp::spawn().await;
    let (_, mut admin) = app.ready_admin(&app.address("ann")).await;
    let broken = app.with_config(|c| c.mail_from = "nobody@unverified.test".into());
    let cora = app.address("cora");
    let mut req = json_request("/api/users", &json!({ "email": cora, "role": "core" }));
    req.headers_mut()
        .insert("cookie", admin.cookie.clone().unwrap().parse().unwrap());
    req.headers_mut()
        .insert("sec-fetch-site", "same-origin".parse().unwrap());
    let a = answer(invite_user::handle(&broken, req).await);
    assert_eq!(a.status, 201, "{:?}", a.json);
    assert_eq!(a.json["invitation_sent"], false);
    assert!(app.outbox(&cora).await.is_empty());
    let id = a.json["id"].as_str().unwrap();

    let listed = admin.get("/api/users").await;
    assert!(listed.json["users"]
        .as_array()
        .unwrap()
        .iter()
        .any(|u| u["email"] == cora.as_str() && u["status"] == "invited"));
    let resent = admin
        .post(&format!("/api/users/{id}/resend"), json!({}))
        .await;
    assert_eq!(resent.status, 202, "{:?}", resent.json);
    assert_eq!(app.outbox(&cora).await.len(), 1);
    app.activate(&cora).await;
    let again = admin
        .post(&format!("/api/users/{id}/resend"), json!({}))
        .await;
    assert_eq!((again.status, again.code()), (409, "already_active"));
}

#[tokio::test]
async fn the_audit_log_tells_what_happened_newest_first_in_pages() {
    let app = TestApp::spawn().await;
    let (reg, mut admin) = app.ready_admin(&app.address("ann")).await;
    let cora = app.address("cora");
    let id = admin.add_user(&cora, "core").await;
    admin
        .patch(&format!("/api/users/{id}"), json!({ "role": "admin" }))
        .await;
    admin.delete(&format!("/api/users/{id}")).await;
    admin
        .sign_in(&app.address("ann"), "wrong password here")
        .await;
    let mut admin = {
        let mut b = app.browser();
        b.cookie = admin.cookie.clone();
        b
    };

    let mut events = Vec::new();
    let mut next: Option<String> = None;
    for _ in 0..20 {
        let path = match &next {
            Some(n) => format!("/api/audit?limit=3&next={}", url_encode(n)),
            None => "/api/audit?limit=3".to_owned(),
        };
        let page = admin.get(&path).await;
        assert_eq!(page.status, 200, "{:?}", page.json);
        let got = page.json["events"].as_array().unwrap().clone();
        assert!(got.len() <= 3);
        events.extend(got);
        next = page.json["next"].as_str().map(str::to_owned);
        if next.is_none() {
            break;
        }
    }
    let actions: Vec<&str> = events
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for expected in [
        "tenant.create",
        "user.activate",
        "login.password",
        "mfa.enroll",
        "tenant.setup",
        "user.invite",
        "user.role_change",
        "user.remove",
    ] {
        assert!(
            actions.contains(&expected),
            "{expected} missing from {actions:?}"
        );
    }
    let times: Vec<&str> = events.iter().map(|e| e["at"].as_str().unwrap()).collect();
    assert!(
        times
            .iter()
            .all(|t| t.len() == "2026-11-29T05:00:00.123Z".len()),
        "to the millisecond: {times:?}"
    );
    let mut sorted = times.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    sorted.dedup();
    assert_eq!(times, sorted, "strictly newest first, even within a second");
    // The three changes to cora, made within a second or so, read in reverse order.
    let cora_steps: Vec<&str> = actions
        .iter()
        .copied()
        .filter(|a| ["user.invite", "user.role_change", "user.remove"].contains(a))
        .collect();
    assert_eq!(
        cora_steps,
        ["user.remove", "user.role_change", "user.invite"]
    );
    assert_eq!(
        actions.first(),
        Some(&"login.password"),
        "the failed sign-in came last"
    );
    assert_eq!(events[0]["outcome"], "failure");
    let removal = events
        .iter()
        .find(|e| e["action"] == "user.remove")
        .unwrap();
    assert_eq!(removal["actor"], reg.admin.as_str());
    assert!(removal["target"].as_str().unwrap().contains(&id));
    assert!(removal["source_ip"].as_str().is_some());
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn a_removal_based_on_a_role_that_changed_meanwhile_writes_nothing() {
    use porter_shared::domain::{AuditEvent, Role, UserId};
    let app = TestApp::spawn().await;
    let (reg, mut admin) = app.ready_admin(&app.address("ann")).await;
    let bob = app.address("bob");
    let id = admin.add_user(&bob, "core").await;
    let uid = UserId::parse(&id).unwrap();
    // The removal read bob as core; then someone made him an admin.
    let as_read = app
        .state
        .store
        .get_user(&reg.tenant, &uid)
        .await
        .unwrap()
        .unwrap();
    let promoted = admin
        .patch(&format!("/api/users/{id}"), json!({ "role": "admin" }))
        .await;
    assert_eq!(promoted.status, 200);
    let audit = AuditEvent::by(
        &as_read,
        porter_shared::domain::Action::UserRemove,
        Some(&as_read),
        "test",
    );
    let err = app
        .state
        .store
        .remove_member(&as_read, &audit, &mut rand::rngs::OsRng)
        .await
        .unwrap_err();
    assert!(
        matches!(err, porter_shared::store::members::MemberError::Stale),
        "{err:?}"
    );
    let tenant = app
        .item(keys::tenant_pk(&reg.tenant), keys::META)
        .await
        .unwrap();
    assert_eq!(
        (
            get_n(&tenant, "user_count"),
            get_n(&tenant, "active_admins")
        ),
        (Some(2), Some(1)),
        "bob is invited: the count of active admins is unchanged"
    );
    let still = app
        .state
        .store
        .get_user(&reg.tenant, &uid)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(still.role, Some(Role::Admin));
}

#[tokio::test]
async fn an_admin_reads_only_their_own_organisations_audit_trail() {
    let app = TestApp::spawn().await;
    let (_, mut ann) = app.ready_admin(&app.address("ann")).await;
    let (_, mut olga) = app
        .ready_admin(&format!(
            "olga@other-{}",
            app.address("x").split('@').nth(1).unwrap()
        ))
        .await;
    ann.add_user(&app.address("bob"), "core").await;
    let theirs = olga.get("/api/audit").await;
    let actors: Vec<&str> = theirs.json["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["actor"].as_str().unwrap())
        .collect();
    let ann_id = ann.get("/api/me").await.json["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(!actors.is_empty());
    assert!(
        !actors.contains(&ann_id.as_str()),
        "another tenant's events: {actors:?}"
    );
    assert!(theirs.json["events"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["action"] != "user.invite"));
}

#[tokio::test]
async fn the_audit_names_people_by_address_filters_and_exports_csv() {
    let app = TestApp::spawn().await;
    let ann = app.address("ann");
    let (_, mut admin) = app.ready_admin(&ann).await;
    let cora = app.address("cora");
    let id = admin.add_user(&cora, "core").await;
    admin.delete(&format!("/api/users/{id}")).await;

    let all = admin.get("/api/audit?limit=100").await;
    let events = all.json["events"].as_array().unwrap();
    let invite = events
        .iter()
        .find(|e| e["action"] == "user.invite")
        .unwrap();
    assert_eq!(invite["actor_email"], ann.as_str());
    assert_eq!(invite["target_email"], cora.as_str());
    assert_eq!(invite["detail"], "Solutions Core");
    let removal = events
        .iter()
        .find(|e| e["action"] == "user.remove")
        .unwrap();
    assert_eq!(
        removal["target_email"],
        cora.as_str(),
        "a removed user's address is kept"
    );

    let by_person = admin
        .get(&format!("/api/audit?person={}", cora.to_uppercase()))
        .await;
    let actions: Vec<&str> = by_person.json["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["user.remove", "user.invite"]);
    let by_action = admin.get("/api/audit?action=user.invite").await;
    assert_eq!(by_action.json["events"].as_array().unwrap().len(), 1);

    let csv = admin.get("/api/audit?format=csv&action=user.remove").await;
    assert_eq!(csv.status, 200);
    assert!(csv.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    assert!(csv.headers["content-disposition"]
        .to_str()
        .unwrap()
        .contains("audit.csv"));
    let text = csv.text.clone();
    let lines: Vec<&str> = text.trim_end().split("\r\n").collect();
    assert_eq!(
        lines[0],
        "time,action,outcome,actor,actor_email,msp,target,target_email,source_ip"
    );
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[1].contains(&format!("\"{cora}\"")), "{text}");
}

#[tokio::test]
async fn the_dashboard_checklist_ticks_from_what_is_stored() {
    let app = TestApp::spawn().await;
    let (_, mut admin) = app.ready_admin(&app.address("ann")).await;
    let steps = |me: &Answer| -> Vec<(String, bool)> {
        me.json["checklist"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["id"].as_str().unwrap().to_owned(),
                    s["done"].as_bool().unwrap(),
                )
            })
            .collect()
    };
    let before = steps(&admin.get("/api/me").await);
    assert_eq!(
        before,
        [
            ("organisation".to_owned(), true),
            ("api".to_owned(), false),
            ("license".to_owned(), false),
            ("sso".to_owned(), false),
            ("users".to_owned(), false),
        ]
    );
    admin.add_user(&app.address("cora"), "core").await;
    admin
        .put("/api/config/sso", json!({ "method": "porter" }))
        .await;
    let after = steps(&admin.get("/api/me").await);
    assert!(after.contains(&("users".to_owned(), true)));
    assert!(
        after.contains(&("sso".to_owned(), true)),
        "porter chosen: skipped"
    );
    let mut core = app.ready_member(&app.address("cora")).await;
    assert!(core.get("/api/me").await.json["checklist"].is_null());
}

#[tokio::test]
async fn an_invited_user_shows_since_when_and_whether_the_link_expired() {
    let app = TestApp::spawn().await;
    let (reg, mut admin) = app.ready_admin(&app.address("ann")).await;
    let cora = app.address("cora");
    let id = admin.add_user(&cora, "core").await;
    let row = |a: &Answer| {
        a.json["users"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["email"] == cora.as_str())
            .unwrap()
            .clone()
    };
    let fresh = row(&admin.get("/api/users").await);
    assert!(fresh["invited_at"].as_str().unwrap().starts_with("20"));
    assert_eq!(fresh["invitation_expired"], false);
    app.set_numbers(
        keys::tenant_pk(&reg.tenant),
        &keys::user_sk(&porter_shared::domain::UserId::parse(&id).unwrap()),
        &[("invited_at", now() - 8 * 24 * 3600)],
    )
    .await;
    assert_eq!(
        row(&admin.get("/api/users").await)["invitation_expired"],
        true
    );
}

#[tokio::test]
async fn the_audit_log_serves_every_event_in_words_and_every_action_with_its_label() {
    let app = TestApp::spawn().await;
    let (_, mut admin) = app.ready_admin(&app.address("ann")).await;
    let cora = app.address("cora");
    let id = admin.add_user(&cora, "core").await;
    admin.delete(&format!("/api/users/{id}")).await;
    let page = admin.get("/api/audit?limit=100").await;
    assert_eq!(page.status, 200, "{:?}", page.json);
    let said = |action: &str| -> Vec<String> {
        page.json["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["action"] == action)
            .map(|e| e["label"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(said("user.remove"), vec![format!("Removed {cora}")]);
    assert_eq!(
        said("user.invite"),
        vec![format!("Invited {cora} as Solutions Core")]
    );
    assert_eq!(said("mfa.enroll"), vec!["Set up an authenticator app"]);
    assert!(said("login.password").contains(&"Entered the right password".to_owned()));

    // The filter's list: every action with words, the six that once showed raw included.
    let actions = page.json["actions"].as_array().unwrap();
    let label = |action: &str| {
        actions
            .iter()
            .find(|a| a["action"] == action)
            .and_then(|a| a["label"].as_str())
            .unwrap_or_else(|| panic!("{action} is not offered"))
            .to_owned()
    };
    for action in [
        "sso.configure",
        "sso.activate",
        "sso.disable",
        "sso.test",
        "sso.link",
        "platform.configure",
    ] {
        let words = label(action);
        assert!(
            !words.contains('.') && !words.is_empty(),
            "{action}: {words}"
        );
    }
    assert_eq!(label("platform.configure"), "Saved the platform connection");
}
