//! `authorizer`: the API Gateway (HTTP API) Lambda REQUEST authorizer in front of the vendor's
//! own routes (payload 2.0, simple responses). Who is calling comes from `Authorization:
//! Bearer <access token>` (checked against the JWKS alone: no DynamoDB request) or from the
//! session cookie (the session, then its user and tenant, as every Porter route reads them);
//! then the license at the edge (`domain::access_token::edge_allows`). It declares no identity
//! source and its cache is off, so API Gateway asks it on every request.

mod decide;

use aws_lambda_events::apigw::{
    ApiGatewayV2CustomAuthorizerSimpleResponse, ApiGatewayV2CustomAuthorizerV2Request,
};
use porter_shared::AppState;

pub use decide::Context;

pub async fn handle(
    state: &AppState,
    event: ApiGatewayV2CustomAuthorizerV2Request,
) -> ApiGatewayV2CustomAuthorizerSimpleResponse<Option<Context>> {
    let context = decide::decide(state, &event).await;
    let mut answer = ApiGatewayV2CustomAuthorizerSimpleResponse::default();
    answer.is_authorized = context.is_some();
    answer.context = context;
    answer
}
