-- Issue 15 (security review).
-- The tenant whose admin created a user through the admin API: only that tenant's admin (or a
-- global admin) may attach the user while it belongs to no tenant. NULL: created by a global
-- admin or the bootstrap file.
ALTER TABLE users ADD COLUMN created_by_tenant BIGINT;
-- The time of the sign-in a token's family started with, carried over on every rotation, so
-- that `[tokens] refresh_family_max` bounds a family's whole life. NULL for tokens issued
-- before this migration: their own issued_at stands in.
ALTER TABLE tokens ADD COLUMN auth_time BIGINT;
