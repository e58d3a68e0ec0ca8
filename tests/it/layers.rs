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

/// Whether `line` names `name` as a whole identifier (SNS's `MessageAttributeValue` is not
/// DynamoDB's `AttributeValue`).
fn names_whole(line: &str, name: &str) -> bool {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    line.match_indices(name).any(|(at, _)| {
        let before = line[..at].chars().next_back();
        let after = line[at + name.len()..].chars().next();
        !before.is_some_and(ident) && !after.is_some_and(ident)
    })
}

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
                if names_whole(line, name) {
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
        let dir = entry.unwrap().path();
        let lib = dir.join("src/lib.rs");
        let text = std::fs::read_to_string(&lib).unwrap();
        seen += 1;
        // A function fed other events (the mailer, the authorizer) has one handler, no routes:
        // its flow is beside it.
        let main = std::fs::read_to_string(dir.join("src/main.rs")).unwrap();
        if main.contains("event_main!") {
            assert_eq!(text.matches("fn ").count(), 1, "{}", lib.display());
            continue;
        }
        assert!(text.contains("Routes::new()"), "{}", lib.display());
        // lib.rs is the route list: the flows live in named files beside it.
        let fns = text.matches("fn ").count();
        assert_eq!(fns, 1, "{} defines more than `handle`", lib.display());
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
    assert_eq!(functions.len(), 20, "{functions:?}");
    assert_eq!(linking, ["account", "login", "mfa-enroll"]);
}

/// The modules a file names: `crate::x`, `crate::{x, y}` and, inside a folder module,
/// `super::x` (a sibling). An item the crate root re-exports (`crate::AppState`) counts as
/// the module it comes from: `reexports` maps it.
fn named_modules(text: &str, prefix: &str) -> Vec<String> {
    named_modules_via(text, prefix, &Default::default())
}

/// The crate root's re-exports (`pub use state::{AppState, Routes};`): item → module.
fn reexports(src: &Path) -> std::collections::BTreeMap<String, String> {
    let mut out = std::collections::BTreeMap::new();
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap_or_default();
    for line in lib.lines() {
        let Some(rest) = line.trim().strip_prefix("pub use ") else {
            continue;
        };
        let Some((module, items)) = rest.trim_end_matches(';').split_once("::") else {
            continue;
        };
        for item in items.trim_matches(|c| c == '{' || c == '}').split(',') {
            out.insert(item.trim().to_owned(), module.to_owned());
        }
    }
    out
}

fn named_modules_via(
    text: &str,
    prefix: &str,
    reexports: &std::collections::BTreeMap<String, String>,
) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let code = line.trim_start();
        if code.starts_with("//") {
            continue;
        }
        let mut rest = code;
        while let Some(at) = rest.find(prefix) {
            rest = &rest[at + prefix.len()..];
            if let Some(group) = rest.strip_prefix('{') {
                let inside = &group[..group.find('}').unwrap_or(group.len())];
                for name in inside.split(',') {
                    let name = name.trim().split("::").next().unwrap_or("").trim();
                    out.push(name.to_owned());
                }
            } else {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                out.push(name);
            }
        }
    }
    let out = out
        .into_iter()
        .map(|n| reexports.get(&n).cloned().unwrap_or(n))
        .collect::<Vec<_>>();
    out.into_iter()
        .filter(|n| !n.is_empty() && n.chars().next().is_some_and(|c| c.is_lowercase()))
        .collect()
}

/// A cycle in `edges` (module → modules it names), if any, as a path.
fn cycle(
    edges: &std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        edges: &std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut std::collections::BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut found = path[at..].to_vec();
            found.push(node.to_owned());
            return Some(found);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in edges.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, edges, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = std::collections::BTreeSet::new();
    for node in edges.keys() {
        if let Some(c) = visit(node, edges, &mut Vec::new(), &mut done) {
            return Some(c);
        }
    }
    None
}

/// The module graph of one crate's `src` folder: top-level modules by `crate::`, and the
/// modules inside each folder module by `super::` and `crate::<folder>::`.
fn module_graphs(
    src: &Path,
) -> Vec<(
    String,
    std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
)> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let reexported = reexports(src);
    let mut graphs: std::collections::BTreeMap<
        String,
        std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
    > = Default::default();
    for file in files {
        let rel = file.strip_prefix(src).unwrap();
        let parts: Vec<String> = rel
            .iter()
            .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_owned())
            .collect();
        if parts == ["lib"] || parts == ["main"] {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        let top = parts[0].clone();
        let crate_level = graphs.entry("crate".into()).or_default();
        let from = crate_level.entry(top.clone()).or_default();
        for m in named_modules_via(&text, "crate::", &reexported) {
            if m != top {
                from.insert(m);
            }
        }
        if parts.len() == 2 && parts[1] != "mod" {
            let inner = graphs.entry(top.clone()).or_default();
            let me = inner.entry(parts[1].clone()).or_default();
            let own = format!("crate::{top}::");
            for m in named_modules(&text, "super::")
                .into_iter()
                .chain(named_modules(&text, &own))
            {
                if m != parts[1] {
                    me.insert(m);
                }
            }
        }
    }
    graphs.into_iter().collect()
}

#[test]
fn no_module_names_a_module_that_names_it_back() {
    let root = root();
    let mut crates = vec![root.join("shared/src")];
    for entry in std::fs::read_dir(root.join("functions")).unwrap() {
        crates.push(entry.unwrap().path().join("src"));
    }
    let mut loops = Vec::new();
    for src in &crates {
        for (scope, edges) in module_graphs(src) {
            // Only modules that exist as nodes count (a name may be an item, not a module).
            let edges = edges
                .iter()
                .map(|(k, v)| {
                    let v = v
                        .iter()
                        .filter(|n| edges.contains_key(*n))
                        .cloned()
                        .collect();
                    (k.clone(), v)
                })
                .collect();
            if let Some(c) = cycle(&edges) {
                loops.push(format!("{} ({scope}): {}", src.display(), c.join(" → ")));
            }
        }
    }
    assert!(loops.is_empty(), "{}", loops.join("\n"));
}

#[test]
fn the_lower_layers_never_name_the_app_state() {
    let root = root();
    let mut offences = Vec::new();
    for layer in ["http", "store", "domain", "credentials"] {
        let mut files = Vec::new();
        rust_files(&root.join("shared/src").join(layer), &mut files);
        assert!(!files.is_empty(), "{layer}");
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for (n, line) in text.lines().enumerate() {
                if !line.trim_start().starts_with("//") && line.contains("AppState") {
                    offences.push(format!("{}:{}", file.display(), n + 1));
                }
            }
        }
    }
    assert!(offences.is_empty(), "{}", offences.join("\n"));
}
