package tpkt

// Reassembler joins the user data of COTP DT TPDUs into transport service
// data units: a TSDU is carried by DT TPDUs whose EOT bit is clear,
// closed by one whose EOT bit is set (ISO 8073 section 6.3, "segmenting
// and reassembling"; section 13.7 for the EOT bit). It keeps one
// direction of one connection; its zero value holds nothing and is ready
// once Max is set.
//
// A TSDU that fits one DT is handed back without copying. Joined TSDUs
// live in a buffer the Reassembler reuses: the bytes Add returns are valid
// until the next Add or Reset.
type Reassembler struct {
	// Max bounds a joined TSDU; bytes past it are dropped and Truncated
	// reports it. 0 keeps nothing of a segmented TSDU but its EOT part.
	Max int

	buf       []byte
	pending   bool
	overflow  bool
	joined    bool
	truncated bool
}

// Pending reports whether DT TPDUs without EOT are waiting for the one
// that ends their TSDU.
func (r *Reassembler) Pending() bool { return r.pending }

// Add adds the user data of one DT TPDU. It returns the whole TSDU and
// true when eot ends one; data itself when no earlier DT is pending. It
// returns nil and false while the TSDU goes on.
func (r *Reassembler) Add(data []byte, eot bool) ([]byte, bool) {
	if !r.pending {
		if eot {
			r.joined, r.truncated = false, false
			return data, true
		}
		r.pending, r.overflow = true, false
		r.buf = r.buf[:0]
	}
	r.append(data)
	if !eot {
		return nil, false
	}
	r.pending = false
	r.joined, r.truncated = true, r.overflow
	r.overflow = false
	return r.buf, true
}

// Joined reports whether the last TSDU Add returned was joined from
// several DT TPDUs.
func (r *Reassembler) Joined() bool { return r.joined }

// Truncated reports whether the last TSDU Add returned lost the bytes
// past Max.
func (r *Reassembler) Truncated() bool { return r.truncated }

// Reset drops a partial TSDU, as after lost bytes.
func (r *Reassembler) Reset() {
	r.pending, r.overflow = false, false
	r.buf = r.buf[:0]
}

func (r *Reassembler) append(b []byte) {
	if r.overflow {
		return
	}
	room := r.Max - len(r.buf)
	if room < 0 {
		room = 0
	}
	if len(b) > room {
		b = b[:room]
		r.overflow = true
	}
	r.buf = append(r.buf, b...)
}
