//! Time is an argument: the engine asks a [`Clock`] so that tests can fix and move it.

use std::sync::atomic::{AtomicI64, Ordering};

/// Seconds since the Unix epoch (UTC). Every stored instant in Tessera has this unit.
pub type UnixTime = i64;

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> UnixTime;
}

/// The wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> UnixTime {
        time::OffsetDateTime::now_utc().unix_timestamp()
    }
}

/// A clock that stands still until told to move: for tests of expiry and lockout.
#[derive(Debug)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    pub fn new(start: UnixTime) -> Self {
        Self(AtomicI64::new(start))
    }
    pub fn advance(&self, seconds: i64) {
        self.0.fetch_add(seconds, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> UnixTime {
        self.0.load(Ordering::SeqCst)
    }
}
