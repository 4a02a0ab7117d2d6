// Package report writes the PDF report of an alert: what an analyst hands
// on or files once an investigation is done.
//
// AlertPDF lays out, in order: the title and description; a summary table
// (severity, status, engine, category, type, protocol, sensor, site, zone,
// first and last detection, count); the source and destination devices;
// the MITRE ATT&CK for ICS tactics and techniques with their IDs, names
// and short descriptions; the triggering operation decoded; an excerpt of
// the event timeline; the evidence (packet count, time span, protocols and
// the decoded packets); the remediation steps; recommendations for the
// alert's devices; and the comments.
//
// The caller gathers everything into an AlertReport, so the package
// depends only on the alert, inventory and ATT&CK types. Text is UTF-8;
// the PDF's core fonts encode Windows-1252, so characters outside it are
// transliterated where a plain equivalent exists ("→" becomes "->") and
// replaced by "?" otherwise. The same report gives the same bytes.
package report
