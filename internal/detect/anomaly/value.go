package anomaly

import (
	"strconv"

	"github.com/otwatch/otwatch/internal/baseline"
	"github.com/otwatch/otwatch/internal/detect"
	"github.com/otwatch/otwatch/internal/dissect"
)

// Modbus write functions whose values the dissector reports (MODBUS
// Application Protocol Specification V1.1b3, sections 6.6, 6.12, 6.17).
const (
	fcWriteSingleRegister    = 6
	fcWriteMultipleRegisters = 16
	fcReadWriteRegisters     = 23
)

// valueMargin is the share of the largest learned magnitude by which a
// value may leave its learned range before it is alerted; the learned
// span, if wider, is the margin instead. A setpoint learned between 600
// and 700 may be written from 250 to 1050.
const valueMargin = 0.5

// ValueEntry is the baseline entry of the values written to a holding
// register of a Modbus server (by any client).
func ValueEntry(op *dissect.Operation, unit uint8, register uint32) baseline.Entry {
	return baseline.Entry{Kind: baseline.KindValue, Server: op.Server.IP, Protocol: "modbus",
		Target: unitTargets[unit] + "/holding_register:" + strconv.FormatUint(uint64(register), 10)}
}

// modbusValues learns the values written to each holding register while
// learning, and raises a value written outside its learned range
// afterwards. Registers written no value while learning have no range.
func (e *engine) modbusValues(d *detect.Detector, op *dissect.Operation) {
	var (
		target dissect.Target
		values string
	)
	switch op.FunctionCode {
	case fcWriteSingleRegister:
		values = op.Attr("value")
		if len(op.Targets) > 0 {
			target = op.Targets[0]
		}
	case fcWriteMultipleRegisters:
		values = op.Attr("values")
		if len(op.Targets) > 0 {
			target = op.Targets[0]
		}
	case fcReadWriteRegisters:
		values = op.Attr("values")
		if len(op.Targets) > 1 {
			target = op.Targets[1]
		}
	default:
		return
	}
	if values == "" || target.Kind != "holding_register" {
		return
	}
	unit, ok := parseUint8(op.Attr("unit_id"))
	if !ok {
		return
	}
	learning := e.learningOp(d, op)
	if learning && op.Result.Status == dissect.StatusError {
		return // the server refused the value: it is not one the process uses
	}
	reg := target.Address
	for len(values) > 0 {
		v := values
		if i := indexByte(values, ','); i >= 0 {
			v, values = values[:i], values[i+1:]
		} else {
			values = ""
		}
		n, ok := parseDecimal(v)
		if !ok {
			break // "..." after the values the dissector lists
		}
		entry := ValueEntry(op, unit, reg)
		if learning {
			d.Baseline().ObserveValue(entry, op.Time, float64(n))
		} else {
			e.checkValue(d, op, entry, reg, n)
		}
		reg++
	}
}

// checkValue raises value n written to register reg if it lies outside the
// learned range of entry widened by the margin.
func (e *engine) checkValue(d *detect.Detector, op *dissect.Operation, entry baseline.Entry, reg uint32, n int) {
	st, ok := d.Baseline().Get(entry)
	if !ok || st.Count == 0 {
		return
	}
	lo, hi := allowedRange(st.Min, st.Max)
	v := float64(n)
	if v >= lo && v <= hi {
		return
	}
	learned := fmtFloat(st.Min) + " to " + fmtFloat(st.Max)
	if st.Min == st.Max {
		learned = "only " + fmtFloat(st.Min)
	}
	r := strconv.FormatUint(uint64(reg), 10)
	d.Raise(detect.Finding{Type: ValueOutOfRange, Time: op.Time, Protocol: "modbus", Source: detect.Party(op.Client), Destination: detect.Party(op.Server),
		Key: entry.Target, Op: op,
		Detail: strconv.Itoa(n) + " to holding register " + r + " (learned: " + learned + ")",
		Details: []dissect.Attr{
			{Key: "register", Value: r},
			{Key: "value", Value: strconv.Itoa(n)},
			{Key: "learned_min", Value: fmtFloat(st.Min)},
			{Key: "learned_max", Value: fmtFloat(st.Max)},
			{Key: "allowed", Value: fmtFloat(lo) + " to " + fmtFloat(hi)},
			{Key: "learned_writes", Value: strconv.FormatUint(st.Count, 10)},
		}})
}

// allowedRange widens a learned range [lo, hi] by its span or by
// valueMargin of its largest magnitude, whichever is larger, and by at
// least 1.
func allowedRange(lo, hi float64) (float64, float64) {
	m := max(hi-lo, valueMargin*max(abs(lo), abs(hi)), 1)
	return lo - m, hi + m
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

func fmtFloat(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}
