// Package detect turns operations, frames and inventory changes into
// alerts.
//
// A Detector starts in learning mode: for Config.Learn of capture time it
// builds a baseline of who talks to whom, with which protocols, functions,
// operation classes, ranges and rates, and raises every engine's alerts
// except Policy violation. Then it switches to operational mode, where
// what deviates from the baseline is alerted too.
//
// The engines live in their own packages (policy, violation, operational,
// anomaly, malware) and register themselves and their alert types here
// from init, as dissectors do with package dissect; package engines links
// them all. An engine receives the Detector, which it asks for the mode,
// the baseline, thresholds and host knowledge, and to which it hands
// Findings. The Detector merges a finding into the open alert of the same
// type, parties and key, or opens a new one, and hands it to the Sink.
//
// The Detector runs on the packet path, so it does once, for every
// engine, what each would otherwise do on its own for every frame and
// operation: it picks out the frames that probe (ProbeHandler), looks the
// operation's protocol up (Proto), finds the record of its conversation,
// where engines keep their per-conversation state (ConvSlot), and finds
// its kind, so that engines with nothing to do with operations of that
// kind are not called (Quiet).
package detect
