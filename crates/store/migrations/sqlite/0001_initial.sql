-- Tessera's model (spec/README.md). Times are Unix seconds; ids are app-generated int64.
-- The PostgreSQL twin of this file has the same name; a unit test keeps the trees in step.
CREATE TABLE tenants (
    id BIGINT PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    enabled BOOLEAN NOT NULL,
    sso_url TEXT NOT NULL,
    server_url TEXT NOT NULL,
    sms_second_factor TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE orgs (
    id BIGINT PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    org_type TEXT NOT NULL,
    logo TEXT NOT NULL,
    UNIQUE (tenant_id, code)
);
CREATE TABLE products (
    id BIGINT PRIMARY KEY,
    name TEXT NOT NULL
);
CREATE TABLE org_products (
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    product_id BIGINT NOT NULL REFERENCES products(id),
    name TEXT NOT NULL,
    PRIMARY KEY (org_id, product_id)
);
CREATE TABLE users (
    id BIGINT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    phone TEXT UNIQUE,
    email TEXT UNIQUE,
    password_hash TEXT,
    user_type TEXT NOT NULL,
    source TEXT NOT NULL,
    display_name TEXT NOT NULL,
    real_name TEXT NOT NULL,
    gender BIGINT NOT NULL,
    birthday TEXT,
    title TEXT NOT NULL,
    employee_number TEXT NOT NULL,
    portrait TEXT NOT NULL,
    state TEXT NOT NULL,
    enabled BOOLEAN NOT NULL,
    active BOOLEAN NOT NULL,
    locked_until BIGINT,
    expires_at BIGINT,
    phone_verified BOOLEAN NOT NULL,
    email_verified BOOLEAN NOT NULL,
    failed_attempts BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
CREATE TABLE memberships (
    user_id BIGINT NOT NULL REFERENCES users(id),
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    roles TEXT NOT NULL,
    is_default BOOLEAN NOT NULL,
    PRIMARY KEY (user_id, tenant_id, org_id)
);
CREATE TABLE user_products (
    id BIGINT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    product_id BIGINT NOT NULL REFERENCES products(id),
    system_admin BOOLEAN NOT NULL,
    UNIQUE (user_id, org_id, product_id)
);
CREATE TABLE clients (
    id BIGINT PRIMARY KEY,
    client_id TEXT NOT NULL UNIQUE,
    secret_hash BLOB,
    dialect TEXT NOT NULL,
    grant_types TEXT NOT NULL,
    redirect_uris TEXT NOT NULL,
    post_logout_redirect_uris TEXT NOT NULL,
    scopes TEXT NOT NULL,
    tenant_id BIGINT REFERENCES tenants(id),
    access_ttl BIGINT,
    refresh_ttl BIGINT,
    created_at BIGINT NOT NULL
);
CREATE TABLE app_keys (
    id BIGINT PRIMARY KEY,
    app_id TEXT NOT NULL,
    app_key TEXT NOT NULL UNIQUE,
    secret_hash BLOB NOT NULL,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    product_id BIGINT NOT NULL REFERENCES products(id),
    user_id BIGINT REFERENCES users(id),
    system_admin BOOLEAN NOT NULL,
    enabled BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL
);
-- Access and refresh tokens, by SHA-256 only. No foreign keys: this is the hot table.
CREATE TABLE tokens (
    hash BLOB PRIMARY KEY,
    kind TEXT NOT NULL,
    family_id BIGINT NOT NULL,
    client_id TEXT NOT NULL,
    user_id BIGINT,
    tenant_id BIGINT,
    org_id BIGINT,
    app_key_id BIGINT,
    scope TEXT NOT NULL,
    device_id TEXT,
    source_type TEXT,
    session_id TEXT,
    issued_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    revoked_at BIGINT
);
CREATE INDEX tokens_family ON tokens (family_id);
CREATE INDEX tokens_expires ON tokens (expires_at);
CREATE INDEX tokens_device ON tokens (user_id, client_id, device_id);
CREATE TABLE sso_sessions (
    id TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    tenant_id BIGINT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE TABLE known_devices (
    user_id BIGINT NOT NULL REFERENCES users(id),
    device_key TEXT NOT NULL,
    first_seen BIGINT NOT NULL,
    PRIMARY KEY (user_id, device_key)
);
CREATE TABLE audit_events (
    id BIGINT PRIMARY KEY,
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    dialect TEXT NOT NULL,
    outcome TEXT NOT NULL,
    user_id BIGINT,
    client_id TEXT,
    ip TEXT,
    detail TEXT NOT NULL
);
CREATE INDEX audit_events_at ON audit_events (at);
CREATE TABLE open_login_ways (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    url TEXT NOT NULL,
    position BIGINT NOT NULL
);
