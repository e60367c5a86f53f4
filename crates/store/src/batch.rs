//! Group commit for token writes (issue 7, "Performance"), SQLite and PostgreSQL. SQLite has
//! one writer and a commit per token makes the commit the cost (WAL frames for the table and
//! each index page, per token); PostgreSQL waits for a WAL flush at every commit.
//! Here one task owns the token writes: it takes every write queued since its last commit (up
//! to [`MAX_BATCH`]), runs them in order in one transaction, commits, and only then
//! answers each caller, so a token is durable before its 200 (nothing answered is lost on a
//! `kill -9`). Under light load a batch is one write and nothing waits for a timer; under load
//! the batches grow by themselves.
//!
//! Order is kept, so the result is the same as running the writes one after another: two
//! rotations of one refresh token in one batch give `Rotated` then `Reused` (which revokes the
//! family, the first rotation's new tokens included). If a batch fails, each write is retried
//! alone so that one bad write cannot fail its neighbours.

use tessera_core::clock::UnixTime;
use tessera_core::ids::ClientId;
use tessera_core::model::{NewGrant, NewToken, RotateOutcome, SpendOutcome};
use tessera_core::secret::TokenHash;
use tessera_core::StoreError;
use tokio::sync::{mpsc, oneshot};

/// Largest number of writes in one transaction.
pub(crate) const MAX_BATCH: usize = 256;

/// One queued token write.
pub(crate) enum WriteOp {
    Insert(NewGrant),
    Rotate {
        old: TokenHash,
        now: UnixTime,
        new: NewGrant,
    },
    /// `Store::spend_refresh`.
    Spend {
        old: TokenHash,
        client: ClientId,
        now: UnixTime,
        /// The earliest family sign-in still allowed (`[tokens] refresh_family_max`).
        since: UnixTime,
        next: Vec<NewToken>,
    },
}

pub(crate) enum Written {
    Inserted,
    Rotated(RotateOutcome),
    Spent(SpendOutcome),
}

pub(crate) type Job = (WriteOp, oneshot::Sender<Result<Written, StoreError>>);

/// The queue in front of the writer task.
#[derive(Clone, Debug)]
pub(crate) struct Batcher {
    tx: mpsc::Sender<Job>,
}

impl Batcher {
    pub(crate) fn new(tx: mpsc::Sender<Job>) -> Self {
        Self { tx }
    }

    /// Queues a write and waits for its commit.
    pub(crate) async fn submit(&self, op: WriteOp) -> Result<Written, StoreError> {
        let (done, answer) = oneshot::channel();
        self.tx
            .send((op, done))
            .await
            .map_err(|_| StoreError::Unavailable("the token writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Unavailable("the token writer has stopped".into()))?
    }
}

/// Takes the next batch: waits for one job, then takes whatever else is queued, letting the
/// other tasks run in between for as long as that brings more. Requests that are already being
/// parsed join this commit instead of waiting for the next one: under load a batch holds
/// most of the connections' requests (one database round trip and one thread hand-off for
/// all of them); alone, a write waits for one turn of the scheduler, nothing more.
pub(crate) async fn next_batch(rx: &mut mpsc::Receiver<Job>) -> Option<Vec<Job>> {
    let first = rx.recv().await?;
    let mut jobs = Vec::with_capacity(64);
    jobs.push(first);
    while jobs.len() < MAX_BATCH {
        tokio::task::yield_now().await;
        let before = jobs.len();
        while jobs.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(j) => jobs.push(j),
                Err(_) => break,
            }
        }
        if jobs.len() == before {
            break;
        }
    }
    Some(jobs)
}
