-- What each bootstrap entry looked like when it was last applied (tessera_core::bootstrap::
-- entry_digest): an entry whose file text has not changed is left alone at the next start, so
-- what changed at run time (a lock, an admin's edit, a rotated secret) stands. `secret` is the
-- Argon2 hash written for a user's clear password, to tell whether the file's password changed.
CREATE TABLE bootstrap_applied (
    kind TEXT NOT NULL,
    entry_key TEXT NOT NULL,
    digest TEXT NOT NULL,
    secret TEXT,
    PRIMARY KEY (kind, entry_key)
);
