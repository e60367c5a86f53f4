-- Issue 15 (security review), docs/decisions.md "Usernames (issue 15)".
-- `username` keeps the name as typed (for display); `username_key` is what uniqueness and
-- sign-in compare: tessera_core::names::username_key (NFKC, lowercase, no invisible
-- characters). NULL: the name has no key (refused characters, or a clash with another user's
-- key); such a user cannot sign in by username until renamed.
ALTER TABLE users ADD COLUMN username_key TEXT;
-- A first approximation for existing rows: lower(username), only where no other row has the
-- same lower(username) (a clash must not stop the migration). At every start
-- `Engine::refresh_username_keys` recomputes the keys in Rust and warns about the rest.
UPDATE users SET username_key = lower(username)
 WHERE lower(username) IN (SELECT lower(username) FROM users GROUP BY lower(username) HAVING COUNT(*) = 1);
CREATE UNIQUE INDEX users_by_username_key ON users (username_key);
-- A new username is compared with every user's e-mail ignoring case (Store::users_holding).
CREATE INDEX users_by_lower_email ON users (lower(email));
