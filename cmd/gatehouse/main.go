// Command gatehouse is the Gatehouse command line for people: it answers who
// may do what from manifests or a live cluster, and starts a local control
// plane for development. Installed as kubectl-gatehouse it is also the
// kubectl plugin `kubectl gatehouse`.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
)

// exitError carries an exit code out of a command; its message has already
// been written or is written by main.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageError marks bad input (exit code 2).
func usageError(err error) error { return &exitError{code: 2, err: err} }

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "gatehouse",
		Short:         "Gatehouse: who may do what on the data-science platform",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(
		newDevCommand(),
		newAccessCommand(),
		newWhoCanCommand(),
		newExplainCommand(),
		newCheckCommand(),
		newCredentialsCommand(),
	)
	return root
}

func main() {
	// The CLI reports through its own output; library logs (envtest's,
	// client-go's) are not for its users.
	ctrllog.SetLogger(logr.Discard())
	err := newRootCommand().Execute()
	if err == nil {
		return
	}
	fmt.Fprintln(os.Stderr, "gatehouse:", err)
	var ee *exitError
	if errors.As(err, &ee) {
		os.Exit(ee.code)
	}
	os.Exit(1)
}
