//! Request guards: who is calling (their session), what they may do (their role), and how
//! many guesses they have left. Each takes the `AppState` and a request; the credential
//! checks they use are pure, in `credentials`.

pub mod access;
#[cfg(feature = "webauthn")]
pub mod ceremony;
pub mod guard;
pub mod second_factor;
pub mod seeds;
pub mod session;
pub mod sign_in;
