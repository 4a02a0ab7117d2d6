// Package engines links every detection engine into the binary. It is the
// one list of them: an engine package registers itself and its alert types
// with package detect from init, and a blank import here makes it part of
// otwatch.
package engines

import (
	_ "github.com/otwatch/otwatch/internal/detect/anomaly"     // register the anomaly engine
	_ "github.com/otwatch/otwatch/internal/detect/malware"     // register the malware engine
	_ "github.com/otwatch/otwatch/internal/detect/operational" // register the operational engine
	_ "github.com/otwatch/otwatch/internal/detect/policy"      // register the policy engine
	_ "github.com/otwatch/otwatch/internal/detect/violation"   // register the protocol engine
)
