// Package recommend turns what is known about a device into concrete
// actions a person can take, each with a status they can set, and ranks
// devices by risk.
//
// # Recommendations
//
// A Recommendation comes from one of two sources.
//
// From vendor advisories (Source "advisory"), for each csaf.Match of the
// device: an affected device gets the vendor fix (KindUpdate, with the
// fixed versions and the URL the remediation names) and the advisory's
// mitigations and workarounds (KindMitigate; when the advisory says no fix
// is available or planned, the mitigations are all there is). A device
// that is only possibly affected gets KindConfirm: confirm the firmware
// version (or the model) before acting.
//
// From what the sensor saw (Source "observed"), read from the inventory
// snapshot (services, facts, connections) and the alerts:
//
//   - KindInsecureProtocol: the device serves Telnet, FTP, SNMP v1 or
//     v2c, or (an OT device) plain HTTP.
//   - KindCleartextCredentials: passwords were sent to it in clear
//     (malware.cleartext_credentials alerts, FactCleartextCredentials).
//   - KindRemoteAccess: remote sessions into an OT device
//     (malware.remote_access alerts; VNC, RDP or SSH served and used).
//   - KindInternet: an OT device exchanged traffic with a public internet
//     address (connections, policy.internet_access alerts).
//   - KindOutdatedFirmware: the device runs older firmware than another
//     device of the same vendor and model.
//   - KindPLCMode: a controller was left in a mode other than RUN (S7
//     STOP, FINS PROGRAM or MONITOR), or its mode was changed remotely
//     and the final mode was not seen.
//   - KindPLCProgramming: a controller accepted program operations over
//     the network.
//   - KindITOTCrossing: an IT host reached the device's industrial
//     services (policy.it_ot_crossing alerts, connections from IT hosts).
//
// Some of this is carried by operations the snapshot does not keep (the
// SNMP version, the operating mode a PLC was put in): an Observer collects
// it from the operations and Annotate adds it to the snapshot as facts.
//
// Every Recommendation has a stable ID made from the device's MAC (or
// address), its Kind and its key (an advisory, a protocol), so that the
// same finding keeps its ID, and its status, from one analysis to the
// next. Status changes are pure: Transition validates and returns the
// changed value; storing and auditing it is the caller's.
//
// # Risk
//
// DeviceRisk scores a device from 0 to 10: csaf.Risk of its advisory
// matches, with the exposure the inventory shows (internet peers, remote
// access, IT connections, device type and Purdue level), raised by what
// the sensor saw; see DeviceRisk for the formula. RankDevices assesses
// every device of a snapshot and sorts them by that score.
//
// An Index prepares a large snapshot for assessing its devices one by one
// (a console showing thousands of them): it gives the same results as the
// functions, reading only each device's neighbourhood.
package recommend
