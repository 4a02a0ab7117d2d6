package operational

import (
	"time"

	"github.com/otwatch/otwatch/internal/alert"
)

// Categories of the operational alert types.
const (
	catRestartStop  = "Restart/Stop command"
	catProgramming  = "PLC programming"
	catFirmware     = "Firmware change"
	catConfig       = "Configuration changes"
	catFailures     = "Operation failures"
	catUnresponsive = "Unresponsive"
)

// Siemens S7comm.
var (
	// S7PLCStop is a PLC Stop job (function 0x29) sent to a Siemens CPU.
	S7PLCStop = &alert.Type{
		ID: "s7comm.plc_stop", Engine: alert.Operational, Name: "S7 PLC stop command",
		Title:       "S7 PLC STOP sent by {src} to {dst}",
		Description: "{src} sent a PLC Stop job to Siemens controller {dst}.{detail} A CPU in STOP no longer runs its program: the outputs it drives fall to their safe state and the process it controls halts. Engineers stop a CPU for maintenance; an attacker stops it to halt production or to download a modified program.",
		Severity:    alert.High, Category: catRestartStop, Protocol: "s7comm",
		Techniques: []string{"T0858", "T0881", "T0813"},
		Remediation: []string{
			"Confirm with the operators and the automation engineers whether {dst} was stopped on purpose, and by whom at {src}.",
			"If the stop was not planned, check the state of the process, restart the CPU from the engineering station and compare its program with the approved project.",
			"Set the CPU's protection level (access password, or the key switch in RUN) so that only authorised stations can stop it.",
		},
	}
	// S7PLCStart is a PLC Control job (PI service P_PROGRAM) that starts a
	// Siemens CPU.
	S7PLCStart = &alert.Type{
		ID: "s7comm.plc_start", Engine: alert.Operational, Name: "S7 PLC start command",
		Title:       "S7 PLC START ({detail}) sent by {src} to {dst}",
		Description: "{src} started Siemens controller {dst} over S7comm (PI service P_PROGRAM, {detail}). A start switches the CPU from STOP to RUN: its program begins driving the process again; a cold restart also resets the data blocks to their initial values.",
		Severity:    alert.Medium, Category: catRestartStop, Protocol: "s7comm",
		Techniques: []string{"T0858", "T0816"},
		Remediation: []string{
			"Confirm with the operators that {dst} was meant to be started, and that the process was ready for it.",
			"Look in the event timeline for the stop and any program change that came before the start.",
			"Restrict which stations may change the CPU's operating mode (protection level, key switch).",
		},
	}
	// S7ProgramUpload is a block upload (start_upload, upload, end_upload)
	// from a Siemens CPU.
	S7ProgramUpload = &alert.Type{
		ID: "s7comm.program_upload", Engine: alert.Operational, Name: "S7 program upload",
		Title:       "{src} uploaded program blocks from {dst} ({detail})",
		Description: "{src} read program blocks ({detail}) out of Siemens controller {dst} over S7comm. Engineering stations upload blocks to back up or compare a project; an attacker uploads them to learn how the process is controlled before changing it.",
		Severity:    alert.Low, Category: catProgramming, Protocol: "s7comm",
		Techniques: []string{"T0845", "T0882"},
		Remediation: []string{
			"Confirm that {src} is an engineering station and that an engineer uploaded the program on purpose.",
			"If it was not planned, examine {src} for remote access or malware.",
			"Protect the CPU with a read/write password (protection level 2 or 3) so that blocks cannot be read without it.",
		},
		Learnable: true,
	}
	// S7ProgramDownload is a download or change of program blocks in a
	// Siemens CPU: request_download, download_block, download_ended and the
	// PI services that insert, delete or copy blocks.
	S7ProgramDownload = &alert.Type{
		ID: "s7comm.program_download", Engine: alert.Operational, Name: "S7 program download",
		Title:       "{src} changed the program of {dst} ({detail})",
		Description: "{src} downloaded or changed program blocks ({detail}) in Siemens controller {dst} over S7comm. A program change alters what the controller does with the process; unplanned, it is how an attacker makes the process misbehave while the operators' screens look normal.",
		Severity:    alert.High, Category: catProgramming, Protocol: "s7comm",
		Techniques: []string{"T0843", "T0889", "T0821"},
		Remediation: []string{
			"Confirm with the automation engineers that the change to {dst} was planned and made from {src}.",
			"Compare the controller's blocks with the approved project (online/offline comparison) and restore them if they differ.",
			"Set a write password on the CPU and allow programming only from the engineering station.",
		},
	}
	// S7TimeSet is a Set Clock userdata request to a Siemens CPU.
	S7TimeSet = &alert.Type{
		ID: "s7comm.time_set", Engine: alert.Operational, Name: "S7 PLC clock set",
		Title:       "{src} set the clock of {dst}",
		Description: "{src} set the real-time clock of Siemens controller {dst} over S7comm (userdata time functions, set clock).{detail} The controller time stamps its diagnostic buffer and alarms with it, and programs may act at times of day: a wrong clock hides the order of events and can shift scheduled actions.",
		Severity:    alert.Medium, Category: catConfig, Protocol: "s7comm",
		Techniques: []string{"T0836"},
		Remediation: []string{
			"Confirm that {src} is meant to synchronise the controller's clock (a time server or the engineering station).",
			"Check the controller's clock against the plant's time source.",
			"Prefer NTP from a trusted time server over manual clock setting.",
		},
		Learnable: true,
	}
)

// Rockwell and other CIP devices over EtherNet/IP.
var (
	// CIPReset is a Reset service (0x05) sent to the Identity object.
	CIPReset = &alert.Type{
		ID: "cip.reset", Engine: alert.Operational, Name: "CIP device reset",
		Title:       "{src} reset {dst} over CIP",
		Description: "{src} sent a Reset service to the Identity object of {dst} over EtherNet/IP.{detail} The device restarts as if power-cycled (or returns to its factory defaults, for reset type 1): it stops controlling and communicating until it is back.",
		Severity:    alert.Medium, Category: catRestartStop, Protocol: "enip",
		Techniques: []string{"T0816", "T0814"},
		Remediation: []string{
			"Confirm with the operators whether {dst} was reset on purpose from {src}.",
			"Check that {dst} came back with its configuration and program, and that the process recovered.",
			"Restrict which hosts may send CIP explicit messages to the device (firewall, CIP Security).",
		},
	}
	// CIPFirmwareUpdate is a firmware download: a file written to the File
	// object, or any service on Rockwell's non-volatile storage object.
	CIPFirmwareUpdate = &alert.Type{
		ID: "cip.firmware_update", Engine: alert.Operational, Name: "CIP firmware update",
		Title:       "{src} wrote firmware to {dst} over CIP ({detail})",
		Description: "{src} transferred a firmware or file image to {dst} over EtherNet/IP ({detail}). New firmware replaces the software the device runs; if it is not the vendor's, it can change the device's behaviour in ways no program comparison reveals.",
		Severity:    alert.High, Category: catFirmware, Protocol: "enip",
		Techniques: []string{"T0857", "T0839"},
		Remediation: []string{
			"Confirm with the automation engineers that a firmware update of {dst} was planned and made from {src}.",
			"Check the firmware revision the device reports against the vendor's release and its signature.",
			"Allow firmware updates only from the engineering station, and keep the controller's key switch in RUN outside maintenance.",
		},
	}
	// CIPModeChange is a Start or Stop service, or a PCCC change of CPU
	// mode, sent to a CIP device.
	CIPModeChange = &alert.Type{
		ID: "cip.mode_change", Engine: alert.Operational, Name: "CIP controller mode change",
		Title:       "{src} changed the operating mode of {dst} over CIP ({detail})",
		Description: "{src} sent {detail} to {dst} over EtherNet/IP. Changing a controller's mode (run, program, remote) starts or stops the program that drives the process and opens the controller to program changes.",
		Severity:    alert.High, Category: catRestartStop, Protocol: "enip",
		Techniques: []string{"T0858"},
		Remediation: []string{
			"Confirm with the operators whether the mode of {dst} was changed on purpose from {src}.",
			"Check the controller's mode and the state of the process.",
			"Keep the controller's key switch in RUN outside maintenance so that its mode cannot be changed over the network.",
		},
	}
)

// DNP3.
var (
	// DNP3ColdRestart is a Cold Restart request (function 13).
	DNP3ColdRestart = &alert.Type{
		ID: "dnp3.cold_restart", Engine: alert.Operational, Name: "DNP3 cold restart",
		Title:       "DNP3 cold restart of {dst} requested by {src}",
		Description: "{src} asked outstation {dst} for a cold restart (DNP3 function 13).{detail} The outstation reboots completely: it stops reporting and executing commands until it is back, and loses its event buffers.",
		Severity:    alert.High, Category: catRestartStop, Protocol: "dnp3",
		Techniques: []string{"T0816", "T0814"},
		Remediation: []string{
			"Confirm with the SCADA operators whether the restart of {dst} was requested on purpose.",
			"Check that {dst} came back and that the master resynchronised its data (integrity poll).",
			"Allow restart functions only from the SCADA master; enable DNP3 Secure Authentication for critical functions.",
		},
	}
	// DNP3WarmRestart is a Warm Restart request (function 14).
	DNP3WarmRestart = &alert.Type{
		ID: "dnp3.warm_restart", Engine: alert.Operational, Name: "DNP3 warm restart",
		Title:       "DNP3 warm restart of {dst} requested by {src}",
		Description: "{src} asked outstation {dst} for a warm restart (DNP3 function 14).{detail} The outstation restarts its DNP3 application and may reset part of its configuration: it stops reporting while it restarts.",
		Severity:    alert.Medium, Category: catRestartStop, Protocol: "dnp3",
		Techniques: []string{"T0816"},
		Remediation: []string{
			"Confirm with the SCADA operators whether the restart of {dst} was requested on purpose.",
			"Check that {dst} answers again and reports its data.",
			"Allow restart functions only from the SCADA master; enable DNP3 Secure Authentication for critical functions.",
		},
	}
	// DNP3StopApplication is a Stop Application request (function 18).
	DNP3StopApplication = &alert.Type{
		ID: "dnp3.stop_application", Engine: alert.Operational, Name: "DNP3 stop application",
		Title:       "{src} stopped an application on outstation {dst}",
		Description: "{src} sent a Stop Application request (DNP3 function 18) to outstation {dst}.{detail} The application named (or all of them) stops running in the outstation until it is started again.",
		Severity:    alert.High, Category: catRestartStop, Protocol: "dnp3",
		Techniques: []string{"T0881", "T0813"},
		Remediation: []string{
			"Confirm with the SCADA operators whether the application on {dst} was stopped on purpose.",
			"Restart the application and check that {dst} reports its data again.",
			"Allow application control functions only from the SCADA master.",
		},
	}
	// DNP3TimeSet is a write of the outstation's clock (group 50) that the
	// outstation did not ask for.
	DNP3TimeSet = &alert.Type{
		ID: "dnp3.time_set", Engine: alert.Operational, Name: "DNP3 unrequested time set",
		Title:       "{src} set the clock of outstation {dst} unrequested",
		Description: "{src} wrote the time of outstation {dst} (DNP3 write of group 50) while the outstation did not ask for it (internal indication NEED_TIME clear).{detail} Masters set the time when the outstation asks; an unrequested time change shifts the time stamps of every event the outstation reports.",
		Severity:    alert.Medium, Category: catConfig, Protocol: "dnp3",
		Techniques: []string{"T0836"},
		Remediation: []string{
			"Confirm that {src} is the master that synchronises {dst}, and whether it sets the time periodically.",
			"Check the time of {dst} against the plant's time source.",
			"If the master sets the time on a schedule, learn this alert.",
		},
		Learnable: true,
	}
	// DNP3UnsolicitedDisabled is a Disable Unsolicited Responses request
	// (function 21).
	DNP3UnsolicitedDisabled = &alert.Type{
		ID: "dnp3.unsolicited_disabled", Engine: alert.Operational, Name: "DNP3 unsolicited responses disabled",
		Title:       "{src} disabled unsolicited responses of {dst} ({detail})",
		Description: "{src} told outstation {dst} to stop sending unsolicited responses for {detail} (DNP3 function 21). Events then reach the master only when it polls: alarms arrive late, or not at all if the master does not poll them.",
		Severity:    alert.Medium, Category: catConfig, Protocol: "dnp3",
		Techniques: []string{"T0804", "T0815"},
		Remediation: []string{
			"Confirm that {src} is the SCADA master of {dst} and why it disabled unsolicited reporting.",
			"Check that the master enables unsolicited responses again or polls the event classes.",
			"If the master disables unsolicited responses in its start-up sequence, learn this alert.",
		},
		Learnable: true,
	}
	// DNP3OutstationRestarted is an outstation reporting that it restarted
	// (IIN1.7) when no restart was asked of it.
	DNP3OutstationRestarted = &alert.Type{
		ID: "dnp3.outstation_restarted", Engine: alert.Operational, Name: "DNP3 outstation restarted",
		Title:       "Outstation {dst} restarted (reported to {src})",
		Description: "Outstation {dst} set its DEVICE_RESTART internal indication (IIN1.7) in a response to {src} after having cleared it, and no restart was requested over DNP3 in the minutes before. It restarted on its own: a power loss, a watchdog reset, a crash or someone on site. Its events from before the restart may be lost.",
		Severity:    alert.Medium, Category: catRestartStop, Protocol: "dnp3",
		Techniques: []string{"T0816"},
		Remediation: []string{
			"Ask the field technicians whether {dst} was restarted or lost power.",
			"Check the outstation's logs and power supply; repeated restarts point to a fault or an attack.",
			"Make sure the master ran an integrity poll after the restart.",
		},
	}
)

// Modbus and any request/response protocol.
var (
	// ModbusExceptionBurst is a burst of exception responses from one
	// Modbus server to one client.
	ModbusExceptionBurst = &alert.Type{
		ID: "modbus.exception_burst", Engine: alert.Operational, Name: "Burst of Modbus exceptions",
		Title:       "{dst} answered {src} with {detail} Modbus exceptions",
		Description: "Modbus server {dst} answered {detail} requests of {src} with exception responses within the window. A client that keeps asking for what the server does not have is misconfigured, is probing the device (function codes, addresses), or the server is failing (busy, device failure).",
		Severity:    alert.Medium, Category: catFailures, Protocol: "modbus",
		Techniques: []string{"T0806", "T0814"},
		Remediation: []string{
			"Look at the exception codes and the requests in the evidence: which functions and addresses fail.",
			"If {src} is an HMI or historian with a wrong tag configuration, correct it; otherwise find out who runs {src}.",
			"If the server reports device failure or busy, check {dst} on site.",
		},
		Learnable: true,
		Threshold: alert.Threshold{Count: 20, Window: time.Minute},
	}
	// DeviceNotResponding is a server that used to answer and stopped
	// answering a client's requests.
	DeviceNotResponding = &alert.Type{
		ID: "device.not_responding", Engine: alert.Operational, Name: "Device is not responding",
		Title:       "{dst} stopped answering {src} over {protocol}",
		Description: "{dst} answered {src} over {protocol} before, and then left {detail} requests unanswered within the window. The device (or its {protocol} service) is suspected to be disconnected, hung or overloaded; the operators lose view and control of what it runs.",
		Severity:    alert.Medium, Category: catUnresponsive,
		Techniques: []string{"T0881", "T0814"},
		Remediation: []string{
			"Check whether {dst} is powered, connected and running (on site, or from its switch port).",
			"Look in the event timeline for a restart, a stop or a configuration change of {dst} just before.",
			"If the device is overloaded, look for a client flooding it with requests.",
		},
		Threshold: alert.Threshold{Count: 8, Window: 5 * time.Minute},
	}
)

// types lists every alert type of the engine, for registration.
var types = []*alert.Type{
	S7PLCStop, S7PLCStart, S7ProgramUpload, S7ProgramDownload, S7TimeSet,
	CIPReset, CIPFirmwareUpdate, CIPModeChange,
	DNP3ColdRestart, DNP3WarmRestart, DNP3StopApplication, DNP3TimeSet, DNP3UnsolicitedDisabled, DNP3OutstationRestarted,
	ModbusExceptionBurst, DeviceNotResponding,
	BACnetDCCDisable,
}
