// Command gatehouse is the Gatehouse command line for people: it answers who
// may do what from manifests or a live cluster, and starts a local control
// plane for development. Installed as kubectl-gatehouse it is also the
// kubectl plugin `kubectl gatehouse`.
package main

import (
	"errors"
	"io"
	"os"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/gatehouse-dev/gatehouse/cmd/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/cmd/gatehouse/internal/check"
	"github.com/gatehouse-dev/gatehouse/cmd/gatehouse/internal/cli"
	"github.com/gatehouse-dev/gatehouse/cmd/gatehouse/internal/credentials"
	"github.com/gatehouse-dev/gatehouse/cmd/gatehouse/internal/dev"
	"github.com/gatehouse-dev/gatehouse/cmd/gatehouse/internal/explain"
	"github.com/gatehouse-dev/gatehouse/cmd/gatehouse/internal/whocan"
)

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "gatehouse",
		Short:         "Gatehouse: who may do what on the data-science platform",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	// A bad flag is bad input, as every other: exit code 2.
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return cli.UsageError(err) })
	root.AddCommand(
		dev.NewCommand(),
		access.NewCommand(),
		whocan.NewCommand(),
		explain.NewCommand(),
		check.NewCommand(),
		credentials.NewCommand(),
	)
	return root
}

func main() {
	// The CLI reports through its own output; library logs (envtest's,
	// client-go's) are not for its users.
	ctrllog.SetLogger(logr.Discard())
	if err := newRootCommand().Execute(); err != nil {
		os.Exit(report(os.Stderr, err))
	}
}

// report writes err to w as one line, its message escaped as every string
// the CLI prints (cli.Fprintf): the message quotes manifests, which a pull
// request writes. A line break inside it, such as one in git's or
// kustomize's own message, shows as \n. It returns the exit code err
// carries.
func report(w io.Writer, err error) int {
	_, _ = cli.Fprintf(w, "gatehouse: %s\n", err) // nowhere to report a failure to write
	var ee *cli.ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	return 1
}
