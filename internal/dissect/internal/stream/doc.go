// Package stream holds the per-flow state a request/response dissector
// over TCP keeps apart from its protocol: which side of the flow is the
// protocol's client (Roles), and which directions look for the next
// message header after a gap (Resync). Both are values a session embeds;
// nothing here allocates.
package stream
