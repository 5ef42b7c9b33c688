-- API users and their bearer tokens (central-api).
-- Only the SHA-256 of a token is stored: tokens are 256-bit random strings, so a fast hash is
-- as safe as a slow KDF (nothing to brute-force) and lets a request find its user by index.
CREATE TABLE IF NOT EXISTS users (
    name         text PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9_.@-]{1,64}$'),
    role         text NOT NULL CHECK (role IN ('admin', 'province', 'city', 'county', 'depot')),
    scope        text NOT NULL,
    can_write    boolean NOT NULL DEFAULT true,
    token_sha256 bytea NOT NULL UNIQUE CHECK (octet_length(token_sha256) = 32),
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz
);
