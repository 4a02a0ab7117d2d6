package operational

import (
	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/detect"
)

func init() { detect.Register("operational", newEngine) }

// engine is the operational engine's state in one Detector.
type engine struct{}

func newEngine(d *detect.Detector) detect.Engine { return &engine{} }

// Engine implements detect.Engine.
func (e *engine) Engine() alert.Engine { return alert.Operational }
