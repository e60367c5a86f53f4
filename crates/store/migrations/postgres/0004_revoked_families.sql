-- Revoked token families (issue 7): revoking a family records it here instead of marking each
-- of its tokens, so token rows need no index on their family, which every refresh wrote to at
-- a random place (one more random page per refresh in the WAL). Every read and spend of a token
-- checks this table. A row is deleted once every token of its family has expired: tokens live
-- at most model::MAX_TOKEN_LIFETIME (400 days) after the revocation.
-- Tokens marked revoked through their family before this migration stay marked.
CREATE TABLE revoked_families (
    family_id BIGINT PRIMARY KEY,
    revoked_at BIGINT NOT NULL
);
CREATE INDEX revoked_families_at ON revoked_families (revoked_at);
DROP INDEX tokens_family;
