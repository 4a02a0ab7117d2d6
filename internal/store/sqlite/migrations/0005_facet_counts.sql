-- Version 5: the combinations of the facet dimensions (combos) apart from
-- their alert counts (alert_counts). A combination keeps its id for good,
-- so that caches of ids stay valid; its counter row exists only while it
-- has alerts: the first alert inserts it, and the row whose count reaches
-- zero is deleted. The counts are taken anew from the alerts.

DROP TRIGGER alerts_count_insert;
DROP TRIGGER alerts_count_update;
DROP TRIGGER alerts_count_delete;

CREATE TABLE combos (
	cid      INTEGER PRIMARY KEY,
	sensor   INTEGER NOT NULL,
	site     INTEGER NOT NULL,
	zone     INTEGER NOT NULL,
	type     INTEGER NOT NULL,
	category INTEGER NOT NULL,
	protocol INTEGER NOT NULL,
	severity INTEGER NOT NULL,
	status   INTEGER NOT NULL,
	engine   INTEGER NOT NULL,
	UNIQUE (sensor, site, zone, type, category, protocol, severity, status, engine)
);

INSERT INTO combos SELECT cid, sensor, site, zone, type, category, protocol, severity, status, engine FROM alert_counts;

DROP TABLE alert_counts;

CREATE TABLE alert_counts (
	cid INTEGER PRIMARY KEY,
	n   INTEGER NOT NULL
);

INSERT INTO alert_counts SELECT cid, count(*) FROM alerts GROUP BY cid;

CREATE TRIGGER alerts_count_insert AFTER INSERT ON alerts BEGIN
	INSERT INTO alert_counts(cid, n) VALUES (new.cid, 1) ON CONFLICT(cid) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER alerts_count_update AFTER UPDATE OF cid ON alerts WHEN old.cid <> new.cid BEGIN
	UPDATE alert_counts SET n = n - 1 WHERE cid = old.cid;
	DELETE FROM alert_counts WHERE cid = old.cid AND n = 0;
	INSERT INTO alert_counts(cid, n) VALUES (new.cid, 1) ON CONFLICT(cid) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER alerts_count_delete AFTER DELETE ON alerts BEGIN
	UPDATE alert_counts SET n = n - 1 WHERE cid = old.cid;
	DELETE FROM alert_counts WHERE cid = old.cid AND n = 0;
END;
