package goose

import (
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
)

func TestSV(t *testing.T) {
	mu := asdu{svID: "MU01", datSet: "MU01MU/LLN0$PhsMeas1", conf: 1, rate: 4000}
	at := func(smp uint16, d time.Duration) in {
		a := mu
		a.smpCnt = smp
		return in{src: mergUnit, payload: svFrame(0x4000, 0, -1, a), at: d, et: EtherTypeSV}
	}
	// 4000 samples a second, one ASDU a frame: the first frame is
	// reported, then the first one a second later.
	var frames []in
	for i := range 4001 {
		frames = append(frames, at(uint16(i%4000), time.Duration(i)*250*time.Microsecond))
	}
	ops := run(t, NewSV(Options{Publishers: 8}), frames...)
	if len(ops) != 2 {
		t.Fatalf("%d operations for 4001 frames over one second, want 2", len(ops))
	}
	want := []string{
		"appid=0x4000 svID=MU01 datSet=MU01MU/LLN0$PhsMeas1 smpCnt=0 confRev=1 asdus=1 smpRate=4000 frames=1",
		"appid=0x4000 svID=MU01 datSet=MU01MU/LLN0$PhsMeas1 smpCnt=0 confRev=1 asdus=1 smpRate=4000 frames=4000",
	}
	for i, op := range ops {
		if got := attrs(op); got != want[i] {
			t.Errorf("operation %d attrs\n got %s\nwant %s", i, got, want[i])
		}
		if op.Protocol != "sv" || op.FunctionName != "sv_publish" || op.Class != dissect.ClassOther ||
			op.Result.Status != dissect.StatusOK || op.Client.MAC != mergUnit || op.Server.MAC != svMC {
			t.Errorf("operation %d: %s %s %v %v %v %v", i, op.Protocol, op.FunctionName, op.Class, op.Result.Status, op.Client.MAC, op.Server.MAC)
		}
		if len(op.Targets) != 1 || op.Targets[0].Kind != "dataset" || op.Targets[0].Name != "MU01MU/LLN0$PhsMeas1" {
			t.Errorf("targets %+v", op.Targets)
		}
	}
	if ops[1].Time.Sub(ops[0].Time) != time.Second {
		t.Errorf("second operation %v after the first", ops[1].Time.Sub(ops[0].Time))
	}
}

func TestSVCases(t *testing.T) {
	mu := asdu{svID: "MU01", conf: 1}
	mu2 := asdu{svID: "MU02", conf: 7, smpCnt: 4095}
	conf2 := mu
	conf2.conf = 2
	tests := []struct {
		name   string
		frames []in
		want   []string // attrs of each operation; "!" prefix: malformed
	}{
		{"two streams of one merging unit, 8 ASDUs a frame, vlan", []in{
			{src: mergUnit, payload: svFrame(0x4000, 0, -1, mu, mu, mu, mu, mu, mu, mu, mu), vlan: 5, et: EtherTypeSV},
			{src: mergUnit, payload: svFrame(0x4001, 0, -1, mu2), at: time.Millisecond, et: EtherTypeSV},
			{src: mergUnit, payload: svFrame(0x4000, 0, -1, mu), at: 2 * time.Millisecond, et: EtherTypeSV},
		}, []string{
			"appid=0x4000 svID=MU01 smpCnt=0 confRev=1 asdus=8 frames=1 vlan=5",
			"appid=0x4001 svID=MU02 smpCnt=4095 confRev=7 asdus=1 frames=1",
		}},
		{"confRev change reported at once", []in{
			{src: mergUnit, payload: svFrame(0x4000, 0, -1, mu), et: EtherTypeSV},
			{src: mergUnit, payload: svFrame(0x4000, 0, -1, mu), at: time.Millisecond, et: EtherTypeSV},
			{src: mergUnit, payload: svFrame(0x4000, 0, -1, conf2), at: 2 * time.Millisecond, et: EtherTypeSV},
		}, []string{
			"appid=0x4000 svID=MU01 smpCnt=0 confRev=1 asdus=1 frames=1",
			"appid=0x4000 svID=MU01 smpCnt=0 confRev=2 asdus=1 frames=2 sequence=confrev_change",
		}},
		{"simulation bit", []in{{src: mergUnit, payload: svFrame(0x4000, 0x8000, -1, mu), et: EtherTypeSV}},
			[]string{"appid=0x4000 svID=MU01 smpCnt=0 confRev=1 asdus=1 frames=1 simulation=true"}},
		{"noASDU mismatch, reported once a second", []in{
			{src: mergUnit, payload: svFrame(0x4000, 0, 2, mu), et: EtherTypeSV},
			{src: mergUnit, payload: svFrame(0x4000, 0, 2, mu), at: time.Millisecond, et: EtherTypeSV},
		}, []string{"!appid=0x4000 svID=MU01 smpCnt=0 confRev=1 asdus=2 frames=1 violation=asdu_count_mismatch"}},
		{"not a savPdu", []in{{src: mergUnit, payload: frame(0x4000, 0, dissecttest.BER(0x61, berInt(0x80, 1))), et: EtherTypeSV}},
			[]string{"!appid=0x4000 frames=1 violation=unknown_apdu"}},
		{"ASDU without smpCnt", []in{{src: mergUnit, payload: frame(0x4000, 0, dissecttest.BER(0x60, berInt(0x80, 1),
			dissecttest.BER(0xa2, dissecttest.BER(0x30, berStr(0x80, "MU01"), dissecttest.BER(0x83, []byte{0, 0, 0, 1}), dissecttest.BER(0x87, make([]byte, 8)))))), et: EtherTypeSV}},
			[]string{"!appid=0x4000 svID=MU01 frames=1 violation=missing_field"}},
		{"short frame", []in{{src: mergUnit, payload: []byte{0x40}, et: EtherTypeSV}},
			[]string{"!frames=1 violation=short_header"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ops := run(t, NewSV(Options{Publishers: 8}), tt.frames...)
			if len(ops) != len(tt.want) {
				t.Fatalf("%d operations, want %d", len(ops), len(tt.want))
			}
			for i, op := range ops {
				want, bad := tt.want[i], false
				if want[0] == '!' {
					want, bad = want[1:], true
				}
				if got := attrs(op); got != want {
					t.Errorf("operation %d attrs\n got %s\nwant %s", i, got, want)
				}
				if (op.Result.Status == dissect.StatusMalformed) != bad {
					t.Errorf("operation %d status %v (%s)", i, op.Result.Status, op.Result.Text)
				}
			}
		})
	}
}

func TestManagement(t *testing.T) {
	const ref = "IED1LD0/LLN0$GO$gcb01"
	tests := []struct {
		name     string
		payload  []byte
		fn       string
		code     int
		req, res bool
		result   dissect.Result
		attrs    string
		targets  string
	}{
		{"getGoReference request", mngtRequest(1, 1, ref, 0, 1), "get_go_reference", 1, true, false,
			dissect.Result{Status: dissect.StatusUnknown}, "state_id=1 ident=" + ref + " items=2", "control_block:" + ref},
		{"getGOOSEElementNumber positive response", mngtResponse(1, 2, ref, 3, "IED1LD0/LLN0$DS1", 0, 1, 2), "get_goose_element_number", 2, false, true,
			dissect.Result{Status: dissect.StatusOK}, "state_id=1 ident=" + ref + " confRev=3 items=3",
			"control_block:" + ref + " dataset:IED1LD0/LLN0$DS1"},
		{"negative response", mngtNegative(2, 1, ref, 1), "get_go_reference", 1, false, true,
			dissect.Result{Status: dissect.StatusError, Code: 1, Text: "unknown_control_block"}, "state_id=2 ident=" + ref, "control_block:" + ref},
		{"not supported", frame(0, 0, dissecttest.BER(0x60, berInt(0x80, 3), dissecttest.BER(0xa2, dissecttest.BER(0x80)))), "gse_management", 0, false, true,
			dissect.Result{Status: dissect.StatusError, Text: "not_supported"}, "state_id=3", ""},
		{"unknown requestResp", frame(0, 0, dissecttest.BER(0x60, berInt(0x80, 3), dissecttest.BER(0xa3, dissecttest.BER(0x80)))), "gse_management", 0, true, false,
			dissect.Result{Status: dissect.StatusMalformed, Text: errMngt.text}, "state_id=3 violation=bad_gse_management", ""},
		{"truncated", []byte{0, 0, 0, 10, 0, 0, 0, 0, 0x60, 0x05}, "gse_management", 0, true, false,
			dissect.Result{Status: dissect.StatusMalformed, Text: errTruncated.text}, "violation=ber_truncated", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ops := run(t, New(Options{Publishers: 8}), in{src: ied1, payload: tt.payload, et: EtherTypeGSE})
			if len(ops) != 1 {
				t.Fatalf("%d operations", len(ops))
			}
			op := ops[0]
			if op.FunctionName != tt.fn || op.FunctionCode != tt.code || op.Request != tt.req || op.Response != tt.res ||
				op.Result != tt.result || op.Class != dissect.ClassRead {
				t.Errorf("got %s/%d req=%v res=%v %+v %v", op.FunctionName, op.FunctionCode, op.Request, op.Response, op.Result, op.Class)
			}
			if got := attrs(op); got != tt.attrs {
				t.Errorf("attrs\n got %s\nwant %s", got, tt.attrs)
			}
			var tg string
			for _, x := range op.Targets {
				tg += " " + x.Kind + ":" + x.Name
			}
			if len(tg) > 0 {
				tg = tg[1:]
			}
			if tg != tt.targets {
				t.Errorf("targets %q, want %q", tg, tt.targets)
			}
			client, server := ied1, gooseMC
			if tt.res {
				client, server = gooseMC, ied1
			}
			if op.Client.MAC != client || op.Server.MAC != server {
				t.Errorf("client %v server %v", op.Client.MAC, op.Server.MAC)
			}
		})
	}
}
