package sqlite

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/store"
)

// benchPcapng returns a pcapng file of n bytes: a section header block
// and an interface block, padded with a custom block readers skip.
func benchPcapng(n int) []byte {
	shb := []byte{0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 28, 0, 0, 0}
	idb := []byte{1, 0, 0, 0, 20, 0, 0, 0, 1, 0, 0, 0, 0, 0, 4, 0, 20, 0, 0, 0}
	b := append(shb, idb...)
	pad := (n - len(b)) &^ 3
	blk := make([]byte, pad)
	copy(blk, []byte{0xbd, 0x0b, 0, 0})
	blk[4], blk[5], blk[6] = byte(pad), byte(pad>>8), byte(pad>>16)
	blk[pad-4], blk[pad-3], blk[pad-2] = byte(pad), byte(pad>>8), byte(pad>>16)
	return append(b, blk...)
}

// benchAlerts stores n alerts and returns their IDs.
func benchAlerts(b *testing.B, s store.Store, n int) []string {
	b.Helper()
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	as := make([]*alert.Alert, n)
	ids := make([]string, n)
	for i := range as {
		ids[i] = fmt.Sprintf("alert-%04d", i)
		as[i] = &alert.Alert{ID: ids[i], Type: "scan.port", Severity: alert.Low, Engine: alert.Policy, Sensor: "s1",
			FirstDetection: t0.Add(time.Duration(i) * time.Second)}
	}
	if err := s.PutAlerts(context.Background(), as); err != nil {
		b.Fatal(err)
	}
	return ids
}

// BenchmarkPutEvidence stores pcapng evidence of 1 KiB to 50 KiB, one
// file per call.
func BenchmarkPutEvidence(b *testing.B) {
	ctx := context.Background()
	for _, size := range []int{1 << 10, 10 << 10, 50 << 10} {
		data := benchPcapng(size)
		b.Run(fmt.Sprintf("one/%dKiB", size>>10), func(b *testing.B) {
			s := openTemp(b, store.Options{EvidenceDir: b.TempDir(), EvidenceMaxBytes: -1})
			defer s.Close()
			ids := benchAlerts(b, s, 256)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if err := s.PutEvidence(ctx, ids[i%len(ids)], data); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// BenchmarkPutEvidenceBatch stores the same files as BenchmarkPutEvidence,
// 32 per PutEvidenceBatch; ns/op and B/op are per file.
func BenchmarkPutEvidenceBatch(b *testing.B) {
	ctx := context.Background()
	const batch = 32
	for _, size := range []int{1 << 10, 10 << 10, 50 << 10} {
		data := benchPcapng(size)
		b.Run(fmt.Sprintf("%dKiB", size>>10), func(b *testing.B) {
			s := openTemp(b, store.Options{EvidenceDir: b.TempDir(), EvidenceMaxBytes: -1}).(*DB)
			defer s.Close()
			ids := benchAlerts(b, s, 256)
			evs := make([]store.Evidence, batch)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				evs[i%batch] = store.Evidence{AlertID: ids[i%len(ids)], Pcapng: data}
				i++
				if i%batch == 0 {
					if err := s.PutEvidenceBatch(ctx, evs); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
