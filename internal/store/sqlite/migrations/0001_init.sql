-- otwatch schema version 1: every entity of the store.
-- Strings that repeat across many rows (sensors, sites, zones, alert types,
-- categories, protocols, device addresses) are kept once in dict and
-- referenced by integer id; id 0 stands for the empty string.

CREATE TABLE dict (
	id INTEGER PRIMARY KEY,
	s  TEXT NOT NULL UNIQUE
);

CREATE TABLE sites (
	id          TEXT PRIMARY KEY,
	name        TEXT NOT NULL,
	description TEXT NOT NULL DEFAULT ''
);

CREATE TABLE zones (
	id          TEXT PRIMARY KEY,
	site        TEXT NOT NULL REFERENCES sites(id),
	name        TEXT NOT NULL,
	description TEXT NOT NULL DEFAULT '',
	subnets     TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX zones_site ON zones(site);

CREATE TABLE sensors (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	site       TEXT NOT NULL DEFAULT '',
	zone       TEXT NOT NULL DEFAULT '',
	mode       TEXT NOT NULL,
	last_seen  INTEGER NOT NULL DEFAULT 0,
	created    INTEGER NOT NULL
);

-- Alerts: one row per alert id, holding what queries filter, sort and
-- count on; the alert itself is kept as JSON in alert_docs, so that scans
-- and counts over many alerts read small rows. The party indexes lead
-- with the hour of the last detection (last_ns / 3600000000000): ingest,
-- which runs in time order, then touches the few pages of the current
-- hour instead of one page per device; a party's alerts are found hour
-- by hour.
CREATE TABLE alerts (
	rid        INTEGER PRIMARY KEY,
	id         TEXT NOT NULL UNIQUE,
	sensor     INTEGER NOT NULL,
	site       INTEGER NOT NULL,
	zone       INTEGER NOT NULL,
	type       INTEGER NOT NULL,
	category   INTEGER NOT NULL,
	protocol   INTEGER NOT NULL,
	src        INTEGER NOT NULL, -- the parties' addresses (PartyKey)
	dst        INTEGER NOT NULL,
	srct       INTEGER NOT NULL, -- the parties' text (PartyText), for the text filter
	dstt       INTEGER NOT NULL,
	severity   INTEGER NOT NULL,
	status     INTEGER NOT NULL,
	engine     INTEGER NOT NULL,
	first_ns   INTEGER NOT NULL,
	last_ns    INTEGER NOT NULL,
	count      INTEGER NOT NULL,
	updated_ns INTEGER NOT NULL
);
CREATE INDEX alerts_last     ON alerts(last_ns);
CREATE INDEX alerts_first    ON alerts(first_ns);
CREATE INDEX alerts_severity ON alerts(severity, last_ns);
CREATE INDEX alerts_sensor   ON alerts(sensor, last_ns);
CREATE INDEX alerts_type     ON alerts(type, last_ns);
CREATE INDEX alerts_src      ON alerts(last_ns / 3600000000000, src, last_ns);
CREATE INDEX alerts_dst      ON alerts(last_ns / 3600000000000, dst, last_ns);

CREATE TABLE alert_docs (
	rid INTEGER PRIMARY KEY,
	doc BLOB NOT NULL
);

CREATE TABLE comments (
	id       INTEGER PRIMARY KEY,
	alert_id TEXT NOT NULL,
	author   TEXT NOT NULL,
	text     TEXT NOT NULL,
	time_ns  INTEGER NOT NULL
);
CREATE INDEX comments_alert ON comments(alert_id, id);

CREATE TABLE history (
	id          INTEGER PRIMARY KEY,
	alert_id    TEXT NOT NULL,
	time_ns     INTEGER NOT NULL,
	actor       TEXT NOT NULL,
	action      TEXT NOT NULL,
	from_status INTEGER NOT NULL,
	to_status   INTEGER NOT NULL,
	reason      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX history_alert ON history(alert_id, id);

CREATE TABLE mutes (
	id         INTEGER PRIMARY KEY,
	sensor     TEXT NOT NULL,
	type       TEXT NOT NULL,
	src        TEXT NOT NULL,
	dst        TEXT NOT NULL,
	key        TEXT NOT NULL,
	alert_id   TEXT NOT NULL,
	actor      TEXT NOT NULL,
	created_ns INTEGER NOT NULL,
	suppressed INTEGER NOT NULL DEFAULT 0,
	UNIQUE (sensor, type, src, dst, key)
);

-- Timeline events, clustered by time; (time_ns, id) is also the
-- deduplication key (id is a hash of the event). The device indexes lead
-- with the hour (time_ns / 3600000000000), so that ingest, which runs in
-- time order, touches the few index pages of the current hour rather
-- than one page per device; a device's events are found hour by hour.
CREATE TABLE events (
	time_ns   INTEGER NOT NULL,
	id        INTEGER NOT NULL,
	sensor    INTEGER NOT NULL,
	type      INTEGER NOT NULL,
	device    INTEGER NOT NULL,
	device_id INTEGER NOT NULL,
	peer      INTEGER NOT NULL,
	peer_id   INTEGER NOT NULL,
	alert_id  TEXT NOT NULL,
	detail    TEXT NOT NULL,
	PRIMARY KEY (time_ns, id)
) WITHOUT ROWID;
CREATE INDEX events_device ON events(time_ns / 3600000000000, device, time_ns) WHERE device <> 0;
CREATE INDEX events_peer   ON events(time_ns / 3600000000000, peer, time_ns) WHERE peer <> 0;
CREATE INDEX events_type   ON events(type, time_ns);
CREATE INDEX events_alert  ON events(alert_id) WHERE alert_id <> '';

CREATE TABLE devices (
	sensor    TEXT NOT NULL,
	id        INTEGER NOT NULL,
	name      TEXT NOT NULL,
	type      TEXT NOT NULL,
	vendor    TEXT NOT NULL,
	purdue    INTEGER NOT NULL,
	inactive  INTEGER NOT NULL,
	first_ns  INTEGER NOT NULL,
	last_ns   INTEGER NOT NULL,
	protocols TEXT NOT NULL, -- " modbus s7comm ": every protocol served or used
	search    TEXT NOT NULL, -- lower-case words for the free-text filter
	doc       BLOB NOT NULL,
	PRIMARY KEY (sensor, id)
) WITHOUT ROWID;
CREATE INDEX devices_last ON devices(last_ns);

CREATE TABLE device_addrs (
	addr   TEXT NOT NULL,
	sensor TEXT NOT NULL,
	id     INTEGER NOT NULL,
	PRIMARY KEY (addr, sensor, id)
) WITHOUT ROWID;
CREATE INDEX device_addrs_device ON device_addrs(sensor, id);

CREATE TABLE connections (
	sensor    TEXT NOT NULL,
	client    INTEGER NOT NULL,
	server    INTEGER NOT NULL,
	protocol  TEXT NOT NULL,
	transport TEXT NOT NULL,
	port      INTEGER NOT NULL,
	relation  TEXT NOT NULL,
	doc       BLOB NOT NULL,
	PRIMARY KEY (sensor, client, server, protocol, transport, port, relation)
) WITHOUT ROWID;
CREATE INDEX connections_server ON connections(sensor, server);

CREATE TABLE overrides (
	addr       TEXT PRIMARY KEY,
	doc        BLOB NOT NULL,
	actor      TEXT NOT NULL,
	updated_ns INTEGER NOT NULL
);

CREATE TABLE baseline (
	sensor   TEXT NOT NULL,
	kind     TEXT NOT NULL,
	client   TEXT NOT NULL,
	server   TEXT NOT NULL,
	mac      TEXT NOT NULL,
	protocol TEXT NOT NULL,
	port     INTEGER NOT NULL,
	function TEXT NOT NULL,
	class    TEXT NOT NULL,
	target   TEXT NOT NULL,
	first_ns INTEGER NOT NULL,
	last_ns  INTEGER NOT NULL,
	count    INTEGER NOT NULL,
	min      REAL NOT NULL,
	max      REAL NOT NULL,
	period   INTEGER NOT NULL,
	source   TEXT NOT NULL,
	PRIMARY KEY (sensor, kind, client, server, mac, protocol, port, function, class, target)
) WITHOUT ROWID;

CREATE TABLE exclusions (
	id         INTEGER PRIMARY KEY,
	name       TEXT NOT NULL,
	type       TEXT NOT NULL,
	device     TEXT NOT NULL,
	subnet     TEXT NOT NULL,
	sensor     TEXT NOT NULL,
	from_ns    INTEGER NOT NULL,
	until_ns   INTEGER NOT NULL,
	disabled   INTEGER NOT NULL,
	comment    TEXT NOT NULL,
	author     TEXT NOT NULL,
	created_ns INTEGER NOT NULL,
	suppressed INTEGER NOT NULL DEFAULT 0
);

-- Evidence files live in a directory next to the database; the table
-- keeps the reference and the size for retention.
CREATE TABLE evidence (
	alert_id  TEXT PRIMARY KEY,
	file      TEXT NOT NULL,
	size      INTEGER NOT NULL,
	stored_ns INTEGER NOT NULL
);
CREATE INDEX evidence_stored ON evidence(stored_ns);

CREATE TABLE users (
	name          TEXT PRIMARY KEY,
	full_name     TEXT NOT NULL,
	role          TEXT NOT NULL,
	password_hash TEXT NOT NULL,
	disabled      INTEGER NOT NULL,
	created_ns    INTEGER NOT NULL,
	updated_ns    INTEGER NOT NULL
);

CREATE TABLE audit (
	id      INTEGER PRIMARY KEY,
	time_ns INTEGER NOT NULL,
	actor   TEXT NOT NULL,
	action  TEXT NOT NULL,
	object  TEXT NOT NULL,
	detail  TEXT NOT NULL
);
CREATE INDEX audit_actor  ON audit(actor, id);
CREATE INDEX audit_object ON audit(object, id);
