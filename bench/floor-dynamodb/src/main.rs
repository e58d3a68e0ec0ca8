//! The cold-start floor of a function that uses DynamoDB: `lambda_http`, the AWS
//! configuration and a DynamoDB client built once, one GetItem per request. `make bench`
//! measures the Porter functions that link the SDK against it.

use aws_sdk_dynamodb::types::AttributeValue;
use lambda_http::{service_fn, Body, Error, Request, Response};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let sdk = aws_config::load_from_env().await;
    let db = aws_sdk_dynamodb::Client::new(&sdk);
    let table = std::env::var("PORTER_TABLE").unwrap_or_else(|_| "porter".to_owned());
    let (db, table) = (&db, table.as_str());
    lambda_http::run(service_fn(move |_: Request| async move {
        let found = db
            .get_item()
            .table_name(table)
            .key("pk", AttributeValue::S("FLOOR".to_owned()))
            .key("sk", AttributeValue::S("FLOOR".to_owned()))
            .send()
            .await
            .is_ok();
        Response::builder()
            .status(if found { 200 } else { 503 })
            .body(Body::from("floor"))
            .map_err(Error::from)
    }))
    .await
}
