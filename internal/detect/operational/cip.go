package operational

import (
	"strconv"

	"github.com/otwatch/otwatch/internal/detect"
	"github.com/otwatch/otwatch/internal/dissect"
)

// CIP services and classes the engine looks for (ODVA, The CIP Networks
// Library Volume 1, appendix A and chapter 5).
const (
	cipReset            = 0x05
	cipStart            = 0x06
	cipStop             = 0x07
	cipExecutePCCC      = 0x4b
	cipInitiateDownload = 0x4c // File object
	cipDownloadTransfer = 0x50 // File object
	cipClassFile        = 0x37
)

// cip raises the CIP types from explicit messages: Reset of the identity
// object, firmware and file downloads, and operating mode changes.
func (e *engine) cip(d *detect.Detector, op *dissect.Operation) {
	switch op.Class {
	case dissect.ClassRestart:
		if op.FunctionCode == cipReset {
			f := finding(CIPReset, op, refusal(op))
			f.Details = resultDetails(op)
			d.Raise(f)
		}
	case dissect.ClassFirmware:
		f := finding(CIPFirmwareUpdate, op, op.FunctionName+" on the non-volatile storage object")
		f.Details = resultDetails(op)
		d.Raise(f)
	case dissect.ClassFile:
		if op.FunctionCode != cipInitiateDownload && op.FunctionCode != cipDownloadTransfer {
			return
		}
		inst, ok := fileInstance(op)
		if !ok {
			return
		}
		f := finding(CIPFirmwareUpdate, op, "download to File object instance "+strconv.FormatUint(uint64(inst), 10))
		f.Details = append(resultDetails(op), dissect.Attr{Key: "function", Value: op.FunctionName})
		d.Raise(f)
	case dissect.ClassControl:
		var what string
		switch {
		case op.FunctionCode == cipStart, op.FunctionCode == cipStop:
			what = "a Start service"
			if op.FunctionCode == cipStop {
				what = "a Stop service"
			}
			if c, ok := target(op, "class"); ok && c.Name != "" {
				what += " for the " + c.Name + " object"
			}
		case op.FunctionCode == cipExecutePCCC && op.Attr("pccc_command") != "":
			what = "a PCCC CPU mode change (command " + op.Attr("pccc_command") + ", function " + op.Attr("pccc_function") + ")"
		default:
			return
		}
		f := finding(CIPModeChange, op, what)
		f.Details = resultDetails(op)
		d.Raise(f)
	}
}

// fileInstance returns the File object instance a request addresses, and
// whether the request addresses the File object at all.
func fileInstance(op *dissect.Operation) (uint32, bool) {
	c, ok := target(op, "class")
	if !ok || c.Address != cipClassFile {
		return 0, false
	}
	i, _ := target(op, "instance")
	return i.Address, true
}

// target returns op's first target of the given kind.
func target(op *dissect.Operation, kind string) (dissect.Target, bool) {
	for _, t := range op.Targets {
		if t.Kind == kind {
			return t, true
		}
	}
	return dissect.Target{}, false
}
