-- Accounts, API tokens, login throttling and secrets (see README "Accounts").
-- Sessions live in the `tower_sessions` table, created by the session store.

CREATE TABLE users (
    id            TEXT PRIMARY KEY,                 -- usr_<uuid>
    username      TEXT NOT NULL UNIQUE COLLATE NOCASE,
    display_name  TEXT NOT NULL,
    password_hash TEXT NOT NULL,                    -- argon2id PHC string
    role          TEXT NOT NULL CHECK (role IN ('admin', 'editor', 'approver', 'viewer')),
    disabled_at   INTEGER,
    created_at    INTEGER NOT NULL,
    created_by    TEXT NOT NULL,
    updated_at    INTEGER NOT NULL
);

CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,                  -- tok_<uuid>
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,              -- SHA-256 of the token, hex
    role         TEXT NOT NULL CHECK (role IN ('admin', 'editor', 'approver', 'viewer')),
    created_at   INTEGER NOT NULL,
    created_by   TEXT NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);

-- Failed logins per (lower-cased) username, whether or not it exists.
CREATE TABLE login_failures (
    username     TEXT PRIMARY KEY,
    failures     INTEGER NOT NULL,
    last_at      INTEGER NOT NULL,
    locked_until INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE secrets (
    name       TEXT PRIMARY KEY,
    sealed     BLOB NOT NULL,                       -- nonce || XChaCha20-Poly1305 ciphertext
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    updated_by TEXT NOT NULL
);
