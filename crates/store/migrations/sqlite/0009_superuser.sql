-- Issue 17 (console): a superuser administers every tenant and the global objects from the
-- console. Set by the bootstrap file or by a global admin, never by a tenant admin.
ALTER TABLE users ADD COLUMN superuser BOOLEAN NOT NULL DEFAULT FALSE;
