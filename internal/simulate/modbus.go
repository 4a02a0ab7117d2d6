package simulate

import (
	"math/rand/v2"
	"time"
)

// Modbus function codes and exception codes used by the plant ("MODBUS
// Application Protocol Specification V1.1b3", sections 6 and 7).
const (
	fcReadCoils          = 0x01
	fcReadHolding        = 0x03
	fcReadInput          = 0x04
	fcWriteSingle        = 0x06
	excIllegalFunction   = 0x01
	excIllegalAddress    = 0x02
	excIllegalValue      = 0x03
	modbusPort           = 502
	numHolding           = 32
	numInput             = 16
	numCoils             = 16
	badAddress           = 0x0400 // an address past every device's map
	regTempSetpoint      = 0
	regTemp              = 1
	regPressureSetpoint  = 2
	regPressure          = 3
	regSpeed             = 4
	regFlow              = 5
	regRuntimeLow        = 6
	regRuntimeHigh       = 7
	regBatches           = 8
	regMode              = 9
	regAlarms            = 10
	coilPump             = 0
	coilHeater           = 3
	coilAlarm            = 4
	pressureAlarm        = 3000
	analogFullScale      = 27648 // Siemens-style raw value of 100 % span
	temperatureSpanTenth = 1500  // 0..150.0 °C
)

// device is a Modbus server with a small process behind its registers.
type device struct {
	n          *node
	unit       uint8
	rng        *rand.Rand
	minDelay   time.Duration // time to answer a request
	maxDelay   time.Duration
	last       time.Duration // process time of the registers
	hr         [numHolding]uint16
	coils      [numCoils]bool
	temp, pres float64 // process values, tenths of °C and mbar
	runtime    uint32  // seconds the pump ran
}

func newDevice(n *node, unit uint8, rng *rand.Rand, minDelay, maxDelay time.Duration) *device {
	d := &device{n: n, unit: unit, rng: rng, minDelay: minDelay, maxDelay: maxDelay}
	d.hr[regTempSetpoint] = uint16(600 + 10*rng.IntN(10))
	d.hr[regPressureSetpoint] = uint16(2000 + 100*rng.IntN(8))
	d.hr[regMode] = 1
	for i := regAlarms + 1; i < numHolding; i++ {
		d.hr[i] = uint16(100 * i) // configuration constants
	}
	d.temp = float64(d.hr[regTempSetpoint]) - 40
	d.pres = float64(d.hr[regPressureSetpoint])
	d.runtime = uint32(3600 * (100 + rng.IntN(5000)))
	d.coils[coilPump] = true
	d.coils[1] = rng.IntN(2) == 0
	d.coils[2] = true
	d.update()
	return d
}

// advance runs the process in one-second steps up to now.
func (d *device) advance(now time.Duration) {
	for d.last+time.Second <= now {
		d.last += time.Second
		d.step()
	}
}

func (d *device) step() {
	r := d.rng
	sp := float64(d.hr[regTempSetpoint])
	if d.coils[coilHeater] {
		d.temp += 1.5 + r.Float64()
	} else {
		d.temp -= 0.5 + r.Float64()
	}
	switch { // thermostat with hysteresis
	case d.temp < sp-5:
		d.coils[coilHeater] = true
	case d.temp > sp+5:
		d.coils[coilHeater] = false
	}
	d.pres += (float64(d.hr[regPressureSetpoint])-d.pres)/10 + 8*(r.Float64()-0.5)
	if r.IntN(600) == 0 {
		d.coils[coilPump] = !d.coils[coilPump]
	}
	if d.coils[coilPump] {
		d.runtime++
	}
	if r.IntN(90) == 0 {
		d.hr[regBatches]++
	}
	d.update()
}

// update derives the registers from the process values.
func (d *device) update() {
	r := d.rng
	d.hr[regTemp] = uint16(max(0, d.temp))
	d.hr[regPressure] = uint16(max(0, d.pres))
	if d.coils[coilPump] {
		d.hr[regSpeed] = uint16(1475 + r.IntN(10))
		d.hr[regFlow] = uint16(1190 + r.IntN(20))
	} else {
		d.hr[regSpeed], d.hr[regFlow] = 0, 0
	}
	d.hr[regRuntimeLow] = uint16(d.runtime)
	d.hr[regRuntimeHigh] = uint16(d.runtime >> 16)
	d.coils[coilAlarm] = d.pres > pressureAlarm
	d.hr[regAlarms] = 0
	if d.coils[coilAlarm] {
		d.hr[regAlarms] = 1
	}
}

// input returns input register i: raw analog values scaled to 0..27648.
func (d *device) input(i int) uint16 {
	scale := func(v, span float64) uint16 { return uint16(min(max(v/span, 0), 1) * analogFullScale) }
	switch i {
	case 0:
		return scale(d.temp, temperatureSpanTenth)
	case 1:
		return scale(d.pres, 4000)
	case 2:
		return scale(float64(d.hr[regFlow]), 2000)
	case 3:
		return scale(float64(d.hr[regSpeed]), 1500)
	case 4: // tank level, 0..100 %, slow sine with noise
		return scale(50+20*sinApprox(float64(d.last)/float64(7*time.Minute))+d.rng.Float64(), 100)
	}
	return 0
}

// sinApprox is a triangle wave in [-1, 1] with period 1, enough for a tank
// level and cheaper than a dependency on math.
func sinApprox(x float64) float64 {
	x -= float64(int64(x))
	if x < 0.5 {
		return 4*x - 1
	}
	return 3 - 4*x
}

// mbap returns the Modbus/TCP ADU of pdu: the MBAP header (transaction id,
// protocol 0, length of unit id plus PDU, unit id) followed by the PDU.
func mbap(tid uint16, unit uint8, pdu []byte) []byte {
	b := make([]byte, 0, 7+len(pdu))
	b = be16(b, tid)
	b = be16(b, 0)
	b = be16(b, uint16(1+len(pdu)))
	b = append(b, unit)
	return append(b, pdu...)
}

// readRequest returns the PDU of a read of qty items from addr.
func readRequest(fc uint8, addr, qty uint16) []byte {
	return be16(be16([]byte{fc}, addr), qty)
}

// writeRequest returns the PDU of a Write Single Register.
func writeRequest(addr, value uint16) []byte {
	return be16(be16([]byte{fcWriteSingle}, addr), value)
}

// respond returns the response PDU to a request PDU, as a server with the
// device's register map answers it, exceptions included.
func (d *device) respond(req []byte) []byte {
	if len(req) == 0 {
		return []byte{0x80, excIllegalFunction}
	}
	fc := req[0]
	exc := func(code uint8) []byte { return []byte{fc | 0x80, code} }
	if len(req) != 5 {
		return exc(excIllegalValue)
	}
	addr := uint16(req[1])<<8 | uint16(req[2])
	qty := uint16(req[3])<<8 | uint16(req[4])
	switch fc {
	case fcReadCoils:
		if qty < 1 || qty > 2000 {
			return exc(excIllegalValue)
		}
		if int(addr)+int(qty) > numCoils {
			return exc(excIllegalAddress)
		}
		out := make([]byte, 2+(qty+7)/8)
		out[0], out[1] = fc, byte((qty+7)/8)
		for i := range int(qty) {
			if d.coils[int(addr)+i] {
				out[2+i/8] |= 1 << (i % 8)
			}
		}
		return out
	case fcReadHolding, fcReadInput:
		limit := numHolding
		if fc == fcReadInput {
			limit = numInput
		}
		if qty < 1 || qty > 125 {
			return exc(excIllegalValue)
		}
		if int(addr)+int(qty) > limit {
			return exc(excIllegalAddress)
		}
		out := []byte{fc, byte(2 * qty)}
		for i := range int(qty) {
			v := d.input(int(addr) + i)
			if fc == fcReadHolding {
				v = d.hr[int(addr)+i]
			}
			out = be16(out, v)
		}
		return out
	case fcWriteSingle:
		if int(addr) >= numHolding {
			return exc(excIllegalAddress)
		}
		d.hr[addr] = qty
		return append([]byte(nil), req...)
	}
	return exc(excIllegalFunction)
}

// transact emits a Modbus request on c at t and the device's response, and
// returns the time of the response.
func (d *device) transact(c *conn, t time.Duration, tid uint16, req []byte) time.Duration {
	d.advance(t)
	resp := d.respond(req)
	f := c.send(t, true, flagPSH|flagACK, mbap(tid, d.unit, req), nil)
	f.mark, f.fc = markModbusRequest, req[0]
	t += between(d.rng, d.minDelay, d.maxDelay)
	f = c.send(t, false, flagPSH|flagACK, mbap(tid, d.unit, resp), nil)
	f.mark, f.fc = markModbusResponse, resp[0]
	return t
}
