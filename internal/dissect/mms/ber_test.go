package mms

import (
	"encoding/hex"
	"strings"
	"testing"
)

func hx(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// X.690 8.1.2 (identifier octets, high tag numbers) and 8.1.3 (length
// octets, short and long form).
func TestNext(t *testing.T) {
	tests := []struct {
		name, in  string
		class     uint8
		cons      bool
		tag       uint32
		val, rest string
		ok        bool
	}{
		{"universal INTEGER", "02 01 05 ff", classUniversal, false, tagInteger, "05", "ff", true},
		{"context constructed", "a1 03 80 01 00", classContext, true, 1, "800100", "", true},
		{"high tag [72]", "bf 48 02 80 00", classContext, true, 72, "8000", "", true},
		{"high tag [79] primitive", "9f 4f 00", classContext, false, 79, "", "", true},
		{"application 1", "61 00", classApplication, true, 1, "", "", true},
		{"long form length", "04 81 02 aa bb", classUniversal, false, tagOctetString, "aabb", "", true},
		{"two-octet length", "04 82 0001 cc", classUniversal, false, tagOctetString, "cc", "", true},
		{"indefinite length", "30 80 00 00", 0, false, 0, "", "", false},
		{"length past the end", "30 05 00", 0, false, 0, "", "", false},
		{"high tag cut", "bf 81", 0, false, 0, "", "", false},
		{"high tag too long", "bf 81 81 81 81 01 00", 0, false, 0, "", "", false},
		{"long length cut", "04 82 00", 0, false, 0, "", "", false},
		{"short", "02", 0, false, 0, "", "", false},
	}
	for _, tt := range tests {
		var v tlv
		rest, ok := next(hx(t, tt.in), &v)
		if ok != tt.ok {
			t.Errorf("%s: ok %v, want %v", tt.name, ok, tt.ok)
			continue
		}
		if !ok {
			continue
		}
		if v.class != tt.class || v.cons != tt.cons || v.tag != tt.tag || hex.EncodeToString(v.val) != tt.val || hex.EncodeToString(rest) != tt.rest {
			t.Errorf("%s: %+v rest %x", tt.name, v, rest)
		}
	}
}

// X.690 8.3 (INTEGER, two's complement) and 8.19 (OBJECT IDENTIFIER).
func TestValues(t *testing.T) {
	if v, ok := intVal(hx(t, "00 fd e8")); !ok || v != 65000 {
		t.Errorf("intVal 65000 = %d %v", v, ok)
	}
	if v, ok := intVal(hx(t, "ff 7f")); !ok || v != -129 {
		t.Errorf("intVal -129 = %d %v", v, ok)
	}
	if _, ok := uintVal(hx(t, "80")); ok {
		t.Error("uintVal accepted a negative number")
	}
	if v, ok := uintVal(hx(t, "00 ff ff ff ff")); !ok || v != 0xffffffff {
		t.Errorf("uintVal = %d %v", v, ok)
	}
	for in, want := range map[string]string{
		"28 ca 22 02 03": "1.0.9506.2.3",
		"52 01 00 01":    "2.2.1.0.1",
		"29 01 87 67":    "1.1.1.999",
		"88 37":          "2.999",
	} {
		if got, ok := appendOID(nil, hx(t, in)); !ok || string(got) != want {
			t.Errorf("OID %s = %q %v, want %s", in, got, ok, want)
		}
	}
	if _, ok := appendOID(nil, hx(t, "28 ca")); ok {
		t.Error("OID ending inside a sub-identifier accepted")
	}
}
