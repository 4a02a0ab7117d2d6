-- Version 3: what people decide and keep beyond alert statuses.
--
-- A severity a person set (severity_set) survives re-ingest; the history
-- of an alert records severity changes (from_severity, to_severity, 0 for
-- other actions).
ALTER TABLE alerts ADD COLUMN severity_set INTEGER NOT NULL DEFAULT 0;
ALTER TABLE history ADD COLUMN from_severity INTEGER NOT NULL DEFAULT 0;
ALTER TABLE history ADD COLUMN to_severity INTEGER NOT NULL DEFAULT 0;

-- Recommendation statuses: the current one by recommendation id, and
-- every change, in order.
CREATE TABLE recommendation_status (
	id         TEXT PRIMARY KEY,
	device     TEXT NOT NULL,
	title      TEXT NOT NULL,
	status     INTEGER NOT NULL,
	reason     TEXT NOT NULL,
	actor      TEXT NOT NULL,
	changed_ns INTEGER NOT NULL
);

CREATE TABLE recommendation_history (
	seq        INTEGER PRIMARY KEY,
	id         TEXT NOT NULL,
	device     TEXT NOT NULL,
	title      TEXT NOT NULL,
	status     INTEGER NOT NULL,
	reason     TEXT NOT NULL,
	actor      TEXT NOT NULL,
	changed_ns INTEGER NOT NULL
);
CREATE INDEX recommendation_history_id ON recommendation_history(id, seq);

-- Console sessions, by the SHA-256 of their cookie, and API tokens, by
-- id and by the SHA-256 of their secret.
CREATE TABLE sessions (
	key        TEXT PRIMARY KEY,
	user_name  TEXT NOT NULL,
	csrf       TEXT NOT NULL,
	ip         TEXT NOT NULL,
	created_ns INTEGER NOT NULL,
	seen_ns    INTEGER NOT NULL,
	expires_ns INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_name);

CREATE TABLE tokens (
	id         TEXT PRIMARY KEY,
	user_name  TEXT NOT NULL,
	name       TEXT NOT NULL,
	hash       TEXT NOT NULL UNIQUE,
	created_ns INTEGER NOT NULL,
	used_ns    INTEGER NOT NULL,
	expires_ns INTEGER NOT NULL
);
CREATE INDEX tokens_user ON tokens(user_name, created_ns, id);
