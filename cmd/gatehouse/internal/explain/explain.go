// Package explain is `gatehouse explain`: in words, why a user holds what it
// holds on a resource.
package explain

import (
	"bytes"

	"github.com/spf13/cobra"

	"github.com/gatehouse-dev/gatehouse/cmd/gatehouse/internal/cli"
	"github.com/gatehouse-dev/gatehouse/cmd/gatehouse/internal/input"
	"github.com/gatehouse-dev/gatehouse/internal/access"
)

// NewCommand returns the `gatehouse explain` command.
func NewCommand() *cobra.Command {
	var mf input.ManifestFlags
	cmd := &cobra.Command{
		Use:   "explain LOGIN TYPE/NAME [-f FILE|DIR|-]... [-n NS]",
		Short: "Explain, in words, why a user holds what it holds on a resource",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ref, err := input.ParseRef(args[1])
			if err != nil {
				return err
			}
			l, err := mf.Load()
			if err != nil {
				return err
			}
			u, err := input.FindUser(access.Compute(l.Snap), args[0])
			if err != nil {
				return err
			}
			var buf bytes.Buffer
			for _, line := range access.Explain(&l.Snap, u, ref, l.CredentialOf).Lines(l.Source()) {
				cli.Fprintf(&buf, "%s\n", line)
			}
			_, err = cmd.OutOrStdout().Write(buf.Bytes())
			return err
		},
	}
	mf.Register(cmd)
	return cmd
}
