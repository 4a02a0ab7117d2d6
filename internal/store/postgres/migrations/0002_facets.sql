-- Version 2: alert counts per facet combination and status, kept current
-- by statement-level triggers in the same transaction as every alert
-- change, so that facet counts of a query on the facet dimensions alone
-- need no scan of the alerts. The triggers aggregate a whole statement's
-- rows (transition tables) and apply the changes in key order, so that
-- concurrent writers take the counter rows' locks in the same order.

CREATE TABLE alert_counts (
	combo  int4 NOT NULL,
	status int2 NOT NULL,
	n      int8 NOT NULL,
	PRIMARY KEY (combo, status)
);

INSERT INTO alert_counts SELECT combo, status, count(*) FROM alerts GROUP BY combo, status;

CREATE FUNCTION alert_counts_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO alert_counts AS c (combo, status, n)
	SELECT combo, status, count(*) FROM new_rows GROUP BY combo, status ORDER BY combo, status
	ON CONFLICT (combo, status) DO UPDATE SET n = c.n + excluded.n;
	RETURN NULL;
END $$;

CREATE FUNCTION alert_counts_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO alert_counts AS c (combo, status, n)
	SELECT combo, status, sum(d) FROM (
		SELECT combo, status, 1 AS d FROM new_rows
		UNION ALL
		SELECT combo, status, -1 FROM old_rows
	) x GROUP BY combo, status HAVING sum(d) <> 0 ORDER BY combo, status
	ON CONFLICT (combo, status) DO UPDATE SET n = c.n + excluded.n;
	RETURN NULL;
END $$;

CREATE FUNCTION alert_counts_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	UPDATE alert_counts c SET n = c.n - x.n
	FROM (SELECT combo, status, count(*) AS n FROM old_rows GROUP BY combo, status ORDER BY combo, status) x
	WHERE c.combo = x.combo AND c.status = x.status;
	RETURN NULL;
END $$;

CREATE TRIGGER alerts_count_insert AFTER INSERT ON alerts
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION alert_counts_insert();
CREATE TRIGGER alerts_count_update AFTER UPDATE ON alerts
	REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION alert_counts_update();
CREATE TRIGGER alerts_count_delete AFTER DELETE ON alerts
	REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION alert_counts_delete();
