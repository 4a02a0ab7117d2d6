package stream

import (
	"testing"

	"github.com/otwatch/otwatch/internal/dissect"
)

func flow(client, server uint16) *dissect.Flow {
	return &dissect.Flow{Client: dissect.Endpoint{Port: client}, Server: dissect.Endpoint{Port: server}}
}

func TestRoles(t *testing.T) {
	tests := []struct {
		name     string
		flow     *dissect.Flow
		settle   []bool // fromClient of messages seen ToServer, in order
		reversed bool
	}{
		{"nil flow", nil, nil, false},
		{"client to port", flow(40000, 502), nil, false},
		{"port opened the flow", flow(502, 40000), nil, true},
		{"port on both sides", flow(502, 502), nil, false},
		{"settled by a server message", flow(40000, 502), []bool{false}, true},
		{"settled by a client message", flow(502, 40000), []bool{true}, false},
		{"first settle counts", flow(40000, 502), []bool{true, false}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewRoles(tt.flow, 502)
			for _, c := range tt.settle {
				r.Settle(dissect.ToServer, c)
			}
			if r.Reversed() != tt.reversed || r.Settled() != (len(tt.settle) > 0) {
				t.Fatalf("reversed %v settled %v, want %v %v", r.Reversed(), r.Settled(), tt.reversed, len(tt.settle) > 0)
			}
			if got := r.FromClient(dissect.ToServer); got != !tt.reversed {
				t.Errorf("FromClient(ToServer) = %v, want %v", got, !tt.reversed)
			}
			if got := r.FromClient(dissect.ToClient); got != tt.reversed {
				t.Errorf("FromClient(ToClient) = %v, want %v", got, tt.reversed)
			}
			ctx := &dissect.Context{Flow: tt.flow}
			op := r.Op(ctx, "test")
			client := uint16(0)
			if tt.flow != nil {
				client = tt.flow.Client.Port
				if tt.reversed {
					client = tt.flow.Server.Port
				}
			}
			if op.Protocol != "test" || op.Client.Port != client {
				t.Errorf("Op = %s client port %d, want test %d", op.Protocol, op.Client.Port, client)
			}
		})
	}
}

// header finds the first 'H' in b.
func header(b []byte) int {
	for i, c := range b {
		if c == 'H' {
			return i
		}
	}
	return -1
}

func TestResync(t *testing.T) {
	tests := []struct {
		name   string
		lost   bool
		data   string
		from   int
		off    int
		ok     bool
		inStep bool // the direction is in step afterwards
	}{
		{"in step", false, "xxH", 1, 1, true, true},
		{"header found", true, "xxHx", 0, 2, true, true},
		{"header found after from", true, "Hx-xHx", 2, 4, true, true},
		{"no header keeps the tail", true, "xxxxxx", 0, 4, false, false},
		{"no header, short data", true, "x", 0, 0, false, false},
		{"no header, from past the tail", true, "xxxxxx", 5, 5, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Resync
			if tt.lost {
				r.Lost(dissect.ToClient)
			}
			off, ok := r.Find(dissect.ToClient, []byte(tt.data), tt.from, header, 2)
			if off != tt.off || ok != tt.ok || r[dissect.ToClient] == tt.inStep || r[dissect.ToServer] {
				t.Errorf("Find = %d, %v, state %v; want %d, %v, in step %v", off, ok, r, tt.off, tt.ok, tt.inStep)
			}
		})
	}
}

func TestResyncLostIgnoresOtherDirections(t *testing.T) {
	var r Resync
	r.Lost(dissect.ToClient + 1)
	if r != (Resync{}) {
		t.Errorf("state %v, want both in step", r)
	}
}

func TestAllocs(t *testing.T) {
	ctx := &dissect.Context{Flow: flow(502, 40000)}
	data := []byte("xxHx")
	n := testing.AllocsPerRun(100, func() {
		r := NewRoles(ctx.Flow, 502)
		r.Op(ctx, "test")
		var q Resync
		q.Lost(dissect.ToServer)
		q.Find(dissect.ToServer, data, 0, header, 2)
	})
	if n != 0 {
		t.Errorf("%v allocations per run, want 0", n)
	}
}
