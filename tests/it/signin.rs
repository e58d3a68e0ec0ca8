//! Sign-in with mandatory MFA, against moto, through the routes of template.yaml.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use porter_shared::store::keys;
use porter_tests::*;
use serde_json::json;

#[tokio::test]
async fn the_whole_journey_activate_sign_in_enrol_sign_out_sign_in_with_a_code() {
    let app = TestApp::spawn().await;
    let ann = app.address("ann");
    app.active_admin(&ann, PASSWORD).await;
    let mut b = app.browser();

    let a = b.sign_in(&ann, PASSWORD).await;
    assert_eq!(a.json["next"], "mfa_enroll");
    let start = b.post("/api/mfa/totp", json!({})).await;
    let secret = start.json["secret"].as_str().unwrap().to_owned();
    assert_eq!(secret.len(), 32, "160 bits in base32");
    let uri = start.json["otpauth_uri"].as_str().unwrap();
    assert!(
        uri.starts_with("otpauth://totp/Porter:") && uri.contains("issuer=Porter"),
        "{uri}"
    );
    assert!(start.json["qr_svg"].as_str().unwrap().contains("<svg"));

    let done = b
        .post(
            "/api/mfa/totp/confirm",
            json!({ "code": oathtool(&secret, now()) }),
        )
        .await;
    assert_eq!(done.status, 200, "{:?}", done.json);
    let codes = done.json["recovery_codes"].as_array().unwrap();
    assert_eq!(codes.len(), 10);
    // 120 bits each (ASVS 6.5.2 asks for 112): 24 characters of 32, in six groups of four.
    let code = codes[0].as_str().unwrap();
    assert_eq!(
        code.split('-').map(str::len).collect::<Vec<_>>(),
        [4; 6],
        "{code}"
    );
    assert_eq!(
        done.json["next"], "setup",
        "a first admin lands on the setup step"
    );

    let me = b.get("/api/me").await;
    assert_eq!(me.status, 200, "{:?}", me.json);
    assert_eq!(me.json["user"]["email"], ann.as_str());
    assert_eq!(me.json["user"]["role"], "admin");
    assert_eq!(me.json["tenant"]["name"], "Acme");
    assert!(me.json["menu"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["id"] == "configuration"));

    assert_eq!(b.post("/api/logout", json!({})).await.status, 204);
    assert_eq!(b.get("/api/me").await.status, 401);

    let a = b.sign_in(&ann, PASSWORD).await;
    assert_eq!(a.json["next"], "mfa_verify");
    // The enrolment spent the current step; the next one (one step of drift) is fresh.
    let code = oathtool(&secret, now() + 30);
    let v = b
        .post("/api/login/mfa", json!({ "method": "totp", "code": code }))
        .await;
    assert_eq!(v.status, 200, "{:?}", v.json);
    assert_eq!(b.get("/api/me").await.status, 200);
}

#[tokio::test]
async fn a_replayed_code_is_refused_and_a_recovery_code_works_once() {
    let app = TestApp::spawn().await;
    let ann = app.address("ann");
    app.active_admin(&ann, PASSWORD).await;
    let mut b = app.browser();
    let (secret, codes) = b.enrol_totp(&ann).await;
    let code = oathtool(&secret, now() + 30);

    let mut first = app.browser();
    first.sign_in(&ann, PASSWORD).await;
    assert_eq!(
        first
            .post("/api/login/mfa", json!({ "method": "totp", "code": code }))
            .await
            .status,
        200
    );

    let mut second = app.browser();
    second.sign_in(&ann, PASSWORD).await;
    let replay = second
        .post("/api/login/mfa", json!({ "method": "totp", "code": code }))
        .await;
    assert_eq!((replay.status, replay.code()), (401, "invalid_code"));
    let enrol_code = oathtool(&secret, now());
    let old = second
        .post(
            "/api/login/mfa",
            json!({ "method": "totp", "code": enrol_code }),
        )
        .await;
    assert_eq!(old.status, 401, "the step spent at enrolment stays spent");

    let r = second
        .post(
            "/api/login/mfa",
            json!({ "method": "recovery", "code": codes[0].to_uppercase() }),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.json);
    let mut third = app.browser();
    third.sign_in(&ann, PASSWORD).await;
    let again = third
        .post(
            "/api/login/mfa",
            json!({ "method": "recovery", "code": codes[0] }),
        )
        .await;
    assert_eq!(again.status, 401, "a recovery code works once");
    assert_eq!(
        third
            .post(
                "/api/login/mfa",
                json!({ "method": "recovery", "code": codes[1] })
            )
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn a_password_level_session_reaches_only_enrolment_and_the_mfa_check() {
    let app = TestApp::spawn().await;
    let ann = app.address("ann");
    app.active_admin(&ann, PASSWORD).await;
    let mut b = app.browser();
    b.sign_in(&ann, PASSWORD).await;
    let me = b.get("/api/me").await;
    assert_eq!((me.status, me.code()), (403, "mfa_required"));
    let no_factor = b
        .post(
            "/api/login/mfa",
            json!({ "method": "totp", "code": "123456" }),
        )
        .await;
    assert_eq!(
        (no_factor.status, no_factor.code()),
        (409, "mfa_not_enrolled")
    );
    assert_eq!(
        b.post("/api/mfa/totp", json!({})).await.status,
        200,
        "enrolment is reachable"
    );

    // With a factor enrolled, a new password-level session may not add another one.
    let (_secret, _) = {
        let mut e = app.browser();
        e.enrol_totp(&ann).await
    };
    let mut c = app.browser();
    assert_eq!(c.sign_in(&ann, PASSWORD).await.json["next"], "mfa_verify");
    let add = c.post("/api/mfa/totp", json!({})).await;
    assert_eq!((add.status, add.code()), (403, "mfa_required"));
    assert_eq!(c.get("/api/me").await.code(), "mfa_required");
    assert_eq!(
        b.get("/api/me").await.status,
        403,
        "the first session is still at password level"
    );
}

#[tokio::test]
async fn a_session_cookie_whose_ids_name_someone_else_opens_nothing() {
    let app = TestApp::spawn().await;
    let (ann, bob) = (app.address("ann"), app.address("bob"));
    let (_, mut a) = app.ready_admin(&ann).await;
    let (bob_reg, _) = app.ready_admin(&bob).await;
    let ann_cookie = a.cookie.clone().unwrap();
    let (name, value) = ann_cookie.split_once('=').unwrap();
    let secret = value.rsplit('.').next().unwrap();

    // Ann's secret behind Bob's ids: the stored session names Ann, so nobody is signed in.
    a.cookie = Some(format!(
        "{name}={}.{}.{secret}",
        bob_reg.tenant, bob_reg.admin
    ));
    let forged = a.get("/api/me").await;
    assert_eq!(forged.status, 401, "{:?}", forged.json);
    assert_eq!(forged.code(), "unauthenticated");

    // The secret alone (a cookie from before the ids were carried) is still Ann's session.
    a.cookie = Some(format!("{name}={secret}"));
    let old = a.get("/api/me").await;
    assert_eq!(old.status, 200, "{:?}", old.json);
    assert_eq!(old.json["user"]["email"], json!(ann));
}

#[tokio::test]
async fn the_session_cookie_is_httponly_lax_and_host_prefixed_outside_localhost() {
    let app = TestApp::spawn().await;
    let ann = app.address("ann");
    let reg = app.active_admin(&ann, PASSWORD).await;
    let mut b = app.browser();
    b.sign_in(&ann, PASSWORD).await;
    let set = b.last_set_cookie.clone().unwrap();
    assert!(set.starts_with("porter_session="), "{set}");
    assert!(
        set.ends_with("; Path=/; HttpOnly; SameSite=Lax; Max-Age=900"),
        "{set}"
    );
    let id = set.split(';').next().unwrap().split('=').nth(1).unwrap();
    let secret = id
        .strip_prefix(&format!("{}.{}.", reg.tenant, reg.admin))
        .unwrap_or_else(|| panic!("the tenant and user ids lead the cookie: {id}"));
    assert_eq!(secret.len(), 64, "256-bit secret");
    let dump = format!("{:?}", app.scan().await);
    assert!(
        !dump.contains(secret),
        "only the hash of the session's secret is stored"
    );

    let https = app.with_config(|c| {
        c.public_base_url = "https://id.example.test".parse().unwrap();
        c.webauthn_rp_id = "id.example.test".into();
    });
    let req = json_request(
        "/api/login/password",
        &json!({ "email": ann, "password": PASSWORD }),
    );
    let a = answer(login::handle(&https, req).await);
    let set = a.headers["set-cookie"].to_str().unwrap();
    assert!(set.starts_with("__Host-porter_session="), "{set}");
    assert!(
        set.contains("; Path=/; HttpOnly; SameSite=Lax;") && set.ends_with("; Secure"),
        "{set}"
    );
    assert!(!set.contains("Domain="));
}

#[tokio::test]
async fn logout_ends_the_session_on_the_server() {
    let app = TestApp::spawn().await;
    let ann = app.address("ann");
    app.active_admin(&ann, PASSWORD).await;
    let mut b = app.browser();
    b.enrol_totp(&ann).await;
    let stolen = b.cookie.clone().unwrap();
    let sessions = |items: Vec<Item>| {
        items
            .iter()
            .filter(|i| get_s(i, "entity") == Some("session"))
            .count()
    };
    assert_eq!(
        sessions(app.scan().await),
        1,
        "enrolment replaced the password-level session"
    );

    let out = b.post("/api/logout", json!({})).await;
    assert_eq!(out.status, 204);
    assert!(b.last_set_cookie.as_ref().unwrap().contains("Max-Age=0"));
    assert_eq!(sessions(app.scan().await), 0);

    let mut thief = app.browser();
    thief.cookie = Some(stolen);
    let me = thief.get("/api/me").await;
    assert_eq!((me.status, me.code()), (401, "unauthenticated"));
}

#[tokio::test]
async fn a_password_reset_ends_existing_sessions_emails_the_user_and_does_not_skip_mfa() {
    let app = TestApp::spawn().await;
    let ann = app.address("ann");
    app.active_admin(&ann, PASSWORD).await;
    let mut old = app.browser();
    let (secret, _) = old.enrol_totp(&ann).await;
    assert_eq!(old.get("/api/me").await.status, 200);

    let mut b = app.browser();
    let f = b
        .post("/api/password/forgot", json!({ "email": ann }))
        .await;
    assert_eq!(f.status, 202);
    let mails = app.outbox(&ann).await;
    let mail = mails.last().unwrap();
    assert_eq!(mail.subject, "Reset your Porter password");
    let link = mail.link_to("/reset?token=").unwrap();
    let token = link.rsplit('=').next().unwrap();

    let weak = b
        .post(
            "/api/password/reset",
            json!({ "token": token, "password": "short", "password_confirm": "short" }),
        )
        .await;
    assert_eq!((weak.status, weak.code()), (422, "password_weak"));
    let new_password = "lantern meadow copper 31";
    let r = b
        .post(
            "/api/password/reset",
            json!({ "token": token, "password": new_password, "password_confirm": new_password }),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.json);
    let again = b
        .post(
            "/api/password/reset",
            json!({ "token": token, "password": new_password, "password_confirm": new_password }),
        )
        .await;
    assert_eq!((again.status, again.code()), (409, "token_used"));
    let notice = app.outbox(&ann).await.pop().unwrap();
    assert_eq!(notice.subject, "Your Porter sign-in methods changed");
    assert!(notice.body.contains("password of your account was reset"));
    assert!(!notice.body.contains(new_password));

    assert_eq!(
        old.get("/api/me").await.status,
        401,
        "the old session ended"
    );
    assert_eq!(
        b.sign_in(&ann, PASSWORD).await.status,
        401,
        "the old password no longer works"
    );
    let a = b.sign_in(&ann, new_password).await;
    assert_eq!(
        a.json["next"], "mfa_verify",
        "the second factor is still asked"
    );
    assert_eq!(b.get("/api/me").await.code(), "mfa_required");
    let v = b
        .post(
            "/api/login/mfa",
            json!({ "method": "totp", "code": oathtool(&secret, now() + 30) }),
        )
        .await;
    assert_eq!(v.status, 200);
}

#[tokio::test]
async fn forgot_password_always_answers_202_and_mails_only_active_accounts() {
    let app = TestApp::spawn().await;
    let ann = app.address("ann");
    let bob = app.address("bob");
    app.active_admin(&ann, PASSWORD).await;
    app.register("Other", &bob).await; // invited, not active
    let mut b = app.browser();
    for email in [
        ann.as_str(),
        bob.as_str(),
        "nobody@nowhere.test",
        "not an email",
    ] {
        let a = b
            .post("/api/password/forgot", json!({ "email": email }))
            .await;
        assert_eq!(a.status, 202, "{email}");
        assert_eq!(
            a.json,
            b.post("/api/password/forgot", json!({ "email": "x@y.test" }))
                .await
                .json
        );
    }
    assert_eq!(
        app.outbox(&ann)
            .await
            .iter()
            .filter(|m| m.subject.starts_with("Reset"))
            .count(),
        1,
        "one per minute"
    );
    assert!(app
        .outbox(&bob)
        .await
        .iter()
        .all(|m| !m.subject.starts_with("Reset")));
}

#[tokio::test]
async fn unknown_email_and_wrong_password_answer_alike() {
    let app = TestApp::spawn().await;
    let ann = app.address("ann");
    app.active_admin(&ann, PASSWORD).await;
    let mut b = app.browser();
    let wrong = b.sign_in(&ann, "not the password at all").await;
    let unknown = b.sign_in(&app.address("nobody"), PASSWORD).await;
    assert_eq!((wrong.status, wrong.code()), (401, "invalid_credentials"));
    assert_eq!(wrong.json, unknown.json);
    assert!(b.cookie.is_none());
    let traces: Vec<Item> = app
        .scan()
        .await
        .into_iter()
        .filter(|i| get_s(i, "pk") == Some("AUDIT#unregistered"))
        .collect();
    assert_eq!(
        traces.len(),
        1,
        "the try on an unknown address leaves a trace"
    );
    assert!(
        !format!("{traces:?}").contains("nobody"),
        "without the address in clear"
    );

    let identify_known = b.post("/api/login/identify", json!({ "email": ann })).await;
    let identify_unknown = b
        .post(
            "/api/login/identify",
            json!({ "email": "nobody@nowhere.test" }),
        )
        .await;
    assert_eq!(identify_known.json, identify_unknown.json);
    let bad = b
        .post("/api/login/identify", json!({ "email": "nope" }))
        .await;
    assert_eq!((bad.status, bad.code()), (400, "invalid_email"));
}

#[tokio::test]
async fn a_user_without_a_role_signs_in_but_is_told_to_ask_the_administrator() {
    let app = TestApp::spawn().await;
    let ann = app.address("ann");
    let reg = app.active_admin(&ann, PASSWORD).await;
    app.state
        .store
        .remove_attribute(
            keys::tenant_pk(&reg.tenant),
            &keys::user_sk(&reg.admin),
            "role",
        )
        .await
        .unwrap();
    let mut b = app.browser();
    b.enrol_totp(&ann).await;
    let me = b.get("/api/me").await;
    assert_eq!((me.status, me.code()), (403, "no_role"));
    assert_eq!(
        me.json["error"]["message"],
        "You have no role yet; ask your administrator."
    );
}

#[tokio::test]
async fn a_cross_site_sign_in_is_refused() {
    let app = TestApp::spawn().await;
    let mut req = json_request(
        "/api/login/password",
        &json!({ "email": "a@b.test", "password": PASSWORD }),
    );
    req.headers_mut()
        .insert("origin", "https://evil.test".parse().unwrap());
    let a = answer(app.send(req).await);
    assert_eq!((a.status, a.code()), (403, "forbidden_origin"));
}

#[tokio::test]
async fn a_session_ends_after_thirty_idle_minutes_and_after_its_absolute_lifetime() {
    let app = TestApp::spawn().await;
    let ann = app.address("ann");
    app.active_admin(&ann, PASSWORD).await;
    let sessions = |items: Vec<Item>| -> Vec<String> {
        items
            .iter()
            .filter(|i| get_s(i, "entity") == Some("session"))
            .map(|i| get_s(i, "pk").unwrap().to_owned())
            .collect()
    };

    let mut idle = app.browser();
    idle.enrol_totp(&ann).await;
    assert_eq!(idle.get("/api/me").await.status, 200);
    let pk = sessions(app.scan().await).pop().unwrap();
    app.set_numbers(pk.clone(), "SESSION", &[("last_seen", now() - 31 * 60)])
        .await;
    assert_eq!(idle.get("/api/me").await.code(), "unauthenticated");
    assert!(
        !sessions(app.scan().await).contains(&pk),
        "the dead session is tidied away"
    );

    let mut old = app.browser();
    old.sign_in(&ann, PASSWORD).await;
    let pk = sessions(app.scan().await).pop().unwrap();
    app.set_numbers(pk, "SESSION", &[("expires_at", now() - 1)])
        .await;
    let a = old
        .post(
            "/api/login/mfa",
            json!({ "method": "recovery", "code": "0000-0000-0000-0000" }),
        )
        .await;
    assert_eq!(
        (a.status, a.code()),
        (401, "unauthenticated"),
        "a password-level session past its end is over too"
    );
}

#[tokio::test]
async fn a_request_with_the_session_cookie_and_no_origin_must_say_it_is_same_origin() {
    let app = TestApp::spawn().await;
    let (_, admin) = app.ready_admin(&app.address("ann")).await;
    let cookie = admin.cookie.clone().unwrap();
    let send = |fetch_site: Option<&'static str>, referer: Option<String>| {
        let mut req = json_request(
            "/api/users",
            &json!({ "email": "x@y.test", "role": "core" }),
        );
        req.headers_mut().insert("cookie", cookie.parse().unwrap());
        if let Some(site) = fetch_site {
            req.headers_mut()
                .insert("sec-fetch-site", site.parse().unwrap());
        }
        if let Some(r) = referer {
            req.headers_mut().insert("referer", r.parse().unwrap());
        }
        req
    };
    // A form posted from another site carries the cookie (SameSite=Lax lets top-level POSTs
    // of some browsers through) but says cross-site, or nothing at all.
    for (site, referer) in [
        (Some("cross-site"), None),
        (Some("same-site"), None),
        (None, None),
        (None, Some("https://evil.test/page".to_owned())),
    ] {
        let a = answer(app.send(send(site, referer.clone())).await);
        assert_eq!(
            (a.status, a.code()),
            (403, "forbidden_origin"),
            "{site:?} {referer:?}"
        );
    }
    let same = answer(app.send(send(Some("same-origin"), None)).await);
    assert_eq!(same.status, 201, "{:?}", same.json);
    let by_referer = send(None, Some(format!("{BASE_URL}/app/configuration/users")));
    let mut req = by_referer;
    *req.body_mut() = json!({ "email": "z@y.test", "role": "core" })
        .to_string()
        .into();
    assert_eq!(answer(app.send(req).await).status, 201);
    // Without the cookie (a script, cargo lambda invoke) nothing is required.
    let plain = answer(
        app.send(json_request(
            "/api/login/identify",
            &json!({ "email": "a@b.test" }),
        ))
        .await,
    );
    assert_eq!(plain.status, 200);
}

#[tokio::test]
async fn the_audit_names_the_address_api_gateway_saw_never_a_forwarded_for_header() {
    let app = TestApp::spawn().await;
    let ann = app.address("ann");
    let (_, mut admin) = app.ready_admin(&ann).await;
    let mut req = json_request(
        "/api/login/password",
        &json!({ "email": ann, "password": "not the password" }),
    );
    req.headers_mut()
        .insert("x-forwarded-for", "198.51.100.99".parse().unwrap());
    assert_eq!(answer(app.send(req).await).status, 401);
    let audit = admin.get("/api/audit").await;
    let failure = audit.json["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "login.password" && e["outcome"] == "failure")
        .unwrap();
    assert_eq!(failure["source_ip"], SOURCE_IP);
}

#[tokio::test]
async fn the_session_id_changes_when_the_second_factor_passes() {
    let app = TestApp::spawn().await;
    let ann = app.address("ann");
    app.active_admin(&ann, PASSWORD).await;
    let mut e = app.browser();
    let (secret, _) = e.enrol_totp(&ann).await;
    let mut b = app.browser();
    b.sign_in(&ann, PASSWORD).await;
    let first = b.cookie.clone().unwrap();
    // The code of the next step, so that it is not the one enrolment spent.
    let code = oathtool(&secret, now() + 30);
    let a = b
        .post("/api/login/mfa", json!({ "method": "totp", "code": code }))
        .await;
    assert_eq!(a.status, 200, "{:?}", a.json);
    let second = b.cookie.clone().unwrap();
    assert_ne!(first, second, "a new id at the full level");
    let mut stale = app.browser();
    stale.cookie = Some(first);
    assert_eq!(
        stale.get("/api/me").await.code(),
        "unauthenticated",
        "the old id is dead"
    );
}

#[tokio::test]
async fn one_address_cannot_have_reset_links_sent_to_a_whole_list_of_people() {
    let app = TestApp::spawn().await;
    let mut people = Vec::new();
    for i in 0..12 {
        let email = app.address(&format!("p{i}"));
        app.active_admin(&email, PASSWORD).await;
        people.push(email);
    }
    let mut bodies = Vec::new();
    for email in &people {
        let a = answer(
            app.send(json_request(
                "/api/password/forgot",
                &json!({ "email": email }),
            ))
            .await,
        );
        assert_eq!(a.status, 202);
        bodies.push(a.json);
    }
    assert!(
        bodies.windows(2).all(|w| w[0] == w[1]),
        "every answer alike"
    );
    let mut emailed = Vec::new();
    for email in &people {
        emailed.push(
            app.outbox(email)
                .await
                .iter()
                .any(|m| m.link_to("/reset?token=").is_some()),
        );
    }
    assert_eq!(emailed.iter().filter(|e| **e).count(), 10, "{emailed:?}");
    assert!(!emailed[10] && !emailed[11]);
    // Someone else, from another address, still gets their link.
    let req = porter_shared::http::with_source_ip(
        json_request("/api/password/forgot", &json!({ "email": people[11] })),
        "198.51.100.20",
    );
    assert_eq!(answer(app.send(req).await).status, 202);
    assert!(app
        .outbox(&people[11])
        .await
        .iter()
        .any(|m| m.link_to("/reset?token=").is_some()));
}

#[tokio::test]
async fn a_full_session_ends_at_its_absolute_end_however_active_it_is() {
    let app = TestApp::spawn().await;
    let ann = app.address("ann");
    app.active_admin(&ann, PASSWORD).await;
    let mut b = app.browser();
    b.enrol_totp(&ann).await;
    assert_eq!(b.get("/api/me").await.status, 200);
    let session = app
        .scan()
        .await
        .into_iter()
        .find(|i| get_s(i, "entity") == Some("session") && get_s(i, "level") == Some("full"))
        .unwrap();
    let created = get_n(&session, "created_at").unwrap();
    assert_eq!(
        get_n(&session, "expires_at").unwrap() - created,
        12 * 3600,
        "twelve hours"
    );
    let pk = get_s(&session, "pk").unwrap().to_owned();
    // Active a moment ago, but past its absolute end.
    app.set_numbers(
        pk,
        "SESSION",
        &[("expires_at", now() - 1), ("last_seen", now())],
    )
    .await;
    assert_eq!(b.get("/api/me").await.code(), "unauthenticated");
}

#[tokio::test]
async fn neither_the_totp_seed_nor_a_recovery_code_is_stored_in_clear() {
    let app = TestApp::spawn().await;
    let ann = app.address("ann");
    app.active_admin(&ann, PASSWORD).await;
    let (secret, codes) = app.browser().enrol_totp(&ann).await;
    let table = format!("{:?}", app.scan().await);
    assert!(!table.contains(&secret), "the base32 seed is in the table");
    for code in &codes {
        let bare = code.replace('-', "");
        assert!(
            !table.contains(code) && !table.contains(&bare),
            "{code} is in the table"
        );
    }
}

#[tokio::test]
async fn a_second_reset_request_within_a_minute_sends_nothing() {
    let app = TestApp::spawn().await;
    let ann = app.address("ann");
    app.active_admin(&ann, PASSWORD).await;
    let ask = || answer_of(&app, &ann);
    assert_eq!(ask().await, 202);
    assert_eq!(ask().await, 202, "the same answer");
    let resets = app
        .outbox(&ann)
        .await
        .iter()
        .filter(|m| m.link_to("/reset?token=").is_some())
        .count();
    assert_eq!(resets, 1, "one email a minute per account");
}

async fn answer_of(app: &TestApp, email: &str) -> u16 {
    answer(
        app.send(json_request(
            "/api/password/forgot",
            &json!({ "email": email }),
        ))
        .await,
    )
    .status
}

#[tokio::test]
async fn a_suspended_organisation_cannot_sign_in_and_its_sessions_end_at_once() {
    use porter_shared::tenants::{resume_tenant, suspend_tenant};
    let app = TestApp::spawn().await;
    let ann = app.address("ann");
    let (reg, mut admin) = app.ready_admin(&ann).await;
    assert_eq!(admin.get("/api/me").await.status, 200);
    assert_eq!(
        suspend_tenant(&app.state, &reg.tenant).await.unwrap(),
        Some(1),
        "the admin's one session ended"
    );
    assert_eq!(
        admin.get("/api/me").await.code(),
        "unauthenticated",
        "ended at once"
    );
    let mut b = app.browser();
    let a = b.sign_in(&ann, PASSWORD).await;
    assert_eq!((a.status, a.code()), (403, "tenant_suspended"));
    assert!(b.cookie.is_none(), "no session");
    let wrong = b.sign_in(&ann, "not the password").await;
    assert_eq!(
        wrong.code(),
        "invalid_credentials",
        "a wrong password learns nothing more"
    );
    assert!(resume_tenant(&app.state, &reg.tenant).await.unwrap());
    assert_eq!(b.sign_in(&ann, PASSWORD).await.status, 200);
    let tenant = app
        .item(keys::tenant_pk(&reg.tenant), keys::META)
        .await
        .unwrap();
    assert_eq!(get_s(&tenant, "status"), Some("active"));
}

/// A loopback server that accepts connections and never answers: a dependency that stalls.
pub async fn stalling_server() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((conn, _)) = listener.accept().await {
            held.push(conn);
        }
    });
    url
}

#[tokio::test]
async fn a_stalling_mail_service_does_not_hold_the_forgot_password_answer() {
    let app = TestApp::spawn().await;
    let ann = app.address("ann");
    app.active_admin(&ann, PASSWORD).await;
    let stalled = porter_shared::AppState::from_sdk_config(
        app.state.config.clone(),
        &porter_dev::stack::sdk_config(&stalling_server().await),
    )
    .unwrap();
    let state = app.state.clone().with_mailer_of(&stalled);
    let login = porter_dev::server::handler_for("login").unwrap();

    let started = std::time::Instant::now();
    let answer_in_time = tokio::time::timeout(
        std::time::Duration::from_secs(3),
        login(
            &state,
            json_request("/api/password/forgot", &json!({ "email": ann })),
        ),
    )
    .await;
    let a = answer(answer_in_time.expect("answered while the mail service still stalls"));
    assert_eq!(a.status, 202);
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(700),
        "the floor still holds"
    );
    assert!(app
        .outbox(&ann)
        .await
        .iter()
        .all(|m| !m.subject.contains("Reset")));
}

/// A loopback port nobody listens on: a dependency that is down.
async fn closed_port() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    url
}

/// How many messages wait in the queue at `url` (visible or in flight).
async fn waiting(app: &TestApp, url: &str) -> i64 {
    use aws_sdk_sqs::types::QueueAttributeName as A;
    let sqs = aws_sdk_sqs::Client::new(&porter_dev::stack::sdk_config(&app.moto));
    let out = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(A::ApproximateNumberOfMessages)
        .attribute_names(A::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await
        .unwrap();
    let attrs = out.attributes.unwrap_or_default();
    let n = |a: A| attrs.get(&a).map_or(0, |v| v.parse::<i64>().unwrap());
    n(A::ApproximateNumberOfMessages) + n(A::ApproximateNumberOfMessagesNotVisible)
}

#[tokio::test]
async fn a_reset_mail_queued_while_the_mail_service_is_down_is_sent_once_when_it_is_back() {
    let app = TestApp::spawn().await;
    let ann = app.address("ann");
    app.active_admin(&ann, PASSWORD).await;
    let resets = |mails: Vec<porter_dev::outbox::SentMail>| {
        mails
            .into_iter()
            .filter(|m| m.subject == "Reset your Porter password")
            .count()
    };
    let down = porter_shared::AppState::from_sdk_config(
        app.state.config.clone(),
        &porter_dev::stack::sdk_config(&closed_port().await),
    )
    .unwrap();
    let broken = app.state.clone().with_mailer_of(&down);
    let login = porter_dev::server::handler_for("login").unwrap();
    let a = answer(
        login(
            &broken,
            json_request("/api/password/forgot", &json!({ "email": ann })),
        )
        .await,
    );
    assert_eq!(a.status, 202);
    let queue = app.state.config.mail_queue_url.clone().unwrap();
    assert_eq!(waiting(&app, &queue).await, 1, "queued before the answer");

    // The mailer runs while SES is down: the job fails and stays queued, nothing half-done.
    assert_eq!(porter_dev::mailer::drain(&broken).await, 0);
    assert_eq!(resets(app.outbox(&ann).await), 0);
    assert_eq!(waiting(&app, &queue).await, 1, "kept for the next try");

    // SQS delivers it again after the visibility timeout; SES is back.
    tokio::time::sleep(std::time::Duration::from_millis(1_200)).await;
    assert_eq!(porter_dev::mailer::drain(&app.state).await, 1);
    assert_eq!(porter_dev::mailer::drain(&app.state).await, 0);
    let mails = app.outbox(&ann).await;
    assert_eq!(resets(mails.clone()), 1, "sent once");
    assert_eq!(waiting(&app, &queue).await, 0);
    let link = mails.last().unwrap().link_to("/reset?token=").unwrap();
    let token = link.rsplit('=').next().unwrap();
    let new_password = "lantern meadow copper 31"; // pragma: allowlist secret
    let body =
        json!({ "token": token, "password": new_password, "password_confirm": new_password });
    let reset = answer(app.send(json_request("/api/password/reset", &body)).await);
    assert_eq!(reset.status, 200, "the link that finally went out works");
}

#[tokio::test]
async fn a_mail_job_delivered_twice_mails_once_and_a_broken_one_ends_in_the_dead_letter_queue() {
    use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
    let app = TestApp::spawn().await;
    let ann = app.address("ann");
    app.active_admin(&ann, PASSWORD).await;
    let before = app.outbox(&ann).await.len();
    let body = json!({ "kind": "password_reset", "email": ann, "ip": "192.0.2.9" });
    let message = |id: &str, body: String| {
        let mut m = SqsMessage::default();
        m.message_id = Some(id.to_owned());
        m.body = Some(body);
        m
    };
    let mut event = SqsEvent::default();
    event.records = vec![
        message("m-1", body.to_string()),
        message("m-1", body.to_string()),
    ];
    let answer = mailer::handle(&app.state, event).await;
    assert!(answer.batch_item_failures.is_empty());
    assert_eq!(
        app.outbox(&ann).await.len(),
        before + 1,
        "one mail for one job"
    );

    // A body that is no job is reported each time, and SQS moves it aside after its tries.
    let sqs = aws_sdk_sqs::Client::new(&porter_dev::stack::sdk_config(&app.moto));
    let queue = app.state.config.mail_queue_url.clone().unwrap();
    sqs.send_message()
        .queue_url(&queue)
        .message_body("not a job")
        .send()
        .await
        .unwrap();
    for _ in 0..porter_dev::stack::MAIL_MAX_RECEIVES {
        assert_eq!(porter_dev::mailer::drain(&app.state).await, 0);
        tokio::time::sleep(std::time::Duration::from_millis(1_200)).await;
    }
    porter_dev::mailer::drain(&app.state).await;
    let dlq = sqs
        .get_queue_url()
        .queue_name(format!("{}-mail-dlq", app.state.config.table_name))
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    assert_eq!(waiting(&app, &queue).await, 0);
    assert_eq!(
        waiting(&app, &dlq).await,
        1,
        "in the dead-letter queue, whose alarm fires"
    );
}

#[tokio::test]
async fn a_session_the_suspension_loop_missed_still_gets_403_on_its_next_request() {
    use porter_shared::domain::{Action, AuditEvent};
    let app = TestApp::spawn().await;
    let ann = app.address("ann");
    let (reg, mut admin) = app.ready_admin(&ann).await;
    // The tenant is marked suspended, but its sessions are left as they were (as when the loop
    // that ends them stopped early).
    let audit = AuditEvent::by_operator(&reg.tenant, Action::TenantSuspend, None);
    app.state
        .store
        .set_tenant_status(&reg.tenant, "suspended", &audit, &mut rand::rngs::OsRng)
        .await
        .unwrap();
    assert!(app
        .item(admin.session_pk(), keys::SESSION_SK)
        .await
        .is_some());
    let me = admin.get("/api/me").await;
    assert_eq!((me.status, me.code()), (403, "tenant_suspended"));
    let users = admin.get("/api/users").await;
    assert_eq!((users.status, users.code()), (403, "tenant_suspended"));
}
