-- Version 4: device IDs that outlive a sensor's run.
--
-- A sensor's inventory numbers its devices in the order it finds them, so
-- the store keeps its own ID for each device, by the device's stable key
-- (its MAC, else its routed address, else its first IP: see
-- inventory.Device.Key), and devices and connections are stored under
-- those IDs. device_seq holds the last ID given out per sensor, so that no
-- ID is ever given twice.
CREATE TABLE device_keys (
	sensor TEXT NOT NULL,
	key    TEXT NOT NULL,
	id     INTEGER NOT NULL,
	PRIMARY KEY (sensor, key)
) WITHOUT ROWID;
CREATE UNIQUE INDEX device_keys_id ON device_keys(sensor, id);

CREATE TABLE device_seq (
	sensor TEXT PRIMARY KEY,
	last   INTEGER NOT NULL
) WITHOUT ROWID;

-- Devices stored before keep their IDs. Where a key was stored under
-- several IDs (a sensor restarted and numbered its devices anew), the
-- record of the device seen last keeps it.
INSERT INTO device_seq SELECT sensor, max(id) FROM devices GROUP BY sensor;
INSERT INTO device_keys
SELECT sensor, key, id FROM (
	SELECT sensor, key, id, row_number() OVER (PARTITION BY sensor, key ORDER BY last_ns DESC, id) AS n
	FROM (
		SELECT sensor, id, last_ns,
			coalesce(nullif(json_extract(j, '$.mac'), ''), nullif(json_extract(j, '$.address'), ''),
				nullif(json_extract(j, '$.ips[0]'), ''), 'device:' || id) AS key
		FROM (SELECT sensor, id, last_ns, CAST(doc AS TEXT) AS j FROM devices)
	)
) WHERE n = 1;
