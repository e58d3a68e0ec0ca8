//! `web`: the static pages and their assets, and the health check. Pages are compiled into
//! the binary: no S3 bucket to keep in step with the code.

mod pages;

use porter_shared::http::{Body, Request, Response, Routes};
use std::sync::LazyLock;

pub async fn handle(req: Request) -> Response<Body> {
    static ROUTES: LazyLock<Routes<()>> = LazyLock::new(|| {
        Routes::new()
            .get("/api/health", pages::health)
            .get("/", pages::root)
            .get("/activate", pages::named_page)
            .get("/login", pages::named_page)
            .get("/reset", pages::named_page)
            .get("/app", pages::named_page)
            .get("/app/{*rest}", pages::app_page)
            .get("/assets/{name}", pages::asset)
            .fallback(pages::not_found)
    });
    ROUTES.serve(&(), req).await
}
