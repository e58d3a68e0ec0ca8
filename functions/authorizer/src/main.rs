//! The Lambda binary; the flow is in lib.rs. The authorizer's future (a session read awaited
//! inside the runtime's) is deeper than rustc's default query depth allows.
#![recursion_limit = "256"]
porter_shared::event_main!(authorizer::handle);
