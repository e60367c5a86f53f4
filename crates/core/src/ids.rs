//! Typed identifiers: a `UserId` cannot be passed where a `TenantId` is expected.

use serde::{Deserialize, Serialize};

macro_rules! int_id {
    ($($(#[$m:meta])* $name:ident),* $(,)?) => {$(
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    )*};
}

int_id!(
    /// A tenant (seed 000's cluster, seed 003's institution).
    TenantId,
    /// An org (seed 000's department / company code, seed 002's org).
    OrgId,
    UserId,
    ProductId,
    AppKeyId,
    /// A row of `user_products` (seed 002's `userProduct.id`).
    UserProductId,
    /// The database row of a client; the public name is [`ClientId`].
    ClientRowId,
    /// All tokens descended from one sign-in share a family; reuse of a spent refresh token
    /// revokes the family.
    FamilyId,
);

impl FamilyId {
    /// No family: a lone access token (`Engine::issue`). Never revoked as a family.
    pub const NONE: FamilyId = FamilyId(0);
}

/// A new random id: positive and below 2^53 so that JavaScript clients read it exactly.
pub fn new_id() -> i64 {
    use rand::Rng;
    rand::thread_rng().gen_range(1..(1i64 << 53))
}

/// The public identifier of an OAuth client (`client_id`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ClientId(pub String);

impl std::fmt::Display for ClientId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}
