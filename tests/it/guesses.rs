//! Guess limits over HTTP against moto (served one request at a time, so that its
//! transactions are atomic as DynamoDB's are): an attempt is taken before the guess is judged,
//! so bursts cannot share one count, and a lock holds only the address that earned it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use futures::future::join_all;
use porter_shared::domain::throttle::{self, Counter, Guard};
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
