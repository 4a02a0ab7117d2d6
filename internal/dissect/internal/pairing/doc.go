// Package pairing holds the requests of one flow that wait for their
// responses, and gives up on those that never get one: the oldest request
// when a new one needs its slot, the requests older than the pairing
// window, and the rest when the flow closes, always oldest first.
//
// A Table keeps, per request, the operation the request started, its
// direction and a protocol-specific match key; the session finds the
// entry a response answers by its own rules, ranging over Table.Entries.
// A session that keeps requests in a table of its own type embeds Request
// in that type and counts them with Requests; Oldest and Expire work on
// such a table, and Close empties it. Nothing here allocates once the
// operations' slices have grown.
package pairing
