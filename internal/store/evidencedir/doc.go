// Package evidencedir keeps the pcapng evidence files of alerts in one
// directory, for every store backend: it checks and names the files, and
// writes them durably: each to a temporary file synced to disk, renamed
// into place once the backend has recorded it, the directory then synced
// so that the names survive a crash.
package evidencedir
