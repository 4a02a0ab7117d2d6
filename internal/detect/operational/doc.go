// Package operational is the Operational engine: what engineers, masters
// and devices do that changes how the process runs, whether planned or
// not. Its alerts are raised while the sensor learns as well as after.
//
// From single operations:
//
//   - s7comm.plc_stop, s7comm.plc_start: S7comm PLC Stop jobs (0x29) and
//     PLC Control P_PROGRAM (warm, hot or cold restart);
//   - s7comm.program_upload, s7comm.program_download: block uploads, and
//     block downloads, inserts, deletes and copies to ROM;
//   - s7comm.time_set: userdata Set Clock;
//   - cip.reset: Reset of the CIP Identity object;
//   - cip.firmware_update: downloads to the File object, and any service on
//     Rockwell's non-volatile storage object (ControlFLASH);
//   - cip.mode_change: CIP Start and Stop services, PCCC CPU mode changes;
//   - dnp3.cold_restart, dnp3.warm_restart, dnp3.stop_application,
//     dnp3.unsolicited_disabled: DNP3 functions 13, 14, 18 and 21;
//   - dnp3.time_set: a write of the time (group 50) while the outstation's
//     last response did not ask for it (IIN1.4 NEED_TIME clear);
//   - dnp3.outstation_restarted: IIN1.7 DEVICE_RESTART set after it was
//     seen clear, with no restart requested in the five minutes before.
//
// From rates, with zone-tunable thresholds:
//
//   - modbus.exception_burst: exception responses of one server to one
//     client within a window (20 in a minute);
//   - device.not_responding: requests that a server which answered before
//     leaves unanswered on one client/server/port channel within a window
//     (8 in 5 minutes); an answer clears the count. Unanswered requests
//     are those the dissectors report without a response (they do so after
//     a timeout, a reused slot or at close) and connection attempts that
//     got no answer, counted once a second at most.
//
// A command the device refused is still alerted: the attempt matters, and
// the result is in the alert's details. State is bounded per table and
// dropped when idle; benign operations cost no allocation.
package operational
