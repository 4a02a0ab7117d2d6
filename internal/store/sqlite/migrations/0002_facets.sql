-- Version 2: every alert refers to its combination of the facet
-- dimensions (cid), and alert_counts counts the alerts of each
-- combination, kept current by triggers in the same transaction as every
-- alert change. Facet counts then need no scan of the alerts, and the
-- counts that do need one (a device, a time range) group by one integer
-- read from an index alone.

CREATE TABLE alert_counts (
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
	n        INTEGER NOT NULL,
	UNIQUE (sensor, site, zone, type, category, protocol, severity, status, engine)
);

INSERT INTO alert_counts(sensor, site, zone, type, category, protocol, severity, status, engine, n)
SELECT sensor, site, zone, type, category, protocol, severity, status, engine, count(*)
FROM alerts GROUP BY sensor, site, zone, type, category, protocol, severity, status, engine;

ALTER TABLE alerts ADD COLUMN cid INTEGER NOT NULL DEFAULT 0;

UPDATE alerts SET cid = (SELECT c.cid FROM alert_counts c WHERE c.sensor = alerts.sensor AND c.site = alerts.site
	AND c.zone = alerts.zone AND c.type = alerts.type AND c.category = alerts.category AND c.protocol = alerts.protocol
	AND c.severity = alerts.severity AND c.status = alerts.status AND c.engine = alerts.engine);

-- Indexes that also hold the combination, so that filtering and counting
-- read the index alone; alerts_combo finds the alerts of rare
-- combinations hour by hour.
DROP INDEX alerts_last;
DROP INDEX alerts_first;
DROP INDEX alerts_severity;
DROP INDEX alerts_sensor;
DROP INDEX alerts_type;
DROP INDEX alerts_src;
DROP INDEX alerts_dst;
CREATE INDEX alerts_last     ON alerts(last_ns, cid);
CREATE INDEX alerts_first    ON alerts(first_ns, cid);
CREATE INDEX alerts_severity ON alerts(severity, last_ns, cid);
CREATE INDEX alerts_combo    ON alerts(last_ns / 3600000000000, cid, last_ns);
CREATE INDEX alerts_src      ON alerts(last_ns / 3600000000000, src, last_ns, cid, dst);
CREATE INDEX alerts_dst      ON alerts(last_ns / 3600000000000, dst, last_ns, cid, src);

CREATE TRIGGER alerts_count_insert AFTER INSERT ON alerts BEGIN
	UPDATE alert_counts SET n = n + 1 WHERE cid = new.cid;
END;

CREATE TRIGGER alerts_count_update AFTER UPDATE OF cid ON alerts WHEN old.cid <> new.cid BEGIN
	UPDATE alert_counts SET n = n - 1 WHERE cid = old.cid;
	UPDATE alert_counts SET n = n + 1 WHERE cid = new.cid;
END;

CREATE TRIGGER alerts_count_delete AFTER DELETE ON alerts BEGIN
	UPDATE alert_counts SET n = n - 1 WHERE cid = old.cid;
END;
