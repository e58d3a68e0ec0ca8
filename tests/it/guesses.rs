//! Guess limits over HTTP against moto (served one request at a time, so that its
//! transactions are atomic as DynamoDB's are): an attempt is taken before the guess is judged,
//! so bursts cannot share one count, and a lock holds only the address that earned it. Device
//! cookies (OWASP's "Slow Down Online Guessing Attacks with Device Cookies"): a full sign-in
//! leaves one; with it the owner's guesses count on the device alone, so strangers guessing
//! from elsewhere never hold that browser out.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use futures::future::join_all;
use porter_shared::domain::throttle::{self, Counter, Guard};
use porter_shared::domain::TokenHash;
use porter_shared::store::throttle::{Settle, Settled, ThrottleKey};
use porter_shared::store::Writes;
use porter_tests::*;
use serde_json::json;

/// Lets every running delay pass (as waiting would), leaving attempts counted.
async fn wait_out_delays(app: &TestApp) {
    for it in app.scan().await {
        if get_s(&it, "entity") == Some("throttle") {
            let pk = get_s(&it, "pk").unwrap().to_owned();
            app.set_numbers(pk, "THROTTLE", &[("next_at", now() - 1)])
                .await;
        }
    }
}

fn retry_after(a: &Answer) -> i64 {
    a.headers["retry-after"].to_str().unwrap().parse().unwrap()
}

fn count(statuses: &[u16], status: u16) -> usize {
    statuses.iter().filter(|s| **s == status).count()
}

#[tokio::test]
async fn wrong_passwords_first_slow_then_lock_one_address_whether_the_account_exists_or_not() {
    let app = TestApp::spawn().await;
    let ann = app.address("ann");
    app.active_admin(&ann, PASSWORD).await;
    let ghost = app.address("ghost");
    let mut b = app.browser();
    let (mut known, mut unknown) = (Vec::new(), Vec::new());
    for i in 0..10 {
        wait_out_delays(&app).await;
        known.push(b.sign_in(&ann, &format!("wrong {i}")).await.status);
        unknown.push(b.sign_in(&ghost, &format!("wrong {i}")).await.status);
        if i == 5 {
            // Straight after the sixth failure the next try must wait.
            let early = b.sign_in(&ann, PASSWORD).await;
            assert_eq!((early.status, early.code()), (429, "throttled"));
            assert!((1..=2).contains(&retry_after(&early)), "{early:?}");
        }
    }
    assert_eq!(known, [401; 10]);
    assert_eq!(known, unknown, "the same whether the account exists or not");
    // The tenth failure locked this address out for this account, right password or not.
    let locked = b.sign_in(&ann, PASSWORD).await;
    assert_eq!((locked.status, locked.code()), (429, "throttled"));
    assert!(retry_after(&locked) > 600, "{locked:?}");
    assert_eq!(
        b.sign_in(&ghost, "another").await.status,
        429,
        "the unknown address is locked alike"
    );
}

#[tokio::test]
async fn knocking_on_a_lock_does_not_extend_it_and_the_owner_still_signs_in_elsewhere() {
    let app = TestApp::spawn().await;
    let ann = app.address("ann");
    app.active_admin(&ann, PASSWORD).await;
    let mut attacker = app.browser_at("198.51.100.66");
    for i in 0..10 {
        wait_out_delays(&app).await;
        assert_eq!(
            attacker.sign_in(&ann, &format!("wrong {i}")).await.status,
            401
        );
    }
    let first = attacker.sign_in(&ann, "wrong again").await;
    assert_eq!(first.status, 429);
    let stored = |items: Vec<porter_tests::Item>| {
        items
            .into_iter()
            .filter(|i| get_s(i, "entity") == Some("throttle"))
            // The sign-in's identify step has a rate limit of its own.
            .filter(|i| {
                !get_s(i, "pk")
                    .unwrap_or_default()
                    .contains("identify-source")
            })
            .map(|i| (get_n(&i, "attempts"), get_n(&i, "next_at")))
            .collect::<Vec<_>>()
    };
    let before = stored(app.scan().await);
    for _ in 0..5 {
        let again = attacker.sign_in(&ann, "wrong again").await;
        assert_eq!(again.status, 429);
        assert!(retry_after(&again) <= retry_after(&first));
    }
    let mut after = stored(app.scan().await);
    let mut before = before;
    before.sort();
    after.sort();
    assert_eq!(before, after, "refused attempts write nothing");

    // The owner, from the office, with the right password and their second factor.
    let mut owner = app.browser_at("192.0.2.10");
    let a = owner.sign_in(&ann, PASSWORD).await;
    assert_eq!((a.status, &a.json["next"]), (200, &json!("mfa_enroll")));
    owner.enrol_totp_after_first_factor().await;
    assert_eq!(owner.get("/api/me").await.status, 200);
}

#[tokio::test]
async fn account_wide_delays_across_addresses_never_exceed_a_minute() {
    let app = TestApp::spawn().await;
    let ann = app.address("ann");
    app.active_admin(&ann, PASSWORD).await;
    let mut waits = Vec::new();
    // A distributed guesser: every try from a new address, so no address is ever locked.
    for i in 0..16 {
        let a = app
            .browser_at(&format!("198.51.100.{}", i + 1))
            .sign_in(&ann, "wrong")
            .await;
        assert_eq!(a.status, 401, "attempt {i}");
        let probe = app
            .browser_at(&format!("192.0.2.{}", i + 1))
            .sign_in(&ann, "wrong")
            .await;
        if probe.status == 429 {
            waits.push(retry_after(&probe));
        }
        wait_out_delays(&app).await;
    }
    assert!(
        !waits.is_empty(),
        "delays set in once the account is guessed at"
    );
    assert!(waits.iter().all(|w| (1..=60).contains(w)), "{waits:?}");
    assert!(*waits.iter().max().unwrap() >= 30, "they grow: {waits:?}");
}

#[tokio::test]
async fn thirty_simultaneous_wrong_passwords_get_at_most_ten_judged() {
    let app = TestApp::spawn().await;
    let ann = app.address("ann");
    app.active_admin(&ann, PASSWORD).await;
    let tries = (0..30).map(|i| {
        let body = json!({ "email": ann, "password": format!("wrong {i}") });
        let app = &app;
        async move { answer(app.send(json_request("/api/login/password", &body)).await) }
    });
    let answers = join_all(tries).await;
    let statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
    assert!(count(&statuses, 401) <= 10, "{statuses:?}");
    assert!(count(&statuses, 401) >= 1, "{statuses:?}");
    assert_eq!(
        count(&statuses, 401) + count(&statuses, 429),
        30,
        "only 401 and 429, never 503: {statuses:?}"
    );
    assert!(answers
        .iter()
        .filter(|a| a.status == 429)
        .all(|a| a.code() == "throttled" && retry_after(a) >= 1));
}

#[tokio::test]
async fn twenty_simultaneous_wrong_codes_on_one_session_get_at_most_five_judged() {
    let app = TestApp::spawn().await;
    let ann = app.address("ann");
    app.active_admin(&ann, PASSWORD).await;
    app.browser().enrol_totp(&ann).await;
    let mut b = app.browser();
    b.sign_in(&ann, PASSWORD).await;
    let cookie = b.cookie.clone().unwrap();
    let tries = (0..20).map(|_| {
        let mut req = json_request(
            "/api/login/mfa",
            &json!({ "method": "totp", "code": "000000" }),
        );
        req.headers_mut().insert("cookie", cookie.parse().unwrap());
        req.headers_mut()
            .insert("sec-fetch-site", "same-origin".parse().unwrap());
        let app = &app;
        async move { answer(app.send(req).await).status }
    });
    let statuses = join_all(tries).await;
    assert!(count(&statuses, 401) <= 5, "{statuses:?}");
    assert!(count(&statuses, 401) >= 1, "{statuses:?}");
    assert_eq!(
        count(&statuses, 401) + count(&statuses, 429),
        20,
        "{statuses:?}"
    );
}

#[tokio::test]
async fn totp_guessing_locks_after_five_and_a_right_code_then_waits_too() {
    let app = TestApp::spawn().await;
    let ann = app.address("ann");
    app.active_admin(&ann, PASSWORD).await;
    let (secret, _) = app.browser().enrol_totp(&ann).await;
    let mut b = app.browser();
    b.sign_in(&ann, PASSWORD).await;
    let mut statuses = Vec::new();
    for _ in 0..5 {
        wait_out_delays(&app).await;
        let a = b
            .post(
                "/api/login/mfa",
                json!({ "method": "totp", "code": "000000" }),
            )
            .await;
        statuses.push(a.status);
    }
    assert_eq!(statuses, [401; 5]);
    let right = b
        .post(
            "/api/login/mfa",
            json!({ "method": "totp", "code": oathtool(&secret, now()) }),
        )
        .await;
    assert_eq!((right.status, right.code()), (429, "throttled"));
    assert!(retry_after(&right) > 600);
}

#[tokio::test]
async fn one_address_guessing_at_many_accounts_is_locked_out_of_all_of_them() {
    let app = TestApp::spawn().await;
    let ann = app.address("ann");
    app.active_admin(&ann, PASSWORD).await;
    let stuffer = "198.51.100.200";
    // Ninety-nine guesses at other accounts already made from this address.
    let key = ThrottleKey::new("source", stuffer);
    let seeded = Counter {
        attempts: 99,
        window_start: now(),
        next_at: 0,
    };
    let take = (&key, &throttle::SOURCE, Guard::Absent, seeded, Settle::Take);
    assert!(matches!(
        app.state
            .store
            .settle(&[take], Writes::none())
            .await
            .unwrap(),
        Settled::Done
    ));
    let mut b = app.browser_at(stuffer);
    assert_eq!(b.sign_in(&app.address("x"), "guess").await.status, 401);
    let refused = b.sign_in(&ann, PASSWORD).await;
    assert_eq!((refused.status, refused.code()), (429, "throttled"));
    assert!(retry_after(&refused) > 600);
    assert_eq!(
        app.browser_at("192.0.2.10")
            .sign_in(&ann, PASSWORD)
            .await
            .status,
        200,
        "other addresses are not affected"
    );
}

#[tokio::test]
async fn identify_answers_sixty_a_minute_per_source_address_then_429() {
    let app = TestApp::spawn().await;
    let mut noisy = app.browser_at("192.0.2.70");
    let email = app.address("ann");
    for n in 0..60 {
        let a = noisy
            .post("/api/login/identify", json!({ "email": email }))
            .await;
        assert_eq!(a.status, 200, "request {n}: {:?}", a.json);
    }
    let over = noisy
        .post("/api/login/identify", json!({ "email": email }))
        .await;
    assert_eq!((over.status, over.code()), (429, "throttled"));
    assert!((1..=60).contains(&retry_after(&over)));
    let mut other = app.browser_at("192.0.2.71");
    let a = other
        .post("/api/login/identify", json!({ "email": email }))
        .await;
    assert_eq!(a.status, 200, "another address is not held");
}

/// Lets every delay of a minute or less pass, as waiting a minute would; locks stay.
async fn wait_a_minute(app: &TestApp) {
    for it in app.scan().await {
        let next_at = get_n(&it, "next_at").unwrap_or(0);
        if get_s(&it, "entity") == Some("throttle") && next_at <= now() + 60 {
            let pk = get_s(&it, "pk").unwrap().to_owned();
            app.set_numbers(pk, "THROTTLE", &[("next_at", now() - 1)])
                .await;
        }
    }
}

/// The device item a browser's cookie names.
async fn device_item(app: &TestApp, b: &Browser<'_>) -> Option<Item> {
    let cookie = b.device_cookie.as_deref()?;
    let (_, value) = cookie.split_once('=').unwrap();
    let hash = TokenHash::of_presented(value).unwrap();
    app.item(format!("DEVICE#{}", hash.as_str()), "DEVICE")
        .await
}

/// Ann signs in with password and TOTP in a new browser at `ip`.
async fn signed_in_at<'a>(app: &'a TestApp, ann: &str, secret: &str, ip: &str) -> Browser<'a> {
    let mut b = app.browser_at(ip);
    let a = b.sign_in(ann, PASSWORD).await;
    assert_eq!(a.json["next"], "mfa_verify", "{:?}", a.json);
    let code = oathtool(secret, now() + 30);
    let done = b
        .post("/api/login/mfa", json!({ "method": "totp", "code": code }))
        .await;
    assert_eq!(done.status, 200, "{:?}", done.json);
    b
}

/// Ann, an admin with an authenticator app; her TOTP secret, and her enrolled browser.
async fn ann_with_totp(app: &TestApp) -> (String, String, Browser<'_>) {
    let (ann, secret, _, b) = ann_with_totp_and_codes(app).await;
    (ann, secret, b)
}

/// [`ann_with_totp`], with her recovery codes.
async fn ann_with_totp_and_codes(app: &TestApp) -> (String, String, Vec<String>, Browser<'_>) {
    let ann = app.address("ann");
    app.active_admin(&ann, PASSWORD).await;
    let mut b = app.browser();
    let (secret, codes) = b.enrol_totp(&ann).await;
    (ann, secret, codes, b)
}

#[tokio::test]
async fn a_full_sign_in_leaves_a_strict_year_long_device_cookie_whose_hash_alone_is_stored() {
    let app = TestApp::spawn().await;
    let (ann, secret, codes, enrolled) = ann_with_totp_and_codes(&app).await;
    assert!(
        enrolled.device_cookie.is_some(),
        "the first enrolment completes a sign-in"
    );

    let mut b = app.browser();
    let first = b.sign_in(&ann, PASSWORD).await;
    assert!(b.device_cookie.is_none(), "a first factor alone earns none");
    assert_eq!(first.json["next"], "mfa_verify");
    let code = oathtool(&secret, now() + 30);
    let done = b
        .post("/api/login/mfa", json!({ "method": "totp", "code": code }))
        .await;
    let set: Vec<String> = done
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .filter(|v| v.starts_with("porter_device="))
        .collect();
    assert_eq!(set.len(), 1, "{set:?}");
    let (pair, attributes) = set[0].split_once("; ").unwrap();
    let value = pair.trim_start_matches("porter_device=");
    assert_eq!(value.len(), 64);
    assert_eq!(
        attributes, "Path=/; HttpOnly; SameSite=Strict; Max-Age=31536000",
        "on http://localhost; elsewhere __Host- and Secure (unit tests of cookies.rs)"
    );
    let item = device_item(&app, &b).await.expect("the device is stored");
    assert_eq!(get_s(&item, "entity"), Some("device"));
    assert!(
        !app.scan()
            .await
            .iter()
            .any(|it| format!("{it:?}").contains(value)),
        "the cookie's value is stored nowhere"
    );

    // The same browser signing in again uses its device again: no second one.
    let mut again = b;
    again.cookie = None;
    let a = again.sign_in(&ann, PASSWORD).await;
    assert_eq!(a.json["next"], "mfa_verify");
    let done = again
        .post(
            "/api/login/mfa",
            json!({ "method": "recovery", "code": codes[0] }),
        )
        .await;
    assert_eq!(done.status, 200, "{:?}", done.json);
    let reissued = done
        .headers
        .get_all("set-cookie")
        .iter()
        .any(|v| v.to_str().unwrap().starts_with("porter_device="));
    assert!(!reissued, "the browser kept its device");
    let listed = again.get("/api/account").await.json["devices"].clone();
    assert_eq!(listed.as_array().unwrap().len(), 2, "{listed}");
}

#[tokio::test]
async fn strangers_guessing_from_three_addresses_never_hold_the_owners_known_browser_out() {
    let app = TestApp::spawn().await;
    let (ann, _secret, mut known) = ann_with_totp(&app).await;
    known.cookie = None; // signed out; the device cookie stays
    let attackers = ["203.0.113.1", "203.0.113.2", "203.0.113.3"];
    let mut attacker_statuses = Vec::new();
    for round in 0..12 {
        for ip in attackers {
            let mut a = app.browser_at(ip);
            let s = a.sign_in(&ann, &format!("guess {round}")).await.status;
            attacker_statuses.push(s);
        }
    }
    assert!(attacker_statuses.contains(&429), "the strangers are slowed");
    // However fast this machine ran the attack, the account's counter now waits its longest,
    // as a stranger taking every slot the moment it opens keeps it.
    for it in app.scan().await {
        let pk = get_s(&it, "pk").unwrap().to_owned();
        if pk.starts_with("THROTTLE#account#") {
            app.set_numbers(pk, "THROTTLE", &[("next_at", now() + 60)])
                .await;
        }
    }

    // The owner's browser with its device cookie signs in at once, mid-attack.
    let a = known.sign_in(&ann, PASSWORD).await;
    assert_eq!(
        (a.status, a.json["next"].as_str()),
        (200, Some("mfa_verify")),
        "{:?}",
        a.json
    );

    // A browser without one is held by the account's delay: a minute at most.
    let mut fresh = app.browser_at("198.51.100.20");
    let held = fresh.sign_in(&ann, PASSWORD).await;
    assert_eq!((held.status, held.code()), (429, "throttled"));
    assert!((1..=60).contains(&retry_after(&held)), "{held:?}");
    wait_a_minute(&app).await;
    let after = fresh.sign_in(&ann, PASSWORD).await;
    assert_eq!(after.status, 200, "{:?}", after.json);
}

#[tokio::test]
async fn a_device_counts_its_own_wrong_guesses_and_is_revoked_at_the_twentieth() {
    let app = TestApp::spawn().await;
    let (ann, _secret, mut b) = ann_with_totp(&app).await;
    b.cookie = None;
    let mut statuses = Vec::new();
    for i in 0..20 {
        wait_a_minute(&app).await;
        statuses.push(b.sign_in(&ann, &format!("typo {i}")).await.status);
    }
    assert_eq!(statuses, [401; 20]);
    let accounts = app
        .scan()
        .await
        .iter()
        .filter(|it| get_s(it, "pk").is_some_and(|pk| pk.starts_with("THROTTLE#account")))
        .count();
    assert_eq!(
        accounts, 0,
        "the device's guesses spared the account's counters"
    );
    assert!(device_item(&app, &b).await.is_none(), "revoked at twenty");

    // From now on this browser guesses like any other: the account's counters count.
    b.sign_in(&ann, "one more").await;
    let accounts = app
        .scan()
        .await
        .iter()
        .filter(|it| get_s(it, "pk").is_some_and(|pk| pk.starts_with("THROTTLE#account#")))
        .count();
    assert_eq!(accounts, 1);
}

#[tokio::test]
async fn someone_elses_device_cookie_speaks_for_nobody_else() {
    let app = TestApp::spawn().await;
    let (ann, _secret, mut b) = ann_with_totp(&app).await;
    b.cookie = None;
    let bob = app.address("bob");
    for i in 0..11 {
        b.sign_in(&bob, &format!("guess {i}")).await;
    }
    let counted = app
        .scan()
        .await
        .iter()
        .any(|it| get_s(it, "pk").is_some_and(|pk| pk.starts_with("THROTTLE#account#")));
    assert!(counted, "Ann's device does not exempt guesses at {bob}");
    assert_eq!(b.sign_in(&ann, PASSWORD).await.status, 200);
}

#[tokio::test]
async fn my_account_lists_devices_and_forgets_one_only_with_a_recent_proof() {
    let app = TestApp::spawn().await;
    let (ann, secret, mut b) = ann_with_totp(&app).await;
    let setup = json!({ "organisation_name": "Acme Ltd" });
    assert_eq!(b.post("/api/setup", setup).await.status, 200);
    let other = signed_in_at(&app, &ann, &secret, "198.51.100.7").await;
    let account = b.get("/api/account").await;
    let devices = account.json["devices"].as_array().unwrap().clone();
    assert_eq!(devices.len(), 2, "{devices:?}");
    for d in &devices {
        for field in ["id", "created_at", "last_used_at", "user_agent"] {
            assert!(d[field].is_string(), "{field} in {d}");
        }
    }
    let mine: Vec<_> = devices.iter().filter(|d| d["current"] == true).collect();
    assert_eq!(mine.len(), 1);
    let theirs = devices.iter().find(|d| d["current"] == false).unwrap();
    let path = format!("/api/account/devices/{}", theirs["id"].as_str().unwrap());

    b.age_proof(600).await;
    let refused = b.delete(&path).await;
    assert_eq!((refused.status, refused.code()), (403, "reauth_required"));
    b.age_proof(0).await;
    assert_eq!(b.delete(&path).await.status, 204);
    assert_eq!(b.delete(&path).await.code(), "device_not_found");
    assert!(device_item(&app, &other).await.is_none());
    let left = b.get("/api/account").await.json["devices"].clone();
    assert_eq!(left.as_array().unwrap().len(), 1, "{left}");
    assert!(b
        .audit_actions()
        .await
        .contains(&"device.forget".to_owned()));
}

#[tokio::test]
async fn signing_out_elsewhere_keeps_only_this_device_and_a_reset_forgets_them_all() {
    let app = TestApp::spawn().await;
    let (ann, secret, codes, mut b) = ann_with_totp_and_codes(&app).await;
    let mut other = signed_in_at(&app, &ann, &secret, "198.51.100.7").await;
    b.age_proof(0).await;
    let ended = b.delete("/api/account/sessions").await;
    assert_eq!(ended.status, 200, "{:?}", ended.json);
    let devices = b.get("/api/account").await.json["devices"].clone();
    let devices = devices.as_array().unwrap();
    assert_eq!(devices.len(), 1, "{devices:?}");
    assert_eq!(devices[0]["current"], true);

    // The other browser's cookie no longer exempts its guesses from the account's counters.
    other.cookie = None;
    other.sign_in(&ann, "wrong").await;
    let counted = app
        .scan()
        .await
        .iter()
        .any(|it| get_s(it, "pk").is_some_and(|pk| pk.starts_with("THROTTLE#account#")));
    assert!(counted);

    // A password reset forgets every device, this one's too.
    let mut stranger = app.browser_at("198.51.100.9");
    let new_password = "lantern meadow copper 31"; // pragma: allowlist secret
    stranger.reset_password_by_mail(&ann, new_password).await;
    let mut b2 = app.browser();
    b2.device_cookie = b.device_cookie.clone();
    let a = b2.sign_in(&ann, new_password).await;
    assert_eq!(a.status, 200);
    let done = b2
        .post(
            "/api/login/mfa",
            json!({ "method": "recovery", "code": codes[0] }),
        )
        .await;
    assert_eq!(done.status, 200, "{:?}", done.json);
    let devices = b2.get("/api/account").await.json["devices"].clone();
    let devices = devices.as_array().unwrap();
    assert_eq!(devices.len(), 1, "only the device just issued: {devices:?}");
    assert_ne!(b2.device_cookie, b.device_cookie, "a new one was issued");
}

/// The key of the user item of `email`.
async fn user_key_of(app: &TestApp, email: &str) -> (String, String) {
    let user = app
        .scan()
        .await
        .into_iter()
        .find(|it| get_s(it, "entity") == Some("user") && get_s(it, "email") == Some(email))
        .unwrap();
    let at = |name| get_s(&user, name).unwrap().to_owned();
    (at("pk"), at("sk"))
}

/// Lets the second-factor lock pass too, as a quarter of an hour would.
async fn wait_out_every_counter(app: &TestApp) {
    for it in app.scan().await {
        if get_s(&it, "entity") == Some("throttle") {
            let pk = get_s(&it, "pk").unwrap().to_owned();
            let values = [("attempts", 0), ("next_at", now() - 1)];
            app.set_numbers(pk, "THROTTLE", &values).await;
        }
    }
}

async fn wrong_codes(b: &mut Browser<'_>, n: usize) -> Vec<u16> {
    let mut statuses = Vec::new();
    for _ in 0..n {
        wait_a_minute(b.app).await;
        let wrong = json!({ "method": "totp", "code": "000000" });
        statuses.push(b.post("/api/login/mfa", wrong).await.status);
    }
    statuses
}

#[tokio::test]
async fn five_wrong_codes_after_the_right_password_email_the_owner_at_most_once_an_hour() {
    let app = TestApp::spawn().await;
    let (ann, _secret, _b) = ann_with_totp(&app).await;
    let alerts = |mails: Vec<porter_dev::outbox::SentMail>| {
        mails
            .into_iter()
            .filter(|m| m.subject == "Someone has your Porter password")
            .collect::<Vec<_>>()
    };
    let mut stranger = app.browser_at("203.0.113.5");
    assert_eq!(stranger.sign_in(&ann, PASSWORD).await.status, 200);
    assert_eq!(wrong_codes(&mut stranger, 4).await, [401; 4]);
    assert!(
        alerts(app.outbox(&ann).await).is_empty(),
        "not before the fifth"
    );
    assert_eq!(wrong_codes(&mut stranger, 1).await, [401]);
    let sent = alerts(app.outbox(&ann).await);
    assert_eq!(sent.len(), 1);
    assert!(
        sent[0].body.contains(
            "Someone signed in with your password but not your second factor, from 203.0.113.5 at"
        ),
        "{}",
        sent[0].body
    );
    assert!(sent[0].body.contains("change your password"));

    // Five more within the hour: no second mail.
    wait_out_every_counter(&app).await;
    assert_eq!(stranger.sign_in(&ann, PASSWORD).await.status, 200);
    wrong_codes(&mut stranger, 5).await;
    assert_eq!(
        alerts(app.outbox(&ann).await).len(),
        1,
        "at most one an hour"
    );
}

#[tokio::test]
async fn a_hundred_wrong_codes_in_a_row_block_the_factor_in_unknown_browsers_until_a_reset() {
    let app = TestApp::spawn().await;
    let (ann, secret, codes, mut known) = ann_with_totp_and_codes(&app).await;
    let (pk, sk) = user_key_of(&app, &ann).await;
    app.set_numbers(pk.clone(), &sk, &[("mfa_failures", 99)])
        .await;
    let mut stranger = app.browser_at("203.0.113.5");
    assert_eq!(stranger.sign_in(&ann, PASSWORD).await.status, 200);
    assert_eq!(wrong_codes(&mut stranger, 1).await, [401], "the hundredth");
    let blocked_mail: Vec<_> = app
        .outbox(&ann)
        .await
        .into_iter()
        .filter(|m| m.subject.contains("are blocked"))
        .collect();
    assert_eq!(blocked_mail.len(), 1);
    assert!(blocked_mail[0]
        .body
        .contains("until you reset your password"));

    // Even the right code is refused in a browser without Ann's device cookie.
    wait_out_every_counter(&app).await;
    let right = json!({ "method": "totp", "code": oathtool(&secret, now() + 30) });
    let refused = stranger.post("/api/login/mfa", right.clone()).await;
    assert_eq!((refused.status, refused.code()), (403, "mfa_blocked"));

    // Ann's own browser, which holds her device cookie, still signs in.
    known.cookie = None;
    assert_eq!(known.sign_in(&ann, PASSWORD).await.status, 200);
    let done = known
        .post(
            "/api/login/mfa",
            json!({ "method": "recovery", "code": codes[0] }),
        )
        .await;
    assert_eq!(done.status, 200, "{:?}", done.json);
    let item = app.item(pk.clone(), &sk).await.unwrap();
    assert_eq!(
        get_n(&item, "mfa_failures"),
        None,
        "a right code starts afresh"
    );

    // Blocked again, then a password reset lifts it.
    app.set_numbers(pk.clone(), &sk, &[("mfa_failures", 100)])
        .await;
    let mut other = app.browser_at("198.51.100.30");
    assert_eq!(other.sign_in(&ann, PASSWORD).await.status, 200);
    let refused = other.post("/api/login/mfa", right.clone()).await;
    assert_eq!(refused.code(), "mfa_blocked");
    let new_password = "lantern meadow copper 31"; // pragma: allowlist secret
    other.reset_password_by_mail(&ann, new_password).await;
    assert_eq!(other.sign_in(&ann, new_password).await.status, 200);
    let done = other
        .post(
            "/api/login/mfa",
            json!({ "method": "recovery", "code": codes[1] }),
        )
        .await;
    assert_eq!(done.status, 200, "{:?}", done.json);
}
