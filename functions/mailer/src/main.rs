//! The Lambda binary; the flow is in lib.rs.
porter_shared::sqs_main!(mailer::handle);
