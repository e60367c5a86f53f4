-- Orgs can be disabled (seed 002: a disabled org answers 403).
ALTER TABLE orgs ADD COLUMN enabled BOOLEAN NOT NULL DEFAULT TRUE;
