//! porterctl as an operator runs it: the real binary, the standard AWS environment, moto.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use porter_dev::{moto::Moto, stack};
use std::process::Command;

struct Ctl {
    env: Vec<(&'static str, String)>,
}

struct Run {
    ok: bool,
    stdout: String,
    stderr: String,
}

impl Ctl {
    fn new(moto: &Moto, table: &str) -> Self {
        let config = stack::local_config(table, "http://localhost:3000").unwrap();
        Self {
            env: stack::env_vars(&moto.endpoint(), &config),
        }
    }

    fn run(&self, args: &[&str]) -> Run {
        let out = Command::new(env!("CARGO_BIN_EXE_porterctl"))
            .args(args)
            .env_clear()
            .envs(self.env.iter().map(|(k, v)| (*k, v.as_str())))
            .output()
            .unwrap();
        Run {
            ok: out.status.success(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

#[test]
fn an_operator_creates_the_table_and_a_tenant_and_a_duplicate_admin_is_refused() {
    let moto = Moto::start(0).unwrap();
    let ctl = Ctl::new(&moto, "porterctl-test");
    let created = ctl.run(&["table", "create"]);
    assert!(created.ok, "{}", created.stderr);
    assert!(created.stdout.contains("created table porterctl-test"));
    let again = ctl.run(&["table", "create"]);
    assert!(
        again.ok && again.stdout.contains("already exists"),
        "{}",
        again.stdout
    );

    // The sender must be verified before SES (moto) sends anything.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let config = stack::local_config("porterctl-test", "http://localhost:3000").unwrap();
        stack::prepare(&moto.endpoint(), config).await.unwrap();
    });

    let t = ctl.run(&[
        "tenant",
        "create",
        "--name",
        "Acme",
        "--admin-email",
        "ann@acme.test",
        "--max-users",
        "4",
    ]);
    assert!(t.ok, "{}", t.stderr);
    assert!(t.stdout.contains("invitation emailed"), "{}", t.stdout);
    let tid = t.stdout.split_whitespace().nth(2).unwrap().to_owned();
    assert!(tid.starts_with("t_"), "{}", t.stdout);

    let dup = ctl.run(&[
        "tenant",
        "create",
        "--name",
        "Other",
        "--admin-email",
        "ANN@acme.test",
    ]);
    assert!(!dup.ok);
    assert!(
        dup.stderr.contains("ann@acme.test is already registered"),
        "{}",
        dup.stderr
    );
    assert!(dup.stderr.contains("nothing was written"));
    let list = ctl.run(&["tenant", "list"]);
    assert_eq!(list.stdout.lines().count(), 1, "{}", list.stdout);
    assert!(list.stdout.contains("users 1/4"));

    let show = ctl.run(&["tenant", "show", &tid]);
    assert!(show.ok, "{}", show.stderr);
    let shown: serde_json::Value = serde_json::from_str(&show.stdout).unwrap();
    assert_eq!(shown["tenant"]["name"], "Acme");
    assert_eq!(shown["users"][0]["email"], "ann@acme.test");
    assert_eq!(shown["users"][0]["status"], "invited");
    assert!(
        !show.stdout.contains("token") && !show.stdout.contains("hash"),
        "{}",
        show.stdout
    );

    let suspended = ctl.run(&["tenant", "suspend", &tid]);
    assert!(
        suspended.ok
            && suspended.stdout.contains("is suspended")
            && suspended.stdout.contains("0 live session(s) ended"),
        "{}",
        suspended.stderr
    );
    let show = ctl.run(&["tenant", "show", &tid]);
    assert!(
        show.stdout.contains("\"status\": \"suspended\""),
        "{}",
        show.stdout
    );
    let resumed = ctl.run(&["tenant", "resume", &tid]);
    assert!(
        resumed.ok && resumed.stdout.contains("can sign in again"),
        "{}",
        resumed.stderr
    );
    let unknown = ctl.run(&["tenant", "suspend", "t_0000000000000000"]);
    assert!(
        !unknown.ok && unknown.stderr.contains("no tenant"),
        "{}",
        unknown.stderr
    );
    let raise = ctl.run(&["tenant", "set-max-users", &tid, "--max-users", "7"]);
    assert!(
        raise.ok && raise.stdout.contains("may now have 7 users"),
        "{}",
        raise.stderr
    );
    let zero = ctl.run(&["tenant", "set-max-users", &tid, "--max-users", "0"]);
    assert!(!zero.ok && zero.stderr.contains("between 1 and 1000"));

    // The operator vouches for a domain, lists it, and releases it.
    let verified = ctl.run(&["tenant", "domain", "verify", &tid, "Acme.TEST"]);
    assert!(
        verified.ok && verified.stdout.contains("acme.test is verified"),
        "{}",
        verified.stderr
    );
    let public = ctl.run(&["tenant", "domain", "verify", &tid, "gmail.com"]);
    assert!(!public.ok && public.stderr.contains("public mail service"));
    let listed = ctl.run(&["tenant", "domain", "list", &tid]);
    assert!(
        listed.stdout.contains("acme.test  verified by operator"),
        "{}",
        listed.stdout
    );
    let removed = ctl.run(&["tenant", "domain", "remove", &tid, "acme.test"]);
    assert!(removed.ok, "{}", removed.stderr);
    let again = ctl.run(&["tenant", "domain", "remove", &tid, "acme.test"]);
    assert!(!again.ok && again.stderr.contains("holds no domain acme.test"));
    let no_dev = ctl.run(&["dev", "dns", "list"]);
    assert!(!no_dev.ok, "no dev server answers at the base URL");

    let soon = ctl.run(&["tenant", "invite", &tid, "--email", "ann@acme.test"]);
    assert!(
        !soon.ok && soon.stderr.contains("less than a minute ago"),
        "{}",
        soon.stderr
    );
}

#[test]
fn bad_input_and_missing_configuration_are_named() {
    let moto = Moto::start(0).unwrap();
    let ctl = Ctl::new(&moto, "porterctl-bad");
    let bad = ctl.run(&[
        "tenant",
        "create",
        "--name",
        "Acme",
        "--admin-email",
        "not-an-email",
    ]);
    assert!(
        !bad.ok
            && bad
                .stderr
                .contains("\"not-an-email\" is not a valid email address"),
        "{}",
        bad.stderr
    );
    let show = ctl.run(&["tenant", "show", "acme"]);
    assert!(
        !show.ok && show.stderr.contains("is not a tenant id"),
        "{}",
        show.stderr
    );

    let mut missing = Ctl::new(&moto, "porterctl-bad");
    missing.env.retain(|(k, _)| *k != "PORTER_TABLE");
    let run = missing.run(&["tenant", "list"]);
    assert!(!run.ok);
    assert!(
        run.stderr
            .contains("missing environment variable PORTER_TABLE"),
        "{}",
        run.stderr
    );
}
