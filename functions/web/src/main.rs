use lambda_http::{run, service_fn, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    porter_shared::telemetry::init();
    // Static pages need no configuration or AWS clients: nothing to build at cold start.
    run(service_fn(|req| async {
        Ok::<_, Error>(web::handle(req).await)
    }))
    .await
}
