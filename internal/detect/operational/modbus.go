package operational

import (
	"net/netip"
	"strconv"
	"time"

	"github.com/otwatch/otwatch/internal/detect"
	"github.com/otwatch/otwatch/internal/dissect"
)

// pair is a client and a server.
type pair struct{ client, server netip.Addr }

// excCounter counts the exception responses of one server to one client.
type excCounter struct {
	seen   time.Time
	w      window
	raised time.Time // when the last alert was raised, to raise once a window
}

func (c *excCounter) touched() time.Time { return c.seen }

// modbus counts exception responses per client and server, and raises a
// burst when a window holds the threshold's count.
func (e *engine) modbus(d *detect.Detector, op *dissect.Operation) {
	if !op.Response || op.Result.Status != dissect.StatusError {
		return
	}
	th := d.Threshold(ModbusExceptionBurst, op.Server.IP)
	if th.Count <= 0 || th.Window <= 0 {
		return
	}
	k := pair{op.Client.IP, op.Server.IP}
	c := e.excs[k]
	if c == nil {
		makeRoom(e.excs, maxPairs, &e.scratch)
		c = &excCounter{}
		e.excs[k] = c
	}
	c.seen = op.Time
	n := c.w.add(op.Time, th.Window)
	if n < th.Count || !c.raised.IsZero() && op.Time.Sub(c.raised) < th.Window {
		return
	}
	c.raised = op.Time
	f := finding(ModbusExceptionBurst, op, strconv.Itoa(n))
	f.Details = []dissect.Attr{
		{Key: "exceptions", Value: strconv.Itoa(n)},
		{Key: "threshold", Value: th.String()},
		{Key: "last_exception", Value: strconv.Itoa(op.Result.Code) + " " + op.Result.Text},
		{Key: "last_function", Value: op.FunctionName},
	}
	d.Raise(f)
}
