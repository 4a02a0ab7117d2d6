package simulate

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/otwatch/otwatch/internal/capture"
	"github.com/otwatch/otwatch/internal/testenv"
)

// TestDNPCRC checks CRC-16/DNP against the check value of the CRC
// catalogue (Greg Cook, "Catalogue of parametrised CRC algorithms":
// CRC-16/DNP of "123456789" is 0xEA82) and the frame layout against IEEE
// 1815-2012 section 9.2.4: start octets, length counting control,
// addresses and user data, a CRC after the header and after every 16
// octets of user data.
func TestDNPCRC(t *testing.T) {
	if got := dnpCRC([]byte("123456789")); got != 0xea82 {
		t.Errorf("CRC-16/DNP(123456789) = %#04x, want 0xea82", got)
	}
	user := bytes.Repeat([]byte{0xab}, 20)
	f := dnpFrame(dnpCtlMaster, 10, 1, user)
	if got, want := len(f), 10+16+2+4+2; got != want {
		t.Fatalf("frame of 20 user octets is %d octets, want %d", got, want)
	}
	if got := hex.EncodeToString(f[:8]); got != "056419c40a000100" { // length 5 + 20
		t.Errorf("header = %s, want 056419c40a000100", got)
	}
	for _, blk := range [][2]int{{0, 8}, {10, 26}, {28, 32}} {
		crc := uint16(f[blk[1]]) | uint16(f[blk[1]+1])<<8
		if crc != dnpCRC(f[blk[0]:blk[1]]) {
			t.Errorf("CRC after octets %d..%d wrong", blk[0], blk[1])
		}
	}
}

func TestScenarioOffsets(t *testing.T) {
	for _, d := range []time.Duration{MinDuration, time.Minute, 2 * time.Minute, DefaultDuration} {
		for _, sc := range Scenarios()[2:6] { // the maintenance scenarios fit every capture
			if _, err := Generate(discard{}, Options{Duration: d, Scenarios: []string{sc.Name}}); err != nil {
				t.Errorf("%s in a capture of %v: %v", sc.Name, d, err)
			}
		}
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// TestDefaultCaptureWithEverything keeps the default capture with every
// scenario under 8 MiB.
func TestDefaultCaptureWithEverything(t *testing.T) {
	data, sum := generate(t, Options{Scenarios: allScenarios})
	if len(data) > 8<<20 {
		t.Errorf("default capture with every scenario is %d bytes, want at most 8 MiB", len(data))
	}
	if sum.ENIP.IOPackets < 200 || sum.S7.Jobs[s7ReadVar] < 500 || sum.DNP3.FromMaster[dnpRead] < 100 {
		t.Errorf("%d I/O packets, %d S7 reads, %d DNP3 reads: want hundreds", sum.ENIP.IOPackets, sum.S7.Jobs[s7ReadVar], sum.DNP3.FromMaster[dnpRead])
	}
}

func TestTsharkIndustrial(t *testing.T) {
	path, sum, tshark := tsharkCapture(t)
	hostIP := func(name string) string {
		for _, h := range sum.Hosts {
			if h.Name == name {
				return h.IP.String()
			}
		}
		t.Fatalf("no host %s", name)
		return ""
	}

	t.Run("dnp3", func(t *testing.T) {
		master, outstation := map[uint8]int{}, map[uint8]int{}
		for _, l := range tshark("-Y", "dnp3.al.func", "-T", "fields", "-E", "occurrence=f", "-e", "dnp3.ctl.dir", "-e", "dnp3.al.func") {
			f := strings.Split(l, "\t")
			fc, _ := strconv.Atoi(f[1])
			if f[0] == "1" {
				master[uint8(fc)]++
			} else {
				outstation[uint8(fc)]++
			}
		}
		if !mapsEqual(master, sum.DNP3.FromMaster) || !mapsEqual(outstation, sum.DNP3.FromOutstation) {
			t.Errorf("tshark: from master %v, from outstation %v; Summary %+v", master, outstation, sum.DNP3)
		}
		// The brief of the SCADA link: integrity and event polls, confirms,
		// time synchronisation, enabling unsolicited responses,
		// select/operate, direct operate and the scenario's cold restart.
		for _, fc := range []uint8{dnpConfirm, dnpRead, dnpWrite, dnpSelect, dnpOperate, dnpDirectOperate, dnpColdRestart, dnpEnableUnsol, dnpDelayMeasure} {
			if master[fc] == 0 {
				t.Errorf("no DNP3 request with function %d", fc)
			}
		}
		if outstation[dnpUnsolicited] == 0 || outstation[dnpResponse] == 0 {
			t.Errorf("outstation functions %v, want responses and unsolicited responses", outstation)
		}
		if bad := tshark("-Y", "dnp3.hdr.CRC.incorrect || dnp3.data_chunk.CRC.incorrect"); len(bad) > 0 {
			t.Errorf("%d frames with a wrong DNP3 CRC, first: %s", len(bad), bad[0])
		}
		checkEventTime(t, sum, ScenarioRestart, "dnp3-cold-restart", tshark("-Y", "dnp3.al.func == 13", "-T", "fields", "-e", "frame.time_epoch"))
	})

	t.Run("dnp3 crc oracle", func(t *testing.T) {
		// tshark does check the CRCs: a frame with one user-data octet
		// changed is flagged.
		exe := testenv.Program(t, "tshark", "tshark")
		frames := rawFrames(t, path)
		var bad []byte
		for _, f := range frames {
			if i := bytes.Index(f, []byte{0x05, 0x64}); i > 0 && len(f) > i+14 && f[i+3] == dnpCtlOutstation {
				bad = append([]byte(nil), f...)
				bad[i+11]++ // first application octet after the transport header
				break
			}
		}
		if bad == nil {
			t.Fatal("no DNP3 frame from the outstation")
		}
		one := filepath.Join(t.TempDir(), "bad.pcap")
		var buf bytes.Buffer
		w := capture.NewWriter(&buf, layers.LinkTypeEthernet, 0)
		if err := w.WriteHeader(); err != nil {
			t.Fatal(err)
		}
		if err := w.WritePacket(sum.Start, bad, len(bad)); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(one, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(exe, "-n", "-r", one, "-Y", "dnp3.data_chunk.CRC.incorrect").Output()
		if err != nil || len(bytes.TrimSpace(out)) == 0 {
			t.Errorf("tshark does not flag a corrupted DNP3 data chunk (%v)", err)
		}
	})

	t.Run("s7comm", func(t *testing.T) {
		jobs, acks := map[uint8]int{}, map[uint8]int{}
		udReq, udResp := map[S7Userdata]int{}, map[S7Userdata]int{}
		type key struct{ stream, ref string }
		open := map[key]string{}
		for _, l := range tshark("-Y", "s7comm", "-T", "fields", "-E", "occurrence=f", "-e", "tcp.stream", "-e", "s7comm.header.pduref",
			"-e", "s7comm.header.rosctr", "-e", "s7comm.param.func", "-e", "s7comm.param.userdata.type", "-e", "s7comm.param.userdata.funcgroup",
			"-e", "s7comm.param.userdata.subfunc", "-e", "ip.src") {
			f := strings.Split(l, "\t")
			fn, _ := strconv.ParseUint(strings.TrimPrefix(f[3], "0x"), 16, 8)
			grp, _ := strconv.Atoi(f[5])
			sub, _ := strconv.Atoi(f[6])
			k := key{f[0], f[1]}
			switch f[2] {
			case "1":
				jobs[uint8(fn)]++
				open[k] = f[7]
			case "3":
				acks[uint8(fn)]++
				if src, ok := open[k]; !ok || src == f[7] {
					t.Errorf("stream %s: ack_data with PDU reference %s answers no job from the peer", f[0], f[1])
				}
				delete(open, k)
			case "7":
				u := S7Userdata{uint8(grp), uint8(sub)}
				if f[4] == "4" {
					udReq[u]++
					open[k] = f[7]
				} else {
					udResp[u]++
					if _, ok := open[k]; !ok {
						t.Errorf("stream %s: userdata response %s answers no request", f[0], f[1])
					}
					delete(open, k)
				}
			}
		}
		if len(open) > 0 {
			t.Errorf("%d S7 requests without a response", len(open))
		}
		if !mapsEqual(jobs, sum.S7.Jobs) || !mapsEqual(acks, sum.S7.AckData) ||
			!keyedEqual(udReq, sum.S7.UserdataRequests) || !keyedEqual(udResp, sum.S7.UserdataResponses) {
			t.Errorf("tshark: jobs %v, ack_data %v, userdata %v / %v; Summary %+v", jobs, acks, udReq, udResp, sum.S7)
		}
		for _, fn := range []uint8{s7SetupComm, s7ReadVar, s7StartUpload, s7Upload, s7EndUpload, s7RequestDownload, s7DownloadBlock, s7DownloadEnded, s7PIService, s7PLCStop} {
			if jobs[fn] == 0 {
				t.Errorf("no S7 job with function %#02x", fn)
			}
		}
		pis := strings.Join(tshark("-Y", "s7comm.param.func == 0x28 || s7comm.param.func == 0x29", "-T", "fields", "-e", "s7comm.param.pistart.servicename"), " ")
		for _, svc := range []string{"_INSE", "P_PROGRAM"} {
			if !strings.Contains(pis, svc) {
				t.Errorf("PI services %q lack %s", pis, svc)
			}
		}
		checkEventTime(t, sum, ScenarioPLCStop, "plc-stop", tshark("-Y", "s7comm.param.func == 0x29 && s7comm.header.rosctr == 1 && ip.src == "+hostIP("hmi02"), "-T", "fields", "-e", "frame.time_epoch"))
		checkEventTime(t, sum, ScenarioPLCProgram, "upload", tshark("-Y", "s7comm.param.func == 0x1d && s7comm.header.rosctr == 1", "-T", "fields", "-e", "frame.time_epoch"))
	})

	t.Run("szl identity", func(t *testing.T) {
		id := siemensIdentity
		mod := tshark("-Y", "s7comm.szl.xy11.0001.index", "-T", "fields", "-E", "separator=|", "-e", "s7comm.szl.xy11.0001.index",
			"-e", "s7comm.szl.xy11.0001.anz", "-e", "s7comm.szl.xy11.0001.ausbg", "-e", "s7comm.szl.xy11.0001.ausbe")
		if len(mod) == 0 {
			t.Fatal("no SZL 0x0011 response")
		}
		f := strings.Split(mod[0], "|")
		idx, mlfb := strings.Split(f[0], ","), strings.Split(f[1], ",")
		ausbg, ausbe := strings.Split(f[2], ","), strings.Split(f[3], ",")
		for i := range idx {
			switch idx[i] {
			case "0x0001":
				if strings.TrimSpace(mlfb[i]) != id.OrderNumber {
					t.Errorf("SZL 0x0011 order number %q, plant %q", mlfb[i], id.OrderNumber)
				}
			case "0x0007":
				// Ausbg holds 'V' and the major version, Ausbe the minor
				// version and the patch level.
				g, _ := strconv.Atoi(ausbg[i])
				e, _ := strconv.Atoi(ausbe[i])
				if got := fmt.Sprintf("%c %d.%d.%d", g>>8, g&0xff, e>>8, e&0xff); got != id.Firmware {
					t.Errorf("SZL 0x0011 firmware %q, plant %q", got, id.Firmware)
				}
			}
		}
		comp := tshark("-Y", "s7comm.szl.001c.000x.index", "-T", "fields", "-E", "separator=|", "-e", "s7comm.szl.001c.0001.name",
			"-e", "s7comm.szl.001c.0005.serialn", "-e", "s7comm.szl.001c.0007.cputypname")
		want := id.Name + "|" + id.Serial + "|" + id.Product
		if len(comp) == 0 || comp[0] != want {
			t.Errorf("SZL 0x001C name|serial|type = %q, plant %q", comp, want)
		}
	})

	t.Run("enip", func(t *testing.T) {
		commands := map[uint16]int{}
		requests, responses := map[uint8]int{}, map[uint8]int{}
		for _, l := range tshark("-Y", "enip.command", "-T", "fields", "-E", "occurrence=f", "-e", "enip.command", "-e", "cip.sc", "-e", "cip.rr") {
			f := strings.Split(l, "\t")
			cmd, _ := strconv.ParseUint(strings.TrimPrefix(f[0], "0x"), 16, 16)
			commands[uint16(cmd)]++
			if f[1] == "" {
				continue
			}
			sc, _ := strconv.ParseUint(strings.TrimPrefix(f[1], "0x"), 16, 8)
			if f[2] == "0x01" {
				responses[uint8(sc)]++
			} else {
				requests[uint8(sc)]++
			}
		}
		if !keyedEqual(commands, sum.ENIP.Commands) || !mapsEqual(requests, sum.ENIP.CIPRequests) || !mapsEqual(responses, sum.ENIP.CIPResponses) {
			t.Errorf("tshark: commands %v, CIP requests %v, replies %v; Summary %+v", commands, requests, responses, sum.ENIP)
		}
		for _, cmd := range []uint16{enipListIdentity, enipRegisterSession, enipUnregisterSession, enipSendRRData, enipSendUnitData} {
			if commands[cmd] == 0 {
				t.Errorf("no ENIP command %#04x", cmd)
			}
		}
		for _, sc := range []uint8{cipGetAttrAll, cipReset, cipReadTag, cipForwardOpen, cipForwardClose, cipDownloadXfer} {
			if requests[sc] == 0 || responses[sc] != requests[sc] {
				t.Errorf("CIP service %#02x: %d requests, %d replies", sc, requests[sc], responses[sc])
			}
		}
		if n := len(tshark("-Y", "cipio")); n != sum.ENIP.IOPackets || n < 300 {
			t.Errorf("tshark sees %d class 1 packets, Summary %d, want a few hundred", n, sum.ENIP.IOPackets)
		}
		if n := len(tshark("-Y", "enip.command == 0x0063 && eth.dst == ff:ff:ff:ff:ff:ff")); n != 1 {
			t.Errorf("%d broadcast ListIdentity requests, want 1", n)
		}
		checkEventTime(t, sum, ScenarioFirmwareUpdate, "firmware-download-start", tshark("-Y", "cip.sc == 0x4c && cip.rr == 0 && ip.src == "+hostIP("ews01"), "-T", "fields", "-e", "frame.time_epoch"))
		checkEventTime(t, sum, ScenarioRestart, "cip-reset", tshark("-Y", "cip.sc == 0x05 && cip.rr == 0 && frame.time_epoch > "+strconv.FormatInt(sum.Start.Add(sum.End.Sub(sum.Start)/2).Unix(), 10), "-T", "fields", "-e", "frame.time_epoch"))
	})

	t.Run("list identity", func(t *testing.T) {
		id := rockwellIdentity
		got := tshark("-Y", "enip.lir.name", "-T", "fields", "-E", "separator=|", "-e", "ip.src", "-e", "enip.lir.vendor", "-e", "enip.lir.devtype",
			"-e", "enip.lir.prodcode", "-e", "enip.lir.revision", "-e", "enip.lir.serial", "-e", "enip.lir.name")
		// The revision is major then minor; tshark shows the two octets
		// as one value, major first.
		want := fmt.Sprintf("%s|0x%04x|%d|%d|%d|0x%s|%s", hostIP("plc03"), id.VendorID, id.DeviceType, id.ProductCode, 20<<8|11, id.Serial, id.Product)
		if len(got) != 1 || got[0] != want {
			t.Errorf("ListIdentity replies %q, want one %q", got, want)
		}
		if id.Firmware != "20.11" {
			t.Errorf("plant firmware %q, the test expects 20.11", id.Firmware)
		}
	})
}

// rawFrames returns the frames of a pcap file.
func rawFrames(t *testing.T, path string) [][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	src, err := capture.NewReader(f, "sim")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var out [][]byte
	for {
		p, err := src.ReadPacket()
		if err != nil {
			break
		}
		out = append(out, append([]byte(nil), p.Data...))
	}
	return out
}

func keyedEqual[K comparable](a, b map[K]int) bool {
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	for k, v := range b {
		if a[k] != v {
			return false
		}
	}
	return true
}
