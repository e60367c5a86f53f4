-- The device index serves per-user lookups only (device-unique tokens, a user's tokens,
-- revoking a user's tokens: every query names user_id), so tokens without a user
-- (client_credentials) need no entry: one B-tree insert less per issued token (issue 7).
-- SQLite uses a partial index `WHERE user_id IS NOT NULL` for a query with `user_id = ?`.
-- (The expiry index stays a B-tree here: SQLite has no BRIN; PostgreSQL's is one now.)
DROP INDEX tokens_device;
CREATE INDEX tokens_device ON tokens (user_id, client_id, device_id) WHERE user_id IS NOT NULL;
