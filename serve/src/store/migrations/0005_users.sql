-- The web UI's local users (spec 8): argon2id password hashes in PHC form, never the
-- passwords themselves.
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- Signed-in browsers: the SHA-256 of each session cookie's random value (a copy of the
-- database does not sign anyone in), the CSRF token its pages send back with each change,
-- and when it ends (Unix seconds).
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY,
    token_digest BLOB NOT NULL UNIQUE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
