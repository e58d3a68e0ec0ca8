use lambda_http::{run, service_fn, Error};
use porter_shared::{telemetry, AppState};

#[tokio::main]
async fn main() -> Result<(), Error> {
    telemetry::init();
    let state = AppState::from_env().await?;
    let state = &state;
    run(service_fn(move |req| async move {
        Ok::<_, Error>(setup::handle(state, req).await)
    }))
    .await
}
