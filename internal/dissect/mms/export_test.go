package mms

// SetPDUSeen installs f as the hook told of every MMS PDU decoded (kind,
// invokeID, service) and returns the function that removes it.
func SetPDUSeen(f func(pdu int, invokeID, service uint32)) (remove func()) {
	pduSeen = f
	return func() { pduSeen = nil }
}
