//! API Gateway's part before a protected route: the route's Lambda authorizer (template.yaml's
//! `Auth.Authorizer`) invoked with a payload 2.0 request built from the HTTP request; a
//! refusal answered `403 {"message":"Forbidden"}` as API Gateway answers it, and the
//! authorizer's context handed to the route in `requestContext.authorizer.lambda`.

use aws_lambda_events::apigw::{
    ApiGatewayRequestAuthorizer, ApiGatewayV2CustomAuthorizerV2Request,
};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use porter_shared::AppState;

/// The request, with the authorizer's context, when `authorizer` allows it; else API
/// Gateway's own 403.
pub async fn authorize(
    state: &AppState,
    authorizer: &str,
    req: Request,
) -> Result<Request, Response<Body>> {
    if authorizer != "authorizer" {
        return Err(forbidden());
    }
    let mut ctx = match req.request_context() {
        RequestContext::ApiGatewayV2(c) => c,
        _ => Default::default(),
    };
    let cookies: Vec<String> = req
        .headers()
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty())
        .collect();
    let mut event = ApiGatewayV2CustomAuthorizerV2Request::default();
    event.version = Some("2.0".into());
    event.type_ = Some("REQUEST".into());
    event.route_key = Some(format!("{} {}", req.method(), req.uri().path()));
    event.raw_path = Some(req.uri().path().to_owned());
    event.raw_query_string = req.uri().query().map(str::to_owned);
    event.cookies = cookies;
    event.headers = req.headers().clone();
    event.headers.remove(http::header::COOKIE);
    event.request_context = ctx.clone();
    let answer = authorizer::handle(state, event).await;
    let Some(context) = answer.context.filter(|_| answer.is_authorized) else {
        return Err(forbidden());
    };
    let fields = match serde_json::to_value(context) {
        Ok(serde_json::Value::Object(map)) => map.into_iter().collect(),
        _ => return Err(forbidden()),
    };
    let mut lambda = ApiGatewayRequestAuthorizer::default();
    lambda.fields = fields;
    ctx.authorizer = Some(lambda);
    Ok(req.with_request_context(RequestContext::ApiGatewayV2(ctx)))
}

fn forbidden() -> Response<Body> {
    let mut r = Response::new(Body::Text(r#"{"message":"Forbidden"}"#.to_owned()));
    *r.status_mut() = http::StatusCode::FORBIDDEN;
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    r
}
