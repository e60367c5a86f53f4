//! Tessera's engine: the model, the sign-in and token policies, typed outcomes and the store
//! traits. It knows no HTTP and no SQL: dialects parse their wire into the engine's requests and
//! render its typed outcomes; the `store` crate implements [`store::Store`].

pub mod bootstrap;
pub mod clock;
pub mod engine;
pub mod ephemeral;
pub mod error;
pub mod ids;
pub mod lang;
pub mod model;
pub mod names;
pub mod password;
pub mod secret;
pub mod signer;
pub mod sms;
pub mod store;
pub mod transport;

pub use clock::{Clock, SystemClock};
pub use engine::{Engine, EngineConfig};
pub use error::{EngineError, StoreError};
