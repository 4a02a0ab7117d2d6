package operational

import (
	"net/netip"
	"strings"
	"time"

	"github.com/otwatch/otwatch/internal/detect"
	"github.com/otwatch/otwatch/internal/dissect"
)

// DNP3 application function codes (IEEE 1815-2012, table 4-1).
const (
	dnpWrite              = 2
	dnpColdRestart        = 13
	dnpWarmRestart        = 14
	dnpStopApplication    = 18
	dnpDisableUnsolicited = 21
)

// Restart indication states of an outstation.
const (
	restartUnknown uint8 = iota // no response seen yet
	restartSet                  // IIN1.7 set in the last response
	restartClear                // IIN1.7 clear in the last response
)

// outstation is what the engine knows of a DNP3 outstation from its
// responses' internal indications.
type outstation struct {
	seen     time.Time
	restart  uint8
	needTime bool      // IIN1.4 in the last response
	known    bool      // a response was seen, so needTime means something
	asked    time.Time // last cold or warm restart request
}

func (o *outstation) touched() time.Time { return o.seen }

// dnp3 raises the DNP3 types from requests (restarts, stop application,
// disable unsolicited, time writes) and from the outstation's internal
// indications (restarts it did not announce).
func (e *engine) dnp3(d *detect.Detector, op *dissect.Operation) {
	if op.Attr("layer") != "" {
		return // link and transport layer operations carry no application function
	}
	if op.Request {
		switch op.FunctionCode {
		case dnpColdRestart, dnpWarmRestart:
			t := DNP3ColdRestart
			if op.FunctionCode == dnpWarmRestart {
				t = DNP3WarmRestart
			}
			f := finding(t, op, refusal(op))
			f.Details = resultDetails(op)
			d.Raise(f)
			if o := e.outstation(op.Server.IP, op.Time); o != nil {
				o.asked = op.Time
			}
		case dnpStopApplication:
			f := finding(DNP3StopApplication, op, refusal(op))
			f.Details = resultDetails(op)
			d.Raise(f)
		case dnpDisableUnsolicited:
			f := finding(DNP3UnsolicitedDisabled, op, eventClasses(op))
			f.Details = resultDetails(op)
			d.Raise(f)
		case dnpWrite:
			if op.Class != dissect.ClassTime {
				break
			}
			// Judge by the indications before this write: its own
			// response already has NEED_TIME cleared.
			if o := e.dnp[op.Server.IP]; o != nil && o.known && !o.needTime {
				f := finding(DNP3TimeSet, op, refusal(op))
				f.Details = resultDetails(op)
				d.Raise(f)
			}
		}
	}
	if op.Response {
		e.indications(d, op)
	}
}

// indications follows an outstation's internal indications in a response
// or unsolicited response.
func (e *engine) indications(d *detect.Detector, op *dissect.Operation) {
	restart, needTime := false, false
	for _, a := range op.Attrs {
		if a.Key != "iin" {
			continue
		}
		switch a.Value {
		case "device_restart":
			restart = true
		case "need_time":
			needTime = true
		}
	}
	o := e.dnp[op.Server.IP]
	if o == nil {
		if o = e.outstation(op.Server.IP, op.Time); o == nil {
			return
		}
	}
	o.seen = op.Time
	o.known, o.needTime = true, needTime
	if !restart {
		o.restart = restartClear
		return
	}
	if o.restart == restartClear && (o.asked.IsZero() || op.Time.Sub(o.asked) > restartGrace) {
		f := finding(DNP3OutstationRestarted, op, "")
		f.Details = []dissect.Attr{{Key: "iin", Value: "device_restart"}, {Key: "function", Value: op.FunctionName}}
		d.Raise(f)
	}
	o.restart = restartSet
}

// outstation returns the state of the outstation at a, making it if
// needed; nil for an invalid address.
func (e *engine) outstation(a netip.Addr, t time.Time) *outstation {
	if !a.IsValid() {
		return nil
	}
	if o := e.dnp[a]; o != nil {
		return o
	}
	makeRoom(e.dnp, maxOutstations, &e.scratch)
	o := &outstation{seen: t}
	e.dnp[a] = o
	return o
}

// eventClasses names the event classes a request's class objects (group
// 60, variations 2 to 4) select: "class 1, 2 and 3 events".
func eventClasses(op *dissect.Operation) string {
	var cs []string
	for _, t := range op.Targets {
		switch t.Name {
		case "g60v2":
			cs = append(cs, "1")
		case "g60v3":
			cs = append(cs, "2")
		case "g60v4":
			cs = append(cs, "3")
		}
	}
	switch len(cs) {
	case 0:
		return "the objects named"
	case 1:
		return "class " + cs[0] + " events"
	}
	return "class " + strings.Join(cs[:len(cs)-1], ", ") + " and " + cs[len(cs)-1] + " events"
}
