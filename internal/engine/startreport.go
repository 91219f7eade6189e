package engine

import (
	"slices"
	"sync"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/internal/access"
)

// startReport is what the initial lists showed, for the start report
// (controllers/startreport.go): the Shares and ResourceGrants whose spec
// changed past the generation the operator last wrote status for, and
// when the Indexes were built.
type startReport struct {
	mu       sync.Mutex
	unjudged []client.Object
	builtAt  time.Time
}

// set records the unjudged objects and when the Indexes were built.
func (r *startReport) set(unjudged []client.Object, builtAt time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.unjudged, r.builtAt = unjudged, builtAt
}

// unjudgedOf returns the Shares and ResourceGrants of one namespace's
// initial objects whose spec changed past the generation the operator last
// wrote status for.
func unjudgedOf(objs map[access.Kind]map[string]client.Object) []client.Object {
	var out []client.Object
	for _, o := range objs[access.KindShare] {
		s := o.(*iamv1alpha1.Share)
		if obs := s.Status.ObservedGeneration; obs > 0 && s.Generation > obs && s.DeletionTimestamp == nil {
			out = append(out, s)
		}
	}
	for _, o := range objs[access.KindResourceGrant] {
		g := o.(*iamv1alpha1.ResourceGrant)
		if obs := g.Status.ObservedGeneration; obs > 0 && g.Generation > obs && g.DeletionTimestamp == nil {
			out = append(out, g)
		}
	}
	return out
}

// Unjudged returns the Shares and ResourceGrants whose spec had changed
// past the generation the operator last wrote status for when the engine
// was built (changes made while no operator was running), and when that
// was. Valid once Ready.
func (e *Engine) Unjudged() ([]client.Object, time.Time) {
	e.report.mu.Lock()
	defer e.report.mu.Unlock()
	return slices.Clone(e.report.unjudged), e.report.builtAt
}
