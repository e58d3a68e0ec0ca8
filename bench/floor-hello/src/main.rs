//! The cold-start floor of any function: `lambda_http` answering "hello", nothing else.
//! `make bench` measures every Porter function against it.

use lambda_http::{service_fn, Body, Error, Request, Response};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::run(service_fn(|_: Request| async {
        Response::builder()
            .status(200)
            .body(Body::from("hello"))
            .map_err(Error::from)
    }))
    .await
}
