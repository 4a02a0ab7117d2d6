// Package analyze summarises captures for `otwatch analyze`: packets, bytes,
// duration, flows, endpoints (MAC and IP addresses, with a role guessed from
// what each one serves and asks for), protocols seen at every layer and the
// operations the dissectors found. It plugs into the pipeline as an Observer
// (every decoded frame) and an Emitter (every operation).
package analyze
