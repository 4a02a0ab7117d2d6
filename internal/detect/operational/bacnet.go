package operational

import (
	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/detect"
	"github.com/otwatch/otwatch/internal/dissect"
)

// BACnetDCCDisable is a DeviceCommunicationControl request (ASHRAE 135
// clause 16.1) that disables a device's communication.
var BACnetDCCDisable = &alert.Type{
	ID: "bacnet.dcc_disable", Engine: alert.Operational, Name: "BACnet device communication disabled",
	Title:       "{src} disabled the communication of BACnet device {dst}",
	Description: "{src} sent DeviceCommunicationControl ({detail}) to {dst}. A device told to stop communicating no longer answers its building management system nor reports alarms, while it keeps running its control loops unseen: technicians use it during commissioning, attackers to blind operators.",
	Severity:    alert.High, Category: catConfig, Protocol: "bacnet",
	Techniques: []string{"T0803", "T0804", "T0814"},
	Remediation: []string{
		"Confirm with the building's facility team whether {dst} was silenced on purpose; if not, re-enable it (DeviceCommunicationControl enable) from the BMS.",
		"Set or change the device's DeviceCommunicationControl password so that only the BMS can use the service.",
		"Restrict which hosts may reach the building network's BACnet port.",
	},
}

// bacnet raises DeviceCommunicationControl requests that disable.
func (e *engine) bacnet(d *detect.Detector, op *dissect.Operation) {
	if op.FunctionName != "device_communication_control" || !op.Request {
		return
	}
	switch v := op.Attr("enable_disable"); v {
	case "disable", "disable_initiation":
		d.Raise(detect.Finding{Type: BACnetDCCDisable, Protocol: "bacnet", Source: detect.Party(op.Client),
			Destination: detect.Party(op.Server), Detail: v, Op: op})
	}
}
