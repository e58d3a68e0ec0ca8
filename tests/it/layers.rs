//! The shape of the code, checked by reading it: only `store/` (and `state.rs`, which builds the
//! client) speaks DynamoDB, and every function's routes go through the one route table.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

/// The repository root, found from the working directory (cargo runs tests in `tests/`).
fn root() -> PathBuf {
    let here = std::env::current_dir().unwrap();
    here.ancestors()
        .find(|d| d.join("template.yaml").is_file() && d.join("shared/src").is_dir())
        .expect("the repository root above the working directory")
        .to_path_buf()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

const DYNAMODB_NAMES: &[&str] = &[
    "aws_sdk_dynamodb",
    "AttributeValue",
    "TransactWriteItem",
    "KeysAndAttributes",
    "QueryFluentBuilder",
    "ConditionalCheckFailed",
];

#[test]
fn nothing_outside_the_store_names_a_dynamodb_type() {
    let root = root();
    let mut files = Vec::new();
    rust_files(&root.join("functions"), &mut files);
    rust_files(&root.join("shared/src"), &mut files);
    let store = root.join("shared/src/store");
    let state = root.join("shared/src/state.rs");
    let checked: Vec<_> = files
        .into_iter()
        .filter(|f| !f.starts_with(&store) && *f != state)
        .collect();
    assert!(checked.len() > 30, "found only {} files", checked.len());
    let mut offences = Vec::new();
    for file in &checked {
        let text = std::fs::read_to_string(file).unwrap();
        for (n, line) in text.lines().enumerate() {
            for name in DYNAMODB_NAMES {
                if line.contains(name) {
                    offences.push(format!("{}:{}: {name}", file.display(), n + 1));
                }
            }
        }
    }
    assert!(offences.is_empty(), "{}", offences.join("\n"));
}

#[test]
fn every_function_serves_its_routes_through_the_route_table() {
    let functions = root().join("functions");
    let mut seen = 0;
    for entry in std::fs::read_dir(&functions).unwrap() {
        let lib = entry.unwrap().path().join("src/lib.rs");
        let text = std::fs::read_to_string(&lib).unwrap();
        seen += 1;
        assert!(text.contains("Routes::new()"), "{}", lib.display());
        for envelope in [
            "check_origin(",
            "with_security_headers(",
            "method_not_allowed(",
        ] {
            assert!(
                !text.contains(envelope),
                "{} builds its own envelope ({envelope})",
                lib.display()
            );
        }
    }
    assert!(seen >= 8, "found {seen} functions");
}

#[test]
fn every_form_posts_so_a_page_without_its_script_never_puts_a_password_in_a_url() {
    let pages = root().join("functions/web/pages");
    let mut forms = 0;
    for entry in std::fs::read_dir(&pages).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "html") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for tag in text.split("<form").skip(1) {
            forms += 1;
            let open = &tag[..tag.find('>').unwrap()];
            assert!(
                open.contains(r#"method="post""#),
                "{}: <form{open}>",
                path.display()
            );
        }
    }
    assert!(forms >= 10, "found {forms} forms");
}

/// The actions a policy statement allows, and whether it names the audit table.
fn statements(template: &serde_yaml::Value) -> Vec<(String, Vec<String>, String)> {
    let mut out = Vec::new();
    let resources = template["Resources"].as_mapping().unwrap();
    for (name, resource) in resources {
        let Some(policies) = resource["Properties"]["Policies"].as_sequence() else {
            continue;
        };
        for policy in policies {
            for st in policy["Statement"].as_sequence().into_iter().flatten() {
                let actions = match &st["Action"] {
                    serde_yaml::Value::String(a) => vec![a.clone()],
                    serde_yaml::Value::Sequence(s) => {
                        s.iter().map(|a| a.as_str().unwrap().to_owned()).collect()
                    }
                    other => panic!("unexpected Action {other:?}"),
                };
                let target = format!("{:?}", st["Resource"]);
                out.push((name.as_str().unwrap().to_owned(), actions, target));
            }
        }
    }
    out
}

#[test]
fn no_function_may_change_or_delete_an_audit_event() {
    let yaml = std::fs::read_to_string(root().join("template.yaml")).unwrap();
    let template: serde_yaml::Value = serde_yaml::from_str(&yaml).unwrap();
    let all = statements(&template);
    let on_audit: Vec<_> = all
        .iter()
        .filter(|(_, _, target)| target.contains("AuditTable"))
        .collect();
    assert!(
        on_audit.len() >= 10,
        "the functions that audit may add events"
    );
    for (function, actions, _) in on_audit {
        for a in actions {
            assert!(
                a == "dynamodb:PutItem" || (a == "dynamodb:Query" && function == "UsersFunction"),
                "{function} may {a} on the audit table"
            );
        }
    }
    for (function, actions, target) in &all {
        if actions.iter().any(|a| a == "dynamodb:*" || a == "*") {
            panic!("{function} has a wildcard on {target}");
        }
    }
}

/// The caller of every signed-in route is read in one BatchGetItem (user, tenant and what the
/// route needs with them), and a right guess clears its counters in one BatchWriteItem: moto
/// does not enforce IAM, so the template is checked here.
#[test]
fn every_function_that_reads_the_table_may_read_in_batches() {
    let yaml = std::fs::read_to_string(root().join("template.yaml")).unwrap();
    let template: serde_yaml::Value = serde_yaml::from_str(&yaml).unwrap();
    let on_table: Vec<_> = statements(&template)
        .into_iter()
        .filter(|(_, _, target)| target.contains("Table") && !target.contains("AuditTable"))
        .filter(|(_, _, target)| !target.contains("index"))
        .collect();
    let may = |function: &str, action: &str| {
        on_table
            .iter()
            .any(|(f, actions, _)| f == function && actions.iter().any(|a| a == action))
    };
    let readers: Vec<&String> = on_table
        .iter()
        .filter(|(_, actions, _)| actions.iter().any(|a| a == "dynamodb:GetItem"))
        .map(|(f, _, _)| f)
        .collect();
    assert!(readers.len() >= 10, "found {readers:?}");
    for f in readers {
        assert!(may(f, "dynamodb:BatchGetItem"), "{f} may not BatchGetItem");
    }
    for f in [
        "LoginFunction",
        "AccountPasswordFunction",
        "MfaEnrollFunction",
    ] {
        assert!(
            may(f, "dynamodb:BatchWriteItem"),
            "{f} may not BatchWriteItem"
        );
    }
}

/// What each function's binary is built from, as `sam build` builds it (one function at a
/// time, so no other function's features reach it): WebAuthn only where security keys are
/// registered or checked.
#[test]
fn only_login_mfa_enroll_and_account_depend_on_webauthn() {
    let root = root();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut linking = Vec::new();
    let mut functions: Vec<String> = std::fs::read_dir(root.join("functions"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    functions.sort();
    for function in &functions {
        let out = std::process::Command::new(&cargo)
            .args([
                "tree",
                "--offline",
                "-q",
                "-e",
                "normal",
                "--prefix",
                "none",
            ])
            .args(["-p", function])
            .current_dir(&root)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "cargo tree -p {function}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let tree = String::from_utf8(out.stdout).unwrap();
        if tree.lines().any(|l| l.starts_with("webauthn-rs ")) {
            linking.push(function.as_str());
        }
    }
    assert_eq!(functions.len(), 14, "{functions:?}");
    assert_eq!(linking, ["account", "login", "mfa-enroll"]);
}
