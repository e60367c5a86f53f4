-- SSO sessions: a public id (seed 003's online_ticket) and the cookie secret as SHA-256 only.
DROP TABLE sso_sessions;
CREATE TABLE sso_sessions (
    id TEXT PRIMARY KEY,
    secret_hash BYTEA NOT NULL UNIQUE,
    user_id BIGINT NOT NULL REFERENCES users(id),
    tenant_id BIGINT,
    created_at BIGINT NOT NULL,
    last_seen BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);
