-- Version 4: device IDs that outlive a sensor's run.
--
-- A sensor's inventory numbers its devices in the order it finds them, so
-- the store keeps its own ID for each device, by the device's stable key
-- (its MAC, else its routed address, else its first IP: see
-- inventory.Device.Key), and devices and connections are stored under
-- those IDs. device_seq holds the last ID given out per sensor, so that no
-- ID is ever given twice; its row is locked while IDs are given out.
CREATE TABLE device_keys (
	sensor text NOT NULL,
	key    text NOT NULL,
	id     int8 NOT NULL,
	PRIMARY KEY (sensor, key)
);
CREATE UNIQUE INDEX device_keys_id ON device_keys (sensor, id);

CREATE TABLE device_seq (
	sensor text PRIMARY KEY,
	last   int8 NOT NULL
);

-- Devices stored before keep their IDs. Where a key was stored under
-- several IDs (a sensor restarted and numbered its devices anew), the
-- record of the device seen last keeps it.
INSERT INTO device_seq SELECT sensor, max(id) FROM devices GROUP BY sensor;
INSERT INTO device_keys
SELECT DISTINCT ON (sensor, key) sensor, key, id FROM (
	SELECT sensor, id, last_ns,
		coalesce(nullif(j ->> 'mac', ''), nullif(j ->> 'address', ''), nullif(j -> 'ips' ->> 0, ''), 'device:' || id) AS key
	FROM (SELECT sensor, id, last_ns, convert_from(doc, 'UTF8')::json AS j FROM devices) AS d
) AS k
ORDER BY sensor, key, last_ns DESC, id;
