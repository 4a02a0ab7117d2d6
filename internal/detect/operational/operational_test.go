package operational

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/attack"
	"github.com/otwatch/otwatch/internal/baseline"
	"github.com/otwatch/otwatch/internal/detect"
	"github.com/otwatch/otwatch/internal/dissect"
)

var (
	t0      = time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)
	ews     = dissect.Endpoint{IP: netip.MustParseAddr("10.10.1.10"), Port: 50100}
	hmi     = dissect.Endpoint{IP: netip.MustParseAddr("10.10.1.22"), Port: 50200}
	s7plc   = dissect.Endpoint{IP: netip.MustParseAddr("10.10.2.11"), Port: 102}
	mbplc   = dissect.Endpoint{IP: netip.MustParseAddr("10.10.2.12"), Port: 502}
	cipplc  = dissect.Endpoint{IP: netip.MustParseAddr("10.10.2.13"), Port: 44818}
	rtu     = dissect.Endpoint{IP: netip.MustParseAddr("10.10.2.20"), Port: 20000}
	okRes   = dissect.Result{Status: dissect.StatusOK}
	noReply = dissect.Result{Status: dissect.StatusUnknown}
)

// opAt is an operation at t0+at between cli and srv, answered unless res
// says otherwise.
type opSpec struct {
	at       time.Duration
	proto    string
	cli, srv dissect.Endpoint
	fn       string
	code     int
	class    dissect.Class
	res      dissect.Result
	req      bool // request seen (default: both request and response)
	resp     bool
	attrs    []dissect.Attr
	targets  []dissect.Target
}

func (s opSpec) op() *dissect.Operation {
	op := &dissect.Operation{Time: t0.Add(s.at), Protocol: s.proto, Client: s.cli, Server: s.srv,
		FunctionName: s.fn, FunctionCode: s.code, Class: s.class, Result: s.res, Request: true, Response: true,
		Attrs: s.attrs, Targets: s.targets}
	if s.res.Status == dissect.StatusUnknown {
		op.Response = false
	}
	if s.req || s.resp {
		op.Request, op.Response = s.req, s.resp
	}
	return op
}

func iin(names ...string) []dissect.Attr {
	var a []dissect.Attr
	for _, n := range names {
		a = append(a, dissect.Attr{Key: "iin", Value: n})
	}
	return a
}

// The operations below carry the function codes of the specifications:
// S7comm job functions as Wireshark's s7comm dissector names them (0x1a-0x1f
// block transfer, 0x28 PLC control, 0x29 PLC stop), userdata group 7
// subfunction 2 set clock; CIP Reset 0x05, Start 0x06, Stop 0x07, File
// object (class 0x37) Initiate Download 0x4c and Download Transfer 0x50
// (CIP Volume 1, appendix A and 5-42), Execute_PCCC 0x4b with DF1 command
// 0x0f function 0x80 change mode; DNP3 application functions of IEEE
// 1815-2012 table 4-1 (2 write, 13 cold restart, 14 warm restart, 18 stop
// application, 21 disable unsolicited) and IIN1.4 NEED_TIME, IIN1.7
// DEVICE_RESTART.
var (
	s7Read    = opSpec{proto: "s7comm", cli: hmi, srv: s7plc, fn: "read_var", code: 0x04, class: dissect.ClassRead, res: okRes}
	s7Stop    = opSpec{proto: "s7comm", cli: ews, srv: s7plc, fn: "plc_stop", code: 0x29, class: dissect.ClassControl, res: okRes}
	s7Start   = opSpec{proto: "s7comm", cli: ews, srv: s7plc, fn: "plc_start", code: 0x28, class: dissect.ClassControl, res: okRes, attrs: []dissect.Attr{{Key: "start_mode", Value: "cold"}}}
	s7Clock   = opSpec{proto: "s7comm", cli: ews, srv: s7plc, fn: "set_clock", code: 0x0702, class: dissect.ClassTime, res: okRes}
	ob1       = []dissect.Target{{Kind: "block", Name: "OB1", Address: 1, Count: 1}}
	fc12      = []dissect.Target{{Kind: "block", Name: "FC12", Address: 12, Count: 1}}
	cipIdent  = []dissect.Target{{Kind: "class", Name: "identity", Address: 0x01}, {Kind: "instance", Address: 1}}
	cipFile   = []dissect.Target{{Kind: "class", Name: "file", Address: 0x37}, {Kind: "instance", Address: 0xc8}}
	cipReadTg = opSpec{proto: "enip", cli: hmi, srv: cipplc, fn: "read_tag", code: 0x4c, class: dissect.ClassRead, res: okRes, targets: []dissect.Target{{Kind: "tag", Name: "Line_Speed", Count: 1}}}
	dnpRead   = opSpec{proto: "dnp3", cli: hmi, srv: rtu, fn: "read", code: 1, class: dissect.ClassRead, res: okRes}
	dnpTime   = opSpec{proto: "dnp3", cli: hmi, srv: rtu, fn: "write", code: 2, class: dissect.ClassTime, res: okRes, targets: []dissect.Target{{Kind: "time", Name: "g50v1", Count: 1}}}
	mbRead    = opSpec{proto: "modbus", cli: hmi, srv: mbplc, fn: "read_holding_registers", code: 3, class: dissect.ClassRead, res: okRes}
	mbExc     = opSpec{proto: "modbus", cli: hmi, srv: mbplc, fn: "read_holding_registers", code: 3, class: dissect.ClassRead,
		res: dissect.Result{Status: dissect.StatusError, Code: 2, Text: "illegal_data_address"}}
)

func with(s opSpec, f func(*opSpec)) opSpec {
	f(&s)
	return s
}

func at(s opSpec, d time.Duration) opSpec { s.at = d; return s }

// run feeds ops to a Detector that learns for an hour: operational alerts
// are raised while it learns.
func run(cfg detect.Config, ops ...opSpec) []*alert.Alert {
	cfg.Keep = true
	if cfg.Learn == 0 {
		cfg.Learn = time.Hour
	}
	d := detect.New(cfg)
	for _, s := range ops {
		d.Emit(s.op())
	}
	d.Flush()
	return d.Alerts()
}

func describe(as []*alert.Alert) string {
	var b strings.Builder
	for _, a := range as {
		fmt.Fprintf(&b, "\n  %s %s -> %s count=%d: %s", a.Type, a.Source, a.Destination, a.Count, a.Title)
	}
	return b.String()
}

func TestOperations(t *testing.T) {
	restartCleared := []opSpec{
		with(dnpRead, func(s *opSpec) { s.attrs = iin("device_restart", "need_time") }),
		at(with(dnpRead, func(s *opSpec) { s.attrs = iin("need_time") }), time.Second),
		at(dnpRead, 2*time.Second),
	}
	var nobody dissect.Endpoint // the parties of a case without alerts
	tests := []struct {
		name  string
		ops   []opSpec
		want  string // alert type, "" for none
		count uint64
		text  string // in the title or description
		// from and to are the client and server of the operations: every
		// alert of the case is raised from the first to the second.
		from, to dissect.Endpoint
	}{
		{"s7 reads", []opSpec{s7Read, at(s7Read, time.Second)}, "", 0, "", nobody, nobody},
		{"s7 stop", []opSpec{s7Read, s7Stop}, "s7comm.plc_stop", 1, "S7 PLC STOP sent by 10.10.1.10 to 10.10.2.11", ews, s7plc},
		{"s7 stop refused", []opSpec{with(s7Stop, func(s *opSpec) {
			s.res = dissect.Result{Status: dissect.StatusError, Code: 0xd0a1, Text: "function_not_permitted_at_protection_level"}
		})}, "s7comm.plc_stop", 1, "refused it (function_not_permitted_at_protection_level)", ews, s7plc},
		{"s7 stop ack only", []opSpec{with(s7Stop, func(s *opSpec) { s.req, s.resp = false, true })}, "s7comm.plc_stop", 1, "", ews, s7plc},
		{"s7 cold restart", []opSpec{s7Start}, "s7comm.plc_start", 1, "cold restart", ews, s7plc},
		{"s7 upload", []opSpec{
			{proto: "s7comm", cli: ews, srv: s7plc, fn: "start_upload", code: 0x1d, class: dissect.ClassProgram, res: okRes, targets: ob1},
			{proto: "s7comm", cli: ews, srv: s7plc, fn: "upload", code: 0x1e, class: dissect.ClassProgram, res: okRes, targets: ob1},
			{proto: "s7comm", cli: ews, srv: s7plc, fn: "end_upload", code: 0x1f, class: dissect.ClassProgram, res: okRes, targets: ob1},
		}, "s7comm.program_upload", 3, "(OB1)", ews, s7plc},
		{"s7 download", []opSpec{
			{proto: "s7comm", cli: ews, srv: s7plc, fn: "request_download", code: 0x1a, class: dissect.ClassProgram, res: okRes, targets: fc12},
			{proto: "s7comm", cli: ews, srv: s7plc, fn: "download_block", code: 0x1b, class: dissect.ClassProgram, res: okRes, targets: fc12},
			{proto: "s7comm", cli: ews, srv: s7plc, fn: "download_ended", code: 0x1c, class: dissect.ClassProgram, res: okRes, targets: fc12},
			{proto: "s7comm", cli: ews, srv: s7plc, fn: "insert_block", code: 0x28, class: dissect.ClassProgram, res: okRes, targets: fc12},
		}, "s7comm.program_download", 4, "(FC12)", ews, s7plc},
		{"s7 delete block", []opSpec{{proto: "s7comm", cli: ews, srv: s7plc, fn: "delete_block", code: 0x28, class: dissect.ClassProgram, res: okRes, targets: fc12}},
			"s7comm.program_download", 1, "FC12", ews, s7plc},
		{"s7 block info is not programming", []opSpec{{proto: "s7comm", cli: ews, srv: s7plc, fn: "get_block_info", code: 0x0303, class: dissect.ClassDiscovery, res: okRes, targets: ob1}}, "", 0, "", nobody, nobody},
		{"s7 set clock", []opSpec{s7Clock}, "s7comm.time_set", 1, "set the clock of 10.10.2.11", ews, s7plc},
		{"s7 read clock", []opSpec{with(s7Clock, func(s *opSpec) { s.fn, s.code = "read_clock", 0x0701 })}, "", 0, "", nobody, nobody},

		{"cip read tag", []opSpec{cipReadTg}, "", 0, "", nobody, nobody},
		{"cip reset", []opSpec{{proto: "enip", cli: ews, srv: cipplc, fn: "reset", code: 0x05, class: dissect.ClassRestart, res: okRes, targets: cipIdent}},
			"cip.reset", 1, "reset 10.10.2.13 over CIP", ews, cipplc},
		{"cip reset of another object", []opSpec{{proto: "enip", cli: ews, srv: cipplc, fn: "reset", code: 0x05, class: dissect.ClassControl, res: okRes,
			targets: []dissect.Target{{Kind: "class", Name: "tcpip_interface", Address: 0xf5}}}}, "", 0, "", nobody, nobody},
		{"cip file download", []opSpec{
			{proto: "enip", cli: ews, srv: cipplc, fn: "initiate_download", code: 0x4c, class: dissect.ClassFile, res: okRes, targets: cipFile},
			{proto: "enip", cli: ews, srv: cipplc, fn: "download_transfer", code: 0x50, class: dissect.ClassFile, res: okRes, targets: cipFile},
		}, "cip.firmware_update", 2, "File object instance 200", ews, cipplc},
		{"cip file upload", []opSpec{{proto: "enip", cli: ews, srv: cipplc, fn: "initiate_upload", code: 0x4b, class: dissect.ClassFile, res: okRes, targets: cipFile}}, "", 0, "", nobody, nobody},
		{"cip non-volatile storage", []opSpec{{proto: "enip", cli: ews, srv: cipplc, fn: "service_0x4b", code: 0x4b, class: dissect.ClassFirmware, res: okRes,
			targets: []dissect.Target{{Kind: "class", Address: 0xa1}}}}, "cip.firmware_update", 1, "non-volatile storage", ews, cipplc},
		{"cip stop", []opSpec{{proto: "enip", cli: ews, srv: cipplc, fn: "stop", code: 0x07, class: dissect.ClassControl, res: okRes, targets: cipIdent}},
			"cip.mode_change", 1, "a Stop service for the identity object", ews, cipplc},
		{"pccc change mode", []opSpec{{proto: "enip", cli: hmi, srv: cipplc, fn: "execute_pccc", code: 0x4b, class: dissect.ClassControl, res: okRes,
			attrs: []dissect.Attr{{Key: "pccc_command", Value: "0x0f"}, {Key: "pccc_function", Value: "0x80"}}}}, "cip.mode_change", 1, "command 0x0f, function 0x80", hmi, cipplc},
		{"pccc read", []opSpec{{proto: "enip", cli: hmi, srv: cipplc, fn: "execute_pccc", code: 0x4b, class: dissect.ClassRead, res: okRes,
			attrs: []dissect.Attr{{Key: "pccc_command", Value: "0x0f"}, {Key: "pccc_function", Value: "0xa2"}}}}, "", 0, "", nobody, nobody},

		{"dnp3 polls", restartCleared, "", 0, "", nobody, nobody},
		{"dnp3 cold restart", []opSpec{{proto: "dnp3", cli: hmi, srv: rtu, fn: "cold_restart", code: 13, class: dissect.ClassRestart, res: okRes}},
			"dnp3.cold_restart", 1, "cold restart of 10.10.2.20 requested by 10.10.1.22", hmi, rtu},
		{"dnp3 warm restart refused", []opSpec{{proto: "dnp3", cli: hmi, srv: rtu, fn: "warm_restart", code: 14, class: dissect.ClassRestart,
			res: dissect.Result{Status: dissect.StatusError, Code: 8, Text: "no_func_code_support"}}}, "dnp3.warm_restart", 1, "refused it (no_func_code_support)", hmi, rtu},
		{"dnp3 stop application", []opSpec{{proto: "dnp3", cli: hmi, srv: rtu, fn: "stop_application", code: 18, class: dissect.ClassControl, res: okRes}},
			"dnp3.stop_application", 1, "", hmi, rtu},
		{"dnp3 enable unsolicited", []opSpec{{proto: "dnp3", cli: hmi, srv: rtu, fn: "enable_unsolicited", code: 20, class: dissect.ClassControl, res: okRes}}, "", 0, "", nobody, nobody},
		{"dnp3 disable unsolicited", []opSpec{{proto: "dnp3", cli: hmi, srv: rtu, fn: "disable_unsolicited", code: 21, class: dissect.ClassControl, res: okRes,
			targets: []dissect.Target{{Kind: "class", Name: "g60v2"}, {Kind: "class", Name: "g60v3"}, {Kind: "class", Name: "g60v4"}}}},
			"dnp3.unsolicited_disabled", 1, "class 1, 2 and 3 events", hmi, rtu},
		{"dnp3 link layer", []opSpec{{proto: "dnp3", cli: hmi, srv: rtu, fn: "reset_link_states", code: 0, class: dissect.ClassOther, res: okRes,
			attrs: []dissect.Attr{{Key: "layer", Value: "link"}}}}, "", 0, "", nobody, nobody},
		{"dnp3 time asked for", []opSpec{with(dnpRead, func(s *opSpec) { s.attrs = iin("need_time") }), at(dnpTime, time.Second)}, "", 0, "", nobody, nobody},
		{"dnp3 time unrequested", append(slices.Clone(restartCleared), at(dnpTime, time.Minute)), "dnp3.time_set", 1, "unrequested", hmi, rtu},
		{"dnp3 time before any response", []opSpec{dnpTime}, "", 0, "", nobody, nobody},
		{"dnp3 restart at first sight", restartCleared[:1], "", 0, "", nobody, nobody},
		{"dnp3 unannounced restart", append(slices.Clone(restartCleared),
			at(with(dnpRead, func(s *opSpec) { s.attrs = iin("device_restart") }), time.Minute),
			at(with(dnpRead, func(s *opSpec) { s.attrs = iin("device_restart") }), time.Minute+time.Second)),
			"dnp3.outstation_restarted", 1, "Outstation 10.10.2.20 restarted", hmi, rtu},
		{"dnp3 unsolicited response reports the restart", append(slices.Clone(restartCleared),
			opSpec{at: time.Minute, proto: "dnp3", cli: hmi, srv: rtu, fn: "unsolicited_response", code: 130, class: dissect.ClassRead, res: okRes,
				req: false, resp: true, attrs: iin("device_restart")}),
			"dnp3.outstation_restarted", 1, "", hmi, rtu},
		{"dnp3 commanded restart", append(slices.Clone(restartCleared),
			opSpec{at: time.Minute, proto: "dnp3", cli: hmi, srv: rtu, fn: "cold_restart", code: 13, class: dissect.ClassRestart, res: okRes},
			at(with(dnpRead, func(s *opSpec) { s.attrs = iin("device_restart") }), time.Minute+20*time.Second)),
			"dnp3.cold_restart", 1, "", hmi, rtu},
		{"dnp3 restart long after a command", append(slices.Clone(restartCleared),
			opSpec{at: time.Minute, proto: "dnp3", cli: hmi, srv: rtu, fn: "cold_restart", code: 13, class: dissect.ClassRestart, res: okRes},
			at(dnpRead, 2*time.Minute),
			at(with(dnpRead, func(s *opSpec) { s.attrs = iin("device_restart") }), time.Minute+restartGrace+time.Second)),
			"dnp3.cold_restart,dnp3.outstation_restarted", 1, "", hmi, rtu},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			as := run(detect.Config{}, tt.ops...)
			var got []string
			for _, a := range as {
				got = append(got, a.Type)
			}
			want := []string(nil)
			if tt.want != "" {
				want = strings.Split(tt.want, ",")
			}
			if !slices.Equal(got, want) {
				t.Fatalf("alerts %v, want %v:%s", got, want, describe(as))
			}
			if len(as) == 0 {
				return
			}
			for _, a := range as {
				if a.Source != (alert.Party{IP: tt.from.IP, Port: tt.from.Port}) || a.Destination != (alert.Party{IP: tt.to.IP, Port: tt.to.Port}) {
					t.Errorf("%s from %v port %d to %v port %d, want %v port %d to %v port %d", a.Type, a.Source, a.Source.Port,
						a.Destination, a.Destination.Port, tt.from.IP, tt.from.Port, tt.to.IP, tt.to.Port)
				}
			}
			a := as[0]
			if a.Count != tt.count {
				t.Errorf("count %d, want %d", a.Count, tt.count)
			}
			if !strings.Contains(a.Title+" "+a.Description, tt.text) {
				t.Errorf("title %q / description %q lack %q", a.Title, a.Description, tt.text)
			}
			if a.Engine != alert.Operational || a.Operation == nil || strings.Contains(a.Title+a.Description, "{") {
				t.Errorf("alert %+v: engine, operation or expanded text wrong", a)
			}
		})
	}
}

// exceptions returns n exception responses at the given spacing from
// start.
func exceptions(start time.Duration, n int, every time.Duration) []opSpec {
	out := make([]opSpec, n)
	for i := range out {
		out[i] = at(mbExc, start+time.Duration(i)*every)
	}
	return out
}

func TestExceptionBurst(t *testing.T) {
	zoned := detect.Config{Zones: []detect.Zone{{Name: "field", Subnets: []netip.Prefix{netip.MustParsePrefix("10.10.2.0/24")},
		Thresholds: map[string]alert.Threshold{ModbusExceptionBurst.ID: {Count: 5, Window: time.Minute}}}}}
	tests := []struct {
		name      string
		cfg       detect.Config
		ops       []opSpec
		alerts    int
		count     uint64
		threshold string // the threshold detail: the one in force
	}{
		{"below the threshold", detect.Config{}, exceptions(0, 19, 2*time.Second), 0, 0, ""},
		{"at the threshold", detect.Config{}, exceptions(0, 20, 2*time.Second), 1, 1, "20 in 1m0s"},
		// One a second for ten minutes: an alert, merged once a window.
		{"sustained", detect.Config{}, exceptions(0, 600, time.Second), 1, 10, "20 in 1m0s"},
		// One every four seconds: at most 16 in any minute.
		{"slow", detect.Config{}, exceptions(0, 300, 4*time.Second), 0, 0, ""},
		{"answers do not count", detect.Config{}, append(exceptions(0, 10, time.Second), func() []opSpec {
			var o []opSpec
			for i := range 30 {
				o = append(o, at(mbRead, 10*time.Second+time.Duration(i)*time.Second))
			}
			return o
		}()...), 0, 0, ""},
		{"zone threshold", zoned, exceptions(0, 5, time.Second), 1, 1, "5 in 1m0s"},
		{"configured threshold", detect.Config{Thresholds: map[string]alert.Threshold{ModbusExceptionBurst.ID: {Count: 3, Window: time.Minute}}},
			exceptions(0, 3, time.Second), 1, 1, "3 in 1m0s"},
		{"disabled", detect.Config{Thresholds: map[string]alert.Threshold{ModbusExceptionBurst.ID: {}}}, exceptions(0, 100, time.Second), 0, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			as := run(tt.cfg, tt.ops...)
			if len(as) != tt.alerts {
				t.Fatalf("%d alerts, want %d:%s", len(as), tt.alerts, describe(as))
			}
			if len(as) > 0 {
				if as[0].Type != ModbusExceptionBurst.ID || as[0].Count != tt.count {
					t.Errorf("alert %s count %d, want %s count %d", as[0].Type, as[0].Count, ModbusExceptionBurst.ID, tt.count)
				}
				if as[0].Detail("threshold") != tt.threshold || as[0].Detail("last_exception") != "2 illegal_data_address" {
					t.Errorf("details %v", as[0].Details)
				}
			}
		})
	}
}

func TestNotResponding(t *testing.T) {
	unanswered := func(start time.Duration, n int) []opSpec {
		out := make([]opSpec, n)
		for i := range out {
			out[i] = at(with(dnpRead, func(s *opSpec) { s.res = noReply }), start+time.Duration(i)*5*time.Second)
		}
		return out
	}
	answered := []opSpec{dnpRead, at(dnpRead, 5*time.Second)}
	tests := []struct {
		name   string
		ops    []opSpec
		alerts int
	}{
		{"seven unanswered", append(slices.Clone(answered), unanswered(10*time.Second, 7)...), 0},
		{"eight unanswered", append(slices.Clone(answered), unanswered(10*time.Second, 8)...), 1},
		{"never answered", unanswered(0, 50), 0},
		{"an answer in between", append(append(append(slices.Clone(answered), unanswered(10*time.Second, 5)...), at(dnpRead, 40*time.Second)),
			unanswered(45*time.Second, 5)...), 0},
		{"spread over an hour", append(slices.Clone(answered), func() []opSpec {
			var o []opSpec
			for i := range 12 {
				o = append(o, at(with(dnpRead, func(s *opSpec) { s.res = noReply }), 10*time.Second+time.Duration(i)*5*time.Minute))
			}
			return o
		}()...), 0},
		{"confirms have no response", append(slices.Clone(answered), func() []opSpec {
			var o []opSpec
			for i := range 20 {
				o = append(o, opSpec{at: 10*time.Second + time.Duration(i)*time.Second, proto: "dnp3", cli: hmi, srv: rtu, fn: "confirm", code: 0, res: noReply})
			}
			return o
		}()...), 0},
		{"connections not answered", append([]opSpec{{proto: "service", cli: hmi, srv: rtu, fn: "dnp3", code: 20000, res: okRes, req: false, resp: false}},
			func() []opSpec {
				var o []opSpec
				for i := range 8 {
					o = append(o, opSpec{at: time.Duration(i+1) * 10 * time.Second, proto: "service", cli: hmi, srv: rtu, fn: "dnp3", code: 20000,
						res: dissect.Result{Status: dissect.StatusUnknown, Text: "no answer"}, req: false, resp: false})
				}
				return o
			}()...), 1},
		{"a burst of connection attempts", append([]opSpec{{proto: "service", cli: hmi, srv: rtu, fn: "dnp3", code: 20000, res: okRes, req: false, resp: false}},
			func() []opSpec {
				var o []opSpec
				for i := range 500 {
					o = append(o, opSpec{at: time.Second + time.Duration(i)*time.Millisecond, proto: "service", cli: hmi, srv: rtu, fn: "dnp3", code: 20000,
						res: dissect.Result{Status: dissect.StatusUnknown, Text: "no answer"}, req: false, resp: false})
				}
				return o
			}()...), 0},
		{"not industrial", func() []opSpec {
			o := []opSpec{{proto: "service", cli: hmi, srv: rtu, fn: "http", code: 80, res: okRes}}
			for i := range 10 {
				o = append(o, opSpec{at: time.Duration(i+1) * time.Second, proto: "service", cli: hmi, srv: rtu, fn: "http", code: 80,
					res: dissect.Result{Status: dissect.StatusUnknown}})
			}
			return o
		}(), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			as := run(detect.Config{}, tt.ops...)
			if len(as) != tt.alerts {
				t.Fatalf("%d alerts, want %d:%s", len(as), tt.alerts, describe(as))
			}
			if len(as) > 0 && (as[0].Type != DeviceNotResponding.ID || as[0].Source.IP != hmi.IP || as[0].Destination.IP != rtu.IP || as[0].Protocol != "dnp3") {
				t.Errorf("alert %s %v -> %v over %s", as[0].Type, as[0].Source, as[0].Destination, as[0].Protocol)
			}
		})
	}
}

// TestLearn: operational alerts are raised while the sensor learns; Learn
// silences the learnable ones and refuses the others.
func TestLearn(t *testing.T) {
	d := detect.New(detect.Config{Keep: true, Learn: time.Hour})
	d.Emit(s7Clock.op())
	d.Emit(at(s7Stop, time.Second).op())
	as := d.Alerts()
	if len(as) != 2 || !d.Learning() {
		t.Fatalf("while learning: %d alerts, want 2:%s", len(as), describe(as))
	}
	clock, stop := as[0], as[1]
	if err := d.Learn(clock); err != nil {
		t.Fatalf("learn %s: %v", clock.Type, err)
	}
	want := baseline.Entry{Kind: baseline.KindPattern, Client: ews.IP, Server: s7plc.IP, Function: S7TimeSet.ID}
	if !d.Baseline().Has(want) {
		t.Errorf("baseline lacks %v", want)
	}
	if err := d.Learn(stop); err == nil {
		t.Errorf("learn %s succeeded; a PLC stop is not learnable", stop.Type)
	}
	d.Emit(at(s7Clock, time.Minute).op())
	if n := len(d.Alerts()); n != 2 {
		t.Errorf("a learned clock setting raised again: %d alerts:%s", n, describe(d.Alerts()))
	}
}

// TestTypes checks the catalogue entries against ATT&CK for ICS and the
// alert model.
func TestTypes(t *testing.T) {
	// Five S7comm, three CIP, six DNP3, the Modbus exception burst, the
	// unresponsive device and BACnet DeviceCommunicationControl.
	want := []string{"s7comm.plc_stop", "s7comm.plc_start", "s7comm.program_upload", "s7comm.program_download", "s7comm.time_set",
		"cip.reset", "cip.firmware_update", "cip.mode_change",
		"dnp3.cold_restart", "dnp3.warm_restart", "dnp3.stop_application", "dnp3.time_set", "dnp3.unsolicited_disabled", "dnp3.outstation_restarted",
		"modbus.exception_burst", "device.not_responding", "bacnet.dcc_disable"}
	var ids []string
	for _, typ := range types {
		ids = append(ids, typ.ID)
	}
	if !slices.Equal(ids, want) {
		t.Errorf("alert types %v, want %v", ids, want)
	}
	for _, typ := range types {
		if detect.LookupType(typ.ID) != typ {
			t.Errorf("%s is not registered", typ.ID)
		}
		for _, id := range typ.Techniques {
			if _, ok := attack.LookupTechnique(id); !ok {
				t.Errorf("%s: technique %s is not in ATT&CK for ICS %s", typ.ID, id, attack.Version)
			}
		}
		if n := len(typ.Remediation); n < 2 || n > 4 {
			t.Errorf("%s: %d remediation steps, want 2 to 4", typ.ID, n)
		}
		if typ.Engine != alert.Operational || !strings.Contains(typ.ID, ".") || strings.ToLower(typ.ID) != typ.ID {
			t.Errorf("%s: engine %v or id malformed", typ.ID, typ.Engine)
		}
		for _, s := range append([]string{typ.Title, typ.Description}, typ.Remediation...) {
			if x := alert.Expand(s, alert.Party{IP: ews.IP}, alert.Party{IP: s7plc.IP}, "p", "d"); strings.ContainsAny(x, "{}") {
				t.Errorf("%s: unknown placeholder in %q", typ.ID, s)
			}
		}
	}
}
