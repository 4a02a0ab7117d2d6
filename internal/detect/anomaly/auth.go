package anomaly

import (
	"github.com/otwatch/otwatch/internal/detect"
	"github.com/otwatch/otwatch/internal/dissect"
)

// loginFailed counts a failed authentication (an FTP, Telnet, SMB, S7
// password ... operation of class authentication whose result is an
// error) between its client and server, and raises once per window when
// the count reaches the threshold.
func (e *engine) loginFailed(d *detect.Detector, op *dissect.Operation) {
	if !op.Client.IP.IsValid() || !op.Server.IP.IsValid() {
		return
	}
	t := op.Time.UnixNano()
	c, created := e.logins.get(pairKey{op.Client.IP, op.Server.IP}, t)
	if created || c.due(t) {
		c.restart(t, d.Threshold(LoginAttempts, op.Server.IP), LoginAttempts.Threshold)
	}
	if !c.hit() {
		return
	}
	d.Raise(detect.Finding{Type: LoginAttempts, Time: op.Time, Protocol: op.Protocol, Source: detect.Party(op.Client), Destination: detect.Party(op.Server),
		Key: op.Protocol, Op: op, Detail: plural(c.n, "time", "times") + " within " + within(c.th.Window),
		Details: windowDetails("failures", c.n, c.th)})
}
