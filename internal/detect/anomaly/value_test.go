package anomaly_test

import (
	"strings"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/detect"
	"github.com/otwatch/otwatch/internal/detect/anomaly"
	"github.com/otwatch/otwatch/internal/dissect"
)

func TestValueOutOfRange(t *testing.T) {
	// While learning, operators write the temperature setpoint (register
	// 0) between 630 and 690 (63.0 to 69.0 °C). The allowed range is the
	// learned one widened by half of 690: 285 to 1035.
	tests := []struct {
		name  string
		op    *dissect.Operation
		value string // the alert's value detail; "" for no alert
	}{
		{"within the learned range", modbusWrite(at(5*time.Minute), hmi, plc, 0, 650), ""},
		{"a little above it", modbusWrite(at(5*time.Minute), hmi, plc, 0, 900), ""},
		{"at the upper limit", modbusWrite(at(5*time.Minute), hmi, plc, 0, 1035), ""},
		{"just above the limit", modbusWrite(at(5*time.Minute), hmi, plc, 0, 1036), "1036"},
		{"far above", modbusWrite(at(5*time.Minute), hmi, plc, 0, 2500), "2500"},
		{"far below", modbusWrite(at(5*time.Minute), hmi, plc, 0, 10), "10"},
		{"a register never written while learning", modbusWrite(at(5*time.Minute), hmi, plc, 9, 2500), ""},
		{"the same register of another server", modbusWrite(at(5*time.Minute), hmi, addr("10.10.2.13"), 0, 2500), ""},
		{"write multiple registers", &dissect.Operation{Time: at(5 * time.Minute), Protocol: "modbus",
			Client: dissect.Endpoint{IP: ews}, Server: dissect.Endpoint{IP: plc}, FunctionCode: 16, FunctionName: "write_multiple_registers",
			Class: dissect.ClassWrite, Request: true, Result: dissect.Result{Status: dissect.StatusOK},
			Targets: []dissect.Target{{Kind: "holding_register", Address: 0, Count: 3}},
			Attrs:   []dissect.Attr{{Key: "unit_id", Value: "1"}, {Key: "values", Value: "3000,12,7"}}}, "3000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := learning(t, 4*time.Minute)
			for i, v := range []int{630, 650, 690, 640} {
				d.Emit(modbusWrite(at(time.Duration(i)*time.Minute), hmi, plc, 0, v))
			}
			d.Emit(modbusRead(at(4*time.Minute), hmi, plc, 1))
			d.Emit(tt.op)
			if tt.value == "" {
				none(t, d)
				return
			}
			a := only(t, d, anomaly.ValueOutOfRange)
			if a.Detail("value") != tt.value || a.Detail("register") != "0" || a.Detail("learned_min") != "630" || a.Detail("learned_max") != "690" ||
				a.Destination.IP != plc || a.Key != "unit_id:1/holding_register:0" {
				t.Errorf("alert %v -> %v key %q details %v", a.Source, a.Destination, a.Key, a.Details)
			}
			if !strings.Contains(a.Title, "unusual value") {
				t.Errorf("title %q", a.Title)
			}
		})
	}
}

// Values learned go to the baseline as value entries with their range.
func TestValueBaseline(t *testing.T) {
	d := learning(t, time.Minute)
	for i, v := range []int{2000, 2200, 1950} {
		d.Emit(modbusWrite(at(time.Duration(i)*time.Second), hmi, plc, 2, v))
	}
	refused := modbusWrite(at(4*time.Second), hmi, plc, 2, 9999)
	refused.Result = dissect.Result{Status: dissect.StatusError, Code: 3, Text: "illegal_data_value"}
	d.Emit(refused)
	st, ok := d.Baseline().Get(anomaly.ValueEntry(modbusWrite(start, hmi, plc, 2, 0), 1, 2))
	if !ok || st.Min != 1950 || st.Max != 2200 || st.Count != 3 {
		t.Errorf("value entry %v %+v, want 1950..2200 from 3 writes", ok, st)
	}
}

func loginFailure(tm time.Time, protocol string) *dissect.Operation {
	return &dissect.Operation{Time: tm, Protocol: protocol, Transport: "tcp",
		Client: dissect.Endpoint{IP: ews, Port: 51000}, Server: dissect.Endpoint{IP: gateway, Port: 23},
		FunctionName: "session", Class: dissect.ClassAuthentication, Request: true, Response: true,
		Result: dissect.Result{Status: dissect.StatusError, Text: "login_failed"},
		Attrs:  []dissect.Attr{{Key: "user", Value: "admin"}}}
}

func TestLoginAttempts(t *testing.T) {
	tests := []struct {
		name  string
		n     int
		every time.Duration
		want  bool
	}{
		{"9 failures in a minute", 9, 5 * time.Second, false},
		{"10 failures in a minute", 10, 5 * time.Second, true},
		{"10 failures in an hour", 10, 6 * time.Minute, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := operational(t, detect.Config{})
			for i := range tt.n {
				d.Emit(loginFailure(at(time.Duration(i)*tt.every), "telnet"))
			}
			if !tt.want {
				none(t, d)
				return
			}
			a := only(t, d, anomaly.LoginAttempts)
			if a.Source.IP != ews || a.Destination.IP != gateway || a.Protocol != "telnet" || a.Detail("failures") != "10" {
				t.Errorf("alert %v -> %v %s failures %s", a.Source, a.Destination, a.Protocol, a.Detail("failures"))
			}
		})
	}
}

// Successful logins are not counted: thirty FTP logins in thirty seconds
// raise nothing when they succeed (reply 230, RFC 959) and one alert when
// they fail.
func TestLoginSuccessNotCounted(t *testing.T) {
	for _, ok := range []bool{true, false} {
		d := operational(t, detect.Config{})
		for i := range 30 {
			op := loginFailure(at(time.Duration(i)*time.Second), "ftp")
			if ok {
				op.Result = dissect.Result{Status: dissect.StatusOK, Code: 230}
			}
			d.Emit(op)
		}
		if ok {
			none(t, d)
			continue
		}
		if a := only(t, d, anomaly.LoginAttempts); a.Protocol != "ftp" || a.Source.IP != ews {
			t.Errorf("failed logins: alert %v -> %v over %s", a.Source, a.Destination, a.Protocol)
		}
	}
}
