-- Token rows carry the cost of every index on them at insert, and issuing is the hot path
-- (issue 7). Measured with pgbench on PostgreSQL 15 (64-row batched inserts): 5.8 µs of
-- PostgreSQL CPU per row with the two indexes below as B-trees, 3.1 µs with the ones here.
--
-- The device index serves per-user lookups only (device-unique tokens, a user's tokens,
-- revoking a user's tokens: every query names user_id), so tokens without a user
-- (client_credentials) need no entry. A query's `user_id = $n` implies `user_id IS NOT NULL`,
-- so the planner takes the partial index.
DROP INDEX tokens_device;
CREATE INDEX tokens_device ON tokens (user_id, client_id, device_id) WHERE user_id IS NOT NULL;
-- The expiry index serves only the background purge (`DELETE … WHERE expires_at < $1`). Rows
-- arrive in issue order, so expiry follows the physical order closely: a BRIN index keeps one
-- summary per 128 pages, costs nothing per insert, and lets the purge skip the ranges that hold
-- nothing old enough.
DROP INDEX tokens_expires;
CREATE INDEX tokens_expires ON tokens USING brin (expires_at);
