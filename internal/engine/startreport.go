package engine

import (
	"slices"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Unjudged returns the Shares and ResourceGrants whose spec had changed
// past the generation the operator last wrote status for when the engine
// was built (changes made while no operator was running), and when that
// was. Valid once Ready.
func (e *Engine) Unjudged() ([]client.Object, time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.unjudged), e.builtAt
}
