package operational

import (
	"strings"

	"github.com/otwatch/otwatch/internal/detect"
	"github.com/otwatch/otwatch/internal/dissect"
)

// s7 raises the S7comm types: stop, start, upload, program changes and
// clock setting. Whether the CPU accepted the job or refused it, the
// attempt is alerted; the result is in the details.
func (e *engine) s7(d *detect.Detector, op *dissect.Operation) {
	switch op.FunctionName {
	case "read_var", "write_var", "read_szl", "setup_communication":
		return // the bulk of S7 traffic
	case "plc_stop":
		f := finding(S7PLCStop, op, refusal(op))
		f.Details = resultDetails(op)
		d.Raise(f)
	case "plc_start":
		f := finding(S7PLCStart, op, startMode(op.Attr("start_mode")))
		f.Details = resultDetails(op)
		d.Raise(f)
	case "start_upload", "upload", "end_upload":
		f := finding(S7ProgramUpload, op, blocks(op))
		f.Details = resultDetails(op)
		d.Raise(f)
	case "set_clock":
		f := finding(S7TimeSet, op, refusal(op))
		f.Details = resultDetails(op)
		d.Raise(f)
	default:
		if op.Class == dissect.ClassProgram {
			f := finding(S7ProgramDownload, op, blocks(op))
			f.Details = append(resultDetails(op), dissect.Attr{Key: "function", Value: op.FunctionName})
			d.Raise(f)
		}
	}
}

// startMode names a start_mode attribute of plc_start for an alert.
func startMode(m string) string {
	switch m {
	case "cold", "warm", "hot":
		return m + " restart"
	}
	return "start"
}

// blocks names the blocks an operation targets ("OB1, FC12"), or says
// that the operation named none.
func blocks(op *dissect.Operation) string {
	var names []string
	for _, t := range op.Targets {
		if t.Kind == "block" && t.Name != "" {
			names = append(names, t.Name)
		}
	}
	if len(names) == 0 {
		return "blocks not named"
	}
	return strings.Join(names, ", ")
}
