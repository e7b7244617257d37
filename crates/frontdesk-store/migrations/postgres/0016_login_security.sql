-- Login throttling and the optional second factor (I2).
--
-- One counter per key: 'account:<email as typed, lower case>' or
-- 'address:<client IP>'. Kept in the store, not in memory, so every replica
-- counts the same failures and a restart does not reset them. The rules
-- (window, lockout, doubling) are frontdesk_core::throttle's; rows quiet for
-- a day are deleted as new failures are recorded.
CREATE TABLE login_throttle (
    key TEXT PRIMARY KEY,
    failures BIGINT NOT NULL DEFAULT 0,
    window_start BIGINT NOT NULL DEFAULT 0,
    locked_until BIGINT NOT NULL DEFAULT 0,
    lockouts BIGINT NOT NULL DEFAULT 0,
    last_failure BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX login_throttle_last_failure ON login_throttle (last_failure);

-- A user's TOTP secret (RFC 6238, base32). confirmed_at NULL: enrolment
-- started but not yet confirmed with a code, so sign-in does not ask for one.
-- last_step: the newest time step accepted, so a code is never accepted twice.
CREATE TABLE user_totp (
    user_id BIGINT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    secret TEXT NOT NULL,
    confirmed_at BIGINT,
    last_step BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
