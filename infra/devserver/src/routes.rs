//! The routes of `template.yaml`, so that the dev server serves exactly what API Gateway will.

use anyhow::{bail, Context};
use serde_yaml::Value;
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param(String),
    /// `{proxy+}`: the rest of the path, one segment or more.
    Greedy(String),
}

#[derive(Debug, Clone)]
pub struct Route {
    /// `None` for `ANY`.
    pub method: Option<String>,
    pub path: String,
    /// The function's binary name (`Metadata.BuildProperties.Binary`).
    pub binary: String,
    /// The binary of the Lambda authorizer API Gateway runs first (`Auth.Authorizer`), if any.
    pub authorizer: Option<String>,
    segments: Vec<Segment>,
}

impl Route {
    fn new(method: &str, path: &str, binary: &str) -> anyhow::Result<Self> {
        if !path.starts_with('/') {
            bail!("route path {path} must start with /");
        }
        let segments = path
            .split('/')
            .skip(1)
            .filter(|s| !s.is_empty())
            .map(
                |s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    Some(p) => match p.strip_suffix('+') {
                        Some(g) => Segment::Greedy(g.to_owned()),
                        None => Segment::Param(p.to_owned()),
                    },
                    None => Segment::Literal(s.to_owned()),
                },
            )
            .collect();
        let method = method.to_ascii_uppercase();
        Ok(Self {
            method: (method != "ANY").then_some(method),
            path: path.to_owned(),
            binary: binary.to_owned(),
            authorizer: None,
            segments,
        })
    }

    /// API Gateway prefers the most specific route: more literal segments first, a greedy
    /// segment last.
    fn rank(&self) -> (usize, usize) {
        let literals = self
            .segments
            .iter()
            .filter(|s| matches!(s, Segment::Literal(_)))
            .count();
        let greedy = self
            .segments
            .iter()
            .filter(|s| matches!(s, Segment::Greedy(_)))
            .count();
        (usize::MAX - greedy, literals)
    }

    fn matches_path(&self, path: &str) -> Option<HashMap<String, String>> {
        let parts: Vec<&str> = path.split('/').skip(1).filter(|s| !s.is_empty()).collect();
        let mut params = HashMap::new();
        for (i, seg) in self.segments.iter().enumerate() {
            match seg {
                Segment::Literal(l) => {
                    if parts.get(i) != Some(&l.as_str()) {
                        return None;
                    }
                }
                Segment::Param(name) => {
                    params.insert(name.clone(), (*parts.get(i)?).to_owned());
                }
                Segment::Greedy(name) => {
                    let rest = parts.get(i..).filter(|r| !r.is_empty())?;
                    params.insert(name.clone(), rest.join("/"));
                    return Some(params);
                }
            }
        }
        (parts.len() == self.segments.len()).then_some(params)
    }
}

/// What a request resolved to.
#[derive(Debug, PartialEq, Eq)]
pub enum Resolution<'a> {
    Found {
        binary: &'a str,
        params: HashMap<String, String>,
        /// The authorizer's binary, when the route has one.
        authorizer: Option<&'a str>,
    },
    /// The path exists, not with this method.
    MethodNotAllowed,
    NotFound,
}

#[derive(Debug, Clone)]
pub struct RouteTable {
    routes: Vec<Route>,
}

/// The binary of the Lambda authorizer `name` of the HttpApi (`Auth.Authorizers.<name>`,
/// whose `FunctionArn` is `!GetAtt <Function>.Arn`).
fn authorizer_binary(resources: &serde_yaml::Mapping, name: &str) -> anyhow::Result<String> {
    let api = resources
        .iter()
        .find(|(_, r)| r.get("Type").and_then(Value::as_str) == Some("AWS::Serverless::HttpApi"))
        .map(|(_, r)| r)
        .context("no HttpApi")?;
    let arn = api
        .get("Properties")
        .and_then(|p| p.get("Auth"))
        .and_then(|a| a.get("Authorizers"))
        .and_then(|a| a.get(name))
        .and_then(|a| a.get("FunctionArn"))
        .with_context(|| format!("no authorizer {name} with a FunctionArn"))?;
    let arn = format!("{arn:?}");
    resources
        .iter()
        .find(|(id, _)| {
            id.as_str()
                .is_some_and(|id| arn.contains(&format!("{id}.Arn")))
        })
        .and_then(|(_, r)| {
            r.get("Metadata")?
                .get("BuildProperties")?
                .get("Binary")?
                .as_str()
                .map(str::to_owned)
        })
        .with_context(|| format!("authorizer {name}'s function has no binary"))
}

impl RouteTable {
    /// Reads every `HttpApi` event of every `AWS::Serverless::Function` in a SAM template.
    pub fn from_template(yaml: &str) -> anyhow::Result<Self> {
        let doc: Value = serde_yaml::from_str(yaml).context("template.yaml is not valid YAML")?;
        let resources = doc
            .get("Resources")
            .and_then(Value::as_mapping)
            .context("template.yaml has no Resources")?;
        let mut routes = Vec::new();
        for (id, res) in resources {
            if res.get("Type").and_then(Value::as_str) != Some("AWS::Serverless::Function") {
                continue;
            }
            let id = id.as_str().unwrap_or("?");
            let binary = res
                .get("Metadata")
                .and_then(|m| m.get("BuildProperties"))
                .and_then(|b| b.get("Binary"))
                .and_then(Value::as_str)
                .with_context(|| format!("function {id} has no Metadata.BuildProperties.Binary"))?;
            let events = res
                .get("Properties")
                .and_then(|p| p.get("Events"))
                .and_then(Value::as_mapping);
            for (_, event) in events.into_iter().flatten() {
                if event.get("Type").and_then(Value::as_str) != Some("HttpApi") {
                    continue;
                }
                let props = event
                    .get("Properties")
                    .context("HttpApi event without Properties")?;
                let path = props
                    .get("Path")
                    .and_then(Value::as_str)
                    .context("HttpApi event without Path")?;
                let method = props.get("Method").and_then(Value::as_str).unwrap_or("ANY");
                let mut route = Route::new(method, path, binary)?;
                if let Some(name) = props
                    .get("Auth")
                    .and_then(|a| a.get("Authorizer"))
                    .and_then(Value::as_str)
                {
                    route.authorizer = Some(authorizer_binary(resources, name)?);
                }
                routes.push(route);
            }
        }
        if routes.is_empty() {
            bail!("template.yaml declares no HttpApi routes");
        }
        routes.sort_by_key(|r| std::cmp::Reverse(r.rank()));
        Ok(Self { routes })
    }

    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    pub fn resolve(&self, method: &str, path: &str) -> Resolution<'_> {
        let mut path_exists = false;
        for route in &self.routes {
            if let Some(params) = route.matches_path(path) {
                if route
                    .method
                    .as_deref()
                    .is_none_or(|m| m.eq_ignore_ascii_case(method))
                {
                    return Resolution::Found {
                        binary: &route.binary,
                        params,
                        authorizer: route.authorizer.as_deref(),
                    };
                }
                path_exists = true;
            }
        }
        if path_exists {
            Resolution::MethodNotAllowed
        } else {
            Resolution::NotFound
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEMPLATE: &str = r#"
Resources:
  Table:
    Type: AWS::DynamoDB::Table
  UsersFunction:
    Type: AWS::Serverless::Function
    Metadata:
      BuildProperties:
        Binary: users
    Properties:
      Environment:
        Variables:
          PORTER_TABLE: !Ref Table
      Events:
        List: { Type: HttpApi, Properties: { Path: /api/users, Method: GET } }
        One: { Type: HttpApi, Properties: { Path: "/api/users/{id}", Method: PATCH } }
        Audit: { Type: HttpApi, Properties: { Path: /api/users/audit, Method: GET } }
  WebFunction:
    Type: AWS::Serverless::Function
    Metadata:
      BuildProperties:
        Binary: web
    Properties:
      Events:
        App: { Type: HttpApi, Properties: { Path: "/app/{proxy+}", Method: GET } }
"#;

    #[test]
    fn routes_come_from_the_template_with_their_path_parameters() {
        let table = RouteTable::from_template(TEMPLATE).unwrap();
        assert_eq!(table.routes().len(), 4);
        match table.resolve("PATCH", "/api/users/u_123") {
            Resolution::Found { binary, params, .. } => {
                assert_eq!(binary, "users");
                assert_eq!(params["id"], "u_123");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_literal_route_wins_over_a_parameter() {
        let table = RouteTable::from_template(TEMPLATE).unwrap();
        assert_eq!(
            table.resolve("GET", "/api/users/audit"),
            Resolution::Found {
                binary: "users",
                params: HashMap::new(),
                authorizer: None,
            }
        );
    }

    #[test]
    fn greedy_paths_take_the_rest_and_need_at_least_one_segment() {
        let table = RouteTable::from_template(TEMPLATE).unwrap();
        match table.resolve("GET", "/app/users/list") {
            Resolution::Found { params, .. } => assert_eq!(params["proxy"], "users/list"),
            other => panic!("{other:?}"),
        }
        assert_eq!(table.resolve("GET", "/app"), Resolution::NotFound);
    }

    #[test]
    fn a_known_path_with_another_method_is_not_allowed() {
        let table = RouteTable::from_template(TEMPLATE).unwrap();
        assert_eq!(
            table.resolve("DELETE", "/api/users"),
            Resolution::MethodNotAllowed
        );
        assert_eq!(table.resolve("GET", "/nowhere"), Resolution::NotFound);
    }

    #[test]
    fn every_api_route_of_the_template_is_described_in_openapi() {
        let root = crate::moto::repo_root();
        let table = RouteTable::from_template(
            &std::fs::read_to_string(root.join("template.yaml")).unwrap(),
        )
        .unwrap();
        let spec: Value =
            serde_yaml::from_str(&std::fs::read_to_string(root.join("openapi.yaml")).unwrap())
                .unwrap();
        for route in table
            .routes()
            .iter()
            .filter(|r| r.path.starts_with("/api/"))
        {
            let method = route
                .method
                .as_deref()
                .unwrap_or("get")
                .to_ascii_lowercase();
            assert!(
                spec["paths"][route.path.as_str()]
                    .get(method.as_str())
                    .is_some(),
                "{method} {} is missing from openapi.yaml",
                route.path
            );
        }
    }

    #[test]
    fn the_repository_template_parses() {
        let yaml = std::fs::read_to_string(crate::moto::repo_root().join("template.yaml")).unwrap();
        let table = RouteTable::from_template(&yaml).unwrap();
        assert!(table
            .routes()
            .iter()
            .any(|r| r.path == "/api/activation" && r.binary == "activate"));
    }
}
