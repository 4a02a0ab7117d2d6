package filter

import (
	"errors"
	"fmt"

	"golang.org/x/net/bpf"
)

// Matcher runs a compiled program on frames in user space with
// golang.org/x/net/bpf's virtual machine. It is safe for concurrent use.
type Matcher struct {
	vm *bpf.VM
}

// NewMatcher validates prog and prepares it for Match.
func NewMatcher(prog []bpf.RawInstruction) (*Matcher, error) {
	ins, ok := bpf.Disassemble(prog)
	if !ok {
		return nil, errors.New("filter: program has instructions the VM cannot run")
	}
	vm, err := bpf.NewVM(ins)
	if err != nil {
		return nil, fmt.Errorf("filter: loading program: %w", err)
	}
	return &Matcher{vm: vm}, nil
}

// Match reports whether the program accepts frame, an Ethernet frame as
// captured. A load beyond the end of the frame rejects it, as in the kernel.
func (m *Matcher) Match(frame []byte) bool {
	n, err := m.vm.Run(frame)
	return err == nil && n > 0
}

// Match reports whether prog accepts frame. It validates prog on every call;
// use NewMatcher to test many frames. An invalid program matches nothing.
func Match(prog []bpf.RawInstruction, frame []byte) bool {
	m, err := NewMatcher(prog)
	if err != nil {
		return false
	}
	return m.Match(frame)
}
