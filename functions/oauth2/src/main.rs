//! The Lambda binary; the flow is in lib.rs.
porter_shared::lambda_main!(oauth2::handle);
