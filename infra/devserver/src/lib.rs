//! Porter's local stack: moto, the table, a demo tenant and a dev server that serves every
//! function at the routes `template.yaml` declares. Also used by the integration tests.

pub mod breached;
pub mod demo_app;
pub mod dns;
pub mod edge;
pub mod idp;
pub mod mailer;
pub mod moto;
pub mod outbox;
pub mod platform;
pub mod routes;
pub mod server;
pub mod stack;
