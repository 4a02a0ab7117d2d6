-- Version 5: a counter row of alert_counts exists only while its
-- combination and status have alerts: the triggers delete the rows whose
-- count they bring to zero (rows they have just locked), and the zero rows
-- left by earlier versions go.

CREATE OR REPLACE FUNCTION alert_counts_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO alert_counts AS c (combo, status, n)
	SELECT combo, status, sum(d) FROM (
		SELECT combo, status, 1 AS d FROM new_rows
		UNION ALL
		SELECT combo, status, -1 FROM old_rows
	) x GROUP BY combo, status HAVING sum(d) <> 0 ORDER BY combo, status
	ON CONFLICT (combo, status) DO UPDATE SET n = c.n + excluded.n;
	DELETE FROM alert_counts c USING (SELECT DISTINCT combo, status FROM old_rows) x
	WHERE c.combo = x.combo AND c.status = x.status AND c.n = 0;
	RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION alert_counts_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	UPDATE alert_counts c SET n = c.n - x.n
	FROM (SELECT combo, status, count(*) AS n FROM old_rows GROUP BY combo, status ORDER BY combo, status) x
	WHERE c.combo = x.combo AND c.status = x.status;
	DELETE FROM alert_counts c USING (SELECT DISTINCT combo, status FROM old_rows) x
	WHERE c.combo = x.combo AND c.status = x.status AND c.n = 0;
	RETURN NULL;
END $$;

DELETE FROM alert_counts WHERE n = 0;
