package store

// Evidence is the pcapng evidence of one alert, as PutEvidenceBatch
// takes it. Pcapng is not retained.
type Evidence struct {
	AlertID string
	Pcapng  []byte
}
