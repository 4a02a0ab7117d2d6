-- Version 3: what people decide and keep beyond alert statuses.
--
-- A severity a person set (severity_set) survives re-ingest; ingest finds
-- the few such alerts of a batch through alerts_severity_set. The history
-- of an alert records severity changes (from_severity, to_severity, 0 for
-- other actions).
ALTER TABLE alerts ADD COLUMN severity_set bool NOT NULL DEFAULT false;
CREATE INDEX alerts_severity_set ON alerts (id) WHERE severity_set;
ALTER TABLE history ADD COLUMN from_severity int2 NOT NULL DEFAULT 0;
ALTER TABLE history ADD COLUMN to_severity int2 NOT NULL DEFAULT 0;

-- Recommendation statuses: the current one by recommendation id, and
-- every change, in order.
CREATE TABLE recommendation_status (
	id         text PRIMARY KEY,
	device     text NOT NULL,
	title      text NOT NULL,
	status     int2 NOT NULL,
	reason     text NOT NULL,
	actor      text NOT NULL,
	changed_ns int8 NOT NULL
);

CREATE TABLE recommendation_history (
	seq        int8 GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	id         text NOT NULL,
	device     text NOT NULL,
	title      text NOT NULL,
	status     int2 NOT NULL,
	reason     text NOT NULL,
	actor      text NOT NULL,
	changed_ns int8 NOT NULL
);
CREATE INDEX recommendation_history_id ON recommendation_history (id, seq);

-- Console sessions, by the SHA-256 of their cookie, and API tokens, by
-- id and by the SHA-256 of their secret; tokens are listed by creation
-- time and id (in byte order, as the other backends sort).
CREATE TABLE sessions (
	key        text PRIMARY KEY,
	user_name  text NOT NULL,
	csrf       text NOT NULL,
	ip         text NOT NULL,
	created_ns int8 NOT NULL,
	seen_ns    int8 NOT NULL,
	expires_ns int8 NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_name);

CREATE TABLE tokens (
	id         text COLLATE "C" PRIMARY KEY,
	user_name  text NOT NULL,
	name       text NOT NULL,
	hash       text NOT NULL UNIQUE,
	created_ns int8 NOT NULL,
	used_ns    int8 NOT NULL,
	expires_ns int8 NOT NULL
);
CREATE INDEX tokens_user ON tokens (user_name, created_ns, id);
