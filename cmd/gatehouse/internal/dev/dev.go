// Package dev is `gatehouse dev`: Gatehouse against a local control plane.
package dev

import (
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/gatehouse-dev/gatehouse/internal/devenv"
)

// NewCommand returns the `gatehouse dev` command.
func NewCommand() *cobra.Command {
	opts := devenv.Options{}
	var local, quiet, verbose bool
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run Gatehouse against a local control plane (or the cluster KUBECONFIG names)",
		Long: `dev starts a local control plane (a real kube-apiserver and etcd, no cluster
needed), installs the Gatehouse CRDs, runs the manager against it and applies
the samples; Ctrl-C stops everything.

With KUBECONFIG set (and no --local), dev uses that cluster instead: it installs
the CRDs there and runs the manager against it, but applies no samples.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			opts.Out = cmd.OutOrStdout()
			if !quiet {
				opts.ManagerOutput = cmd.ErrOrStderr()
			}
			if verbose {
				opts.ControlPlaneOutput = cmd.ErrOrStderr()
			}
			if !local {
				opts.Kubeconfig = os.Getenv("KUBECONFIG")
			}
			return devenv.Run(ctx, opts)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&local, "local", false, "start a local control plane even when KUBECONFIG is set")
	f.StringVar(&opts.StateDir, "state-dir", ".gatehouse/dev", "where the local control plane's kubeconfig is written")
	f.StringVar(&opts.ManagerPath, "manager", "", "the manager binary to run (empty: run none)")
	f.StringArrayVar(&opts.ManagerArgs, "manager-arg", nil, "an extra flag for the manager (repeatable)")
	f.StringVar(&opts.SamplesDir, "samples", "", "a directory of manifests to apply on the local control plane")
	f.StringVar(&opts.SamplesNamespace, "namespace", "demo", "the namespace samples without one go into")
	f.BoolVar(&opts.SamplesPostgres, "samples-postgres", true, "start a local PostgreSQL (when installed) for the samples' PostgreSQL connections, so they show Reachable")
	f.BoolVar(&quiet, "quiet", false, "do not show the manager's log")
	f.BoolVar(&verbose, "verbose", false, "also show kube-apiserver's and etcd's logs")
	return cmd
}
