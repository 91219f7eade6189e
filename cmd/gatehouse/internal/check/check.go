// Package check is `gatehouse check`: the objects of a namespace that break
// the perimeter's rules.
package check

import (
	"errors"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/gatehouse-dev/gatehouse/cmd/gatehouse/internal/cli"
	"github.com/gatehouse-dev/gatehouse/cmd/gatehouse/internal/input"
	webhookconfig "github.com/gatehouse-dev/gatehouse/config/webhook"
	"github.com/gatehouse-dev/gatehouse/internal/access"
)

// errFindings makes `gatehouse check` exit 1 when it reports anything.
var errFindings = errors.New("objects break the perimeter's rules (listed above)")

// NewCommand returns the `gatehouse check` command.
func NewCommand() *cobra.Command {
	var mf input.ManifestFlags
	var adminGroups []string
	var breakGlass string
	cmd := &cobra.Command{
		Use:   "check [-f FILE|DIR|-]... [-n NS] [--admin-groups G,...] [--break-glass-group G]",
		Short: "List the objects that break the perimeter's rules (made before a rule landed, or past a webhook)",
		Long: `check lists the objects of a namespace that break a rule the webhooks now enforce:
Users standing for one Kubernetes identity together or for a system: one, Groups
mapped onto a system:, administrator or break-glass group, and names that are not
printable. Each line says how to fix it; deleting or fixing such an object is
always admitted. It exits 1 when it finds any, 0 when there are none.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// The objects check looks for predate the rules that would
			// refuse their creation: read them as stored, not as created.
			l, err := mf.Load(input.AsStored)
			if err != nil {
				return err
			}
			findings := access.CheckPerimeter(l.Snap, append(adminGroups, breakGlass))
			out := cmd.OutOrStdout()
			if len(findings) == 0 {
				_, err := cli.Fprintf(out, "Namespace %s keeps every rule of the perimeter.\n", l.Namespace)
				return err
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			cli.Fprintf(tw, "KIND\tNAME\tPROBLEM\n")
			for _, f := range findings {
				cli.Fprintf(tw, "%s\t%s\t%s\n", f.Kind, f.Name, f.Problem)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			return &cli.ExitError{Code: 1, Err: errFindings}
		},
	}
	mf.Register(cmd)
	cmd.Flags().StringSliceVar(&adminGroups, "admin-groups", []string{"system:masters"}, "the operator's --admin-groups (no Group may map onto one)")
	cmd.Flags().StringVar(&breakGlass, "break-glass-group", webhookconfig.DefaultBreakGlassGroup, "the operator's --break-glass-group")
	return cmd
}
