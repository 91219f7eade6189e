package statusowner

import (
	"slices"
	"sync"
)

// managers are the field managers the operator writes status with, always
// by server-side apply: the names status.NewWriter registered. There is no
// list of them anywhere else.
var managers sync.Map // string -> struct{}

// Register records name as a field manager the operator writes status
// with (by server-side apply), so that Mark does not count its fields as
// foreign. status.NewWriter calls it for every controller's writer. It must
// run before the manager's cache starts transforming objects: a writer
// made at package level registers while the program initialises, before
// main runs.
func Register(name string) { managers.Store(name, struct{}{}) }

// Registered reports whether name is one of the operator's status field
// managers.
func Registered(name string) bool {
	_, ok := managers.Load(name)
	return ok
}

// Managers returns the registered field managers, sorted.
func Managers() []string {
	var out []string
	managers.Range(func(k, _ any) bool {
		out = append(out, k.(string))
		return true
	})
	slices.Sort(out)
	return out
}
