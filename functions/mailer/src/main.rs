//! The Lambda binary; the flow is in lib.rs.
porter_shared::event_main!(mailer::handle);
