package report

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-pdf/fpdf"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/inventory"
	"github.com/otwatch/otwatch/internal/testenv"
)

var t0 = time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)

// plcStop is the report of an S7 PLC STOP sent by an engineering
// workstation: the alert as the s7comm.plc_stop type raises it.
func plcStop() AlertReport {
	src := netip.MustParseAddr("10.1.1.50")
	dst := netip.MustParseAddr("10.1.2.10")
	srcMAC := dissect.MAC{0x00, 0x1c, 0x06, 0x11, 0x22, 0x33}
	dstMAC := dissect.MAC{0x00, 0x1b, 0x1b, 0x6e, 0x42, 0xa9}
	a := alert.Alert{
		ID:          "6f1c2a9e-0b7d-5c3e-9a41-2d7e8f9a0b1c",
		Type:        "s7comm.plc_stop",
		Title:       "S7 PLC STOP sent by EWS-01 (10.1.1.50) to PLC-Line1 (10.1.2.10)",
		Description: "EWS-01 (10.1.1.50) sent a PLC Stop job to Siemens controller PLC-Line1 (10.1.2.10). A CPU in STOP no longer runs its program.",
		Severity:    alert.High, Status: alert.New, Engine: alert.Operational, Category: "Restart/Stop command", Protocol: "s7comm",
		Source:      alert.Party{IP: src, MAC: srcMAC, Port: 49152, Name: "EWS-01"},
		Destination: alert.Party{IP: dst, MAC: dstMAC, Port: 102, Name: "PLC-Line1"},
		Sensor:      "sensor-hall-2", Site: "Plant Zürich", Zone: "Cell A",
		FirstDetection: t0, LastDetection: t0.Add(90 * time.Second), Count: 3,
		Tactics:    []string{"TA0104", "TA0103", "TA0107", "TA0105"},
		Techniques: []string{"T0858", "T0881", "T0813"},
		Remediation: []string{
			"Confirm with the operators whether PLC-Line1 was stopped on purpose, and by whom at EWS-01.",
			"If the stop was not planned, restart the CPU from the engineering station and compare its program with the approved project.",
			"Set the CPU's protection level so that only authorised stations can stop it.",
		},
		Learnable: true,
		Operation: &dissect.Operation{
			Time: t0, Protocol: "s7comm", Transport: "tcp",
			Client:       dissect.Endpoint{MAC: srcMAC, IP: src, Port: 49152},
			Server:       dissect.Endpoint{MAC: dstMAC, IP: dst, Port: 102},
			FunctionCode: 0x29, FunctionName: "PLC Stop", Class: dissect.ClassControl,
			Result:  dissect.Result{Status: dissect.StatusOK},
			Request: true, Response: true,
			Attrs:  []dissect.Attr{{Key: "pi_service", Value: "P_PROGRAM"}},
			Detail: "PLC Stop job (function 0x29) acknowledged by the CPU",
		},
		Details: []dissect.Attr{{Key: "rack_slot", Value: "0/2"}},
	}
	r := AlertReport{
		Alert: a,
		Source: &inventory.Device{ID: 5, Name: "EWS-01", IPs: []string{"10.1.1.50"}, MAC: srcMAC.String(),
			Vendor: "Dell", OS: "Windows 10", Type: inventory.TypeEngineering, Purdue: 2},
		Destination: &inventory.Device{ID: 1, Name: "PLC-Line1", IPs: []string{"10.1.2.10"}, MAC: dstMAC.String(),
			Vendor: "Siemens", Product: "S7-1500", Model: "6ES7 515-2AM01-0AB0", Firmware: "V2.8.3", Type: inventory.TypePLC, Purdue: 1},
		Packets: []Packet{
			{Time: t0.Add(-2 * time.Second), Source: "10.1.1.50:49152", Destination: "10.1.2.10:102", Protocol: "s7comm", Length: 85, Summary: "Setup communication"},
			{Time: t0, Source: "10.1.1.50:49152", Destination: "10.1.2.10:102", Protocol: "s7comm", Length: 87, Summary: "Job: PLC Stop"},
			{Time: t0.Add(20 * time.Millisecond), Source: "10.1.2.10:102", Destination: "10.1.1.50:49152", Protocol: "s7comm", Length: 76, Summary: "Ack_Data: PLC Stop"},
		},
		PacketTotal: 12,
		Recommendations: []Recommendation{
			{Severity: "High", Title: "Update PLC-Line1 firmware", Text: "Firmware V2.8.3 is affected by SSA-123456; update to V3.1."},
			{Severity: "Medium", Title: "Restrict S7 access", Text: "Allow S7 connections to PLC-Line1 only from EWS-01."},
		},
		Comments: []Comment{
			{Author: "anna.müller", Time: t0.Add(10 * time.Minute), Text: "Checked with the shift lead in Zürich → not planned. 日本 test."},
			{Author: "ops", Time: t0.Add(20 * time.Minute), Text: "Maintenance ticket MT-4711 opened."},
		},
		Generated: t0.Add(time.Hour),
	}
	for i := range 60 {
		r.Events = append(r.Events, Event{Time: t0.Add(time.Duration(i-30) * time.Second), Sensor: "sensor-hall-2", Type: "mode_change",
			Device: "10.1.2.10", Peer: "10.1.1.50", Detail: fmt.Sprintf("event number %d", i)})
	}
	r.Events[30] = Event{Time: t0, Type: "alert", Device: "10.1.2.10", Peer: "10.1.1.50", Detail: "S7 PLC stop command"}
	return r
}

func render(t testing.TB, in AlertReport) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := AlertPDF(&b, in); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

var pageObj = regexp.MustCompile(`/Type /Page[^s]`)

// checkStructure checks what every PDF file has (ISO 32000-1, 7.5): the
// header, page objects, a cross-reference table, a trailer and the
// end-of-file marker.
func checkStructure(t *testing.T, b []byte) int {
	t.Helper()
	if !bytes.HasPrefix(b, []byte("%PDF-1.")) {
		t.Errorf("does not start with %%PDF-1.: %q", b[:min(len(b), 10)])
	}
	if !bytes.HasSuffix(bytes.TrimRight(b, "\r\n"), []byte("%%EOF")) {
		t.Errorf("does not end with %s", "%%EOF")
	}
	for _, s := range []string{"/Type /Pages", "/Type /Catalog", "\nxref\n", "\ntrailer\n", "startxref"} {
		if !bytes.Contains(b, []byte(s)) {
			t.Errorf("no %q", s)
		}
	}
	n := len(pageObj.FindAll(b, -1))
	if n == 0 {
		t.Error("no /Page object")
	}
	return n
}

// pdftotext returns the text of a PDF as poppler reads it, with every run
// of white space made one space.
func pdftotext(t *testing.T, b []byte) string {
	t.Helper()
	prog := testenv.Program(t, "pdftotext", "poppler-utils")
	path := filepath.Join(t.TempDir(), "alert.pdf")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(prog, "-enc", "UTF-8", path, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return strings.Join(strings.Fields(string(out)), " ")
}

// pdfPages returns the page count pdfinfo (poppler) reads.
func pdfPages(t *testing.T, b []byte) int {
	t.Helper()
	prog := testenv.Program(t, "pdfinfo", "poppler-utils")
	path := filepath.Join(t.TempDir(), "alert.pdf")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(prog, path).CombinedOutput()
	if err != nil {
		t.Fatalf("pdfinfo: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`(?m)^Pages:\s+(\d+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("pdfinfo gives no page count:\n%s", out)
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

func TestStructure(t *testing.T) {
	b := render(t, plcStop())
	n := checkStructure(t, b)
	if n < 2 {
		t.Errorf("%d pages for a report with 50 timeline rows, want several", n)
	}
	if !bytes.Equal(b, render(t, plcStop())) {
		t.Error("the same report gives different bytes")
	}
}

func TestText(t *testing.T) {
	in := plcStop()
	b := render(t, in)
	text := pdftotext(t, b)
	pages := pdfPages(t, b)
	if n := checkStructure(t, b); n != pages {
		t.Errorf("%d /Page objects, pdfinfo reads %d pages", n, pages)
	}
	want := []string{
		in.Alert.Title,
		"ALERT REPORT",
		// Summary: values as the alert package names them.
		"Severity High", "Status New", "Engine Operational", "Category Restart/Stop command",
		"Type s7comm.plc_stop", "Protocol s7comm", "Sensor sensor-hall-2", "Site Plant Zürich", "Zone Cell A",
		"First detection 2025-03-14 09:26:53.000 UTC", "Last detection 2025-03-14 09:28:23.000 UTC", "Count 3",
		// Devices.
		"Source device", "Name EWS-01", "MAC address 00:1c:06:11:22:33",
		"Destination device", "Name PLC-Line1", "Vendor Siemens", "Firmware V2.8.3", "Purdue level 1", "Type plc",
		// ATT&CK for ICS: ids and names as MITRE publishes them
		// (ics-attack.json), tactics included.
		"T0858", "Change Operating Mode", "T0881", "Service Stop", "T0813", "Denial of Control",
		"TA0104", "Execution", "TA0107", "Inhibit Response Function",
		"Adversaries may stop or disable services",
		// The operation.
		"PLC Stop job (function 0x29) acknowledged by the CPU", "PLC Stop (code 41, 0x29)", "Operation class control",
		"10.1.1.50:49152 (00:1c:06:11:22:33)", "pi_service P_PROGRAM", "rack_slot 0/2",
		// Timeline excerpt: the first 50 rows only.
		"event number 0", "event number 49", "10 more events not shown.",
		// Evidence.
		"Packets 12 (3 decoded below)", "Time (UTC)", "2025-03-14 09:26:53.020", "First packet 2025-03-14 09:26:51.000 UTC", "Job: PLC Stop", "Ack_Data: PLC Stop",
		// Remediation, recommendations, comments (UTF-8 kept or spelled).
		"1. Confirm with the operators whether PLC-Line1 was stopped on purpose",
		"3. Set the CPU's protection level",
		"[High] Update PLC-Line1 firmware", "Firmware V2.8.3 is affected by SSA-123456",
		"anna.müller · 2025-03-14 09:36:53.000 UTC",
		"Checked with the shift lead in Zürich -> not planned. ?? test.",
		"Maintenance ticket MT-4711 opened.",
		fmt.Sprintf("Page 1 of %d", pages),
		"generated 2025-03-14 10:26:53.000 UTC",
	}
	for _, s := range want {
		if !strings.Contains(text, s) {
			t.Errorf("pdftotext does not find %q", s)
		}
	}
	for _, s := range []string{"event number 50", "{nb}"} {
		if strings.Contains(text, s) {
			t.Errorf("pdftotext finds %q", s)
		}
	}
	if t.Failed() {
		t.Logf("pdftotext:\n%s", text)
	}
}

// TestSparse renders alerts that lack most parts: every section says so
// instead of failing.
func TestSparse(t *testing.T) {
	tests := []struct {
		name string
		in   AlertReport
		want []string
	}{
		{"bare", AlertReport{Alert: alert.Alert{ID: "a1", Type: "scan.tcp"}},
			[]string{"scan.tcp", "Severity -", "Not known.", "The alert names no technique.", "No single operation triggered this alert.",
				"No events recorded", "No packets were kept", "No remediation steps", "No recommendations", "No comments."}},
		{"parties only", AlertReport{Alert: alert.Alert{Title: "Scan from 10.0.0.9", Source: alert.Party{IP: netip.MustParseAddr("10.0.0.9"), Port: 4444},
			Techniques: []string{"T0846", "T9999"}}},
			[]string{"Scan from 10.0.0.9", "Not in the inventory", "IP address 10.0.0.9", "Port 4444", "T0846", "Remote System Discovery",
				"TA0102", "Discovery", "T9999 (not in ATT&CK for ICS"}},
		{"packet total only", AlertReport{Alert: alert.Alert{ID: "a2"}, PacketTotal: 5}, []string{"Alert a2", "Packets 5"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := render(t, tt.in)
			checkStructure(t, b)
			text := pdftotext(t, b)
			for _, s := range tt.want {
				if !strings.Contains(text, s) {
					t.Errorf("pdftotext does not find %q in %q", s, text)
				}
			}
		})
	}
}

// TestHostileText feeds text a PDF writer must survive: invalid UTF-8,
// control characters, characters Windows-1252 lacks, huge fields and a
// cell longer than a page.
func TestHostileText(t *testing.T) {
	in := plcStop()
	in.Alert.Title = "bad \xff\xfe title\x00\x1b[31m ✓ 🚨 " + strings.Repeat("long ", 400)
	in.Alert.Description = strings.Repeat("ä€漢\u0301\t", 3000)
	in.Comments = append(in.Comments, Comment{Author: "\xc3", Text: strings.Repeat("x", 100000)})
	in.Events[0].Detail = strings.Repeat("word ", 3000)
	in.Events[1].Detail = strings.Repeat("unbreakable", 1000)
	in.Alert.Operation.Targets = make([]dissect.Target, 500)
	in.Location = time.FixedZone("CET", 3600)
	b := render(t, in)
	checkStructure(t, b)
	text := pdftotext(t, b)
	for _, s := range []string{"bad ?? title[31m v ? long", "ä€漢", "2025-03-14 10:26:53.000 CET", "and 480 more"} {
		if s == "ä€漢" {
			s = "ä€?" // U+0301 is a combining mark: left out
		}
		if !strings.Contains(text, s) {
			t.Errorf("pdftotext does not find %q", s)
		}
	}
}

func TestErrors(t *testing.T) {
	full := plcStop()
	tests := []struct {
		name string
		w    io.Writer
		in   AlertReport
		want string
	}{
		{"nil writer", nil, full, "nil writer"},
		{"empty alert", io.Discard, AlertReport{}, "no id, title or type"},
		{"failing writer", failWriter{}, full, "disk full"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := AlertPDF(tt.w, tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "report: ") {
				t.Errorf("error %v, want one naming %q", err, tt.want)
			}
		})
	}
}

var errDiskFull = errors.New("disk full")

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errDiskFull }

// TestEncode checks the text sent to the core fonts against the
// Windows-1252 code page (Microsoft's cp1252 table: ü is 0xFC, € 0x80,
// • 0x95, – 0x96, no Ω or CJK).
func TestEncode(t *testing.T) {
	e := newEncoder(fpdf.New("P", "mm", "A4", "").UnicodeTranslatorFromDescriptor("cp1252"))
	tests := []struct {
		in        string
		multiline bool
		want      string
	}{
		{"plain ASCII", false, "plain ASCII"},
		{"Zürich", false, "Z\xfcrich"},
		{"€ 5 – • …", false, "\x80 5 \x96 \x95 \x85"},
		{"a → b ≥ c", false, "a -> b >= c"},
		{"Ω 日本 🚨", false, "? ?? ?"},
		{"bad \xff byte", false, "bad ? byte"},
		{"e\u0301", false, "e"},
		{"tab\there", false, "tab here"},
		{"nul\x00 esc\x1b del\x7f c1\u0085", false, "nul esc del c1"},
		{"two\nlines", false, "two lines"},
		{"two\nlines", true, "two\nlines"},
		{"zero\u200bwidth\ufeff", false, "zerowidth"},
		{"Łódź", false, "L\xf3dz"},
	}
	for _, tt := range tests {
		if got := e.tr(e.clean(tt.in, tt.multiline)); got != tt.want {
			t.Errorf("encode(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := capRunes("äöü", 2); got != "äö..." {
		t.Errorf("capRunes = %q", got)
	}
}

func BenchmarkAlertPDF(b *testing.B) {
	in := plcStop()
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := AlertPDF(&buf, in); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len()), "pdf-bytes")
}
