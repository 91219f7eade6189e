// Package credentials is `gatehouse credentials`: a person's own per-user
// connection credentials (set, list).
package credentials

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/cmd/gatehouse/internal/cli"
	"github.com/gatehouse-dev/gatehouse/cmd/gatehouse/internal/input"
	"github.com/gatehouse-dev/gatehouse/internal/outbound"
)

// clusterFlags reach the cluster as kubectl would, with impersonation for
// administrators trying what a person sees.
type clusterFlags struct {
	namespace, kubeconfig, context, as string
	asGroups                           []string
}

func (f *clusterFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&f.namespace, "namespace", "n", "", "the namespace (default: the kubeconfig context's)")
	cmd.Flags().StringVar(&f.kubeconfig, "kubeconfig", "", "the kubeconfig of the cluster (default: KUBECONFIG, ~/.kube/config)")
	cmd.Flags().StringVar(&f.context, "context", "", "the kubeconfig context to use")
	cmd.Flags().StringVar(&f.as, "as", "", "act as this user (impersonation, as kubectl --as)")
	cmd.Flags().StringArrayVar(&f.asGroups, "as-group", nil, "act as a member of this group (impersonation, as kubectl --as-group); repeatable")
}

// me is the person running the command: its client, namespace and User.
type me struct {
	c        client.Client
	ns, user string
	identity string
}

// whoami connects and finds the User the caller's Kubernetes identity
// stands for.
func (f *clusterFlags) whoami(ctx context.Context) (*me, error) {
	c, ns, err := input.ClusterClient(f.kubeconfig, f.context, f.namespace, &clientcmdapi.AuthInfo{Impersonate: f.as, ImpersonateGroups: f.asGroups})
	if err != nil {
		return nil, err
	}
	r := &authenticationv1.SelfSubjectReview{}
	if err := c.Create(ctx, r); err != nil {
		return nil, fmt.Errorf("cannot ask the API server who you are: %w", err)
	}
	m := &me{c: c, ns: ns, identity: r.Status.UserInfo.Username}
	var users iamv1alpha1.UserList
	if err := c.List(ctx, &users, client.InNamespace(ns)); err != nil {
		return nil, fmt.Errorf("cannot list the Users of namespace %s: %w", ns, err)
	}
	for _, u := range users.Items {
		if u.Spec.KubernetesIdentity() == m.identity {
			if m.user != "" {
				return nil, fmt.Errorf("two Users of namespace %s stand for %s (%s and %s); ask an administrator to fix it (kubectl gatehouse check)", ns, m.identity, m.user, u.Name)
			}
			m.user = u.Name
		}
	}
	if m.user == "" {
		return nil, fmt.Errorf("you (%s) are no User of namespace %s; ask an administrator to create your User", m.identity, ns)
	}
	return m, nil
}

// credentialKeys are the keys asked for, by credential type.
var credentialKeys = map[iamv1alpha1.CredentialType][]string{
	iamv1alpha1.CredentialBasic:   {"username", "password"},
	iamv1alpha1.CredentialKeyPair: {"accessKeyId", "secretAccessKey"},
	iamv1alpha1.CredentialOAuth2:  {"refreshToken"},
}

// secretKeys are the keys read without echo.
var secretKeys = map[string]bool{"password": true, "secretAccessKey": true, "refreshToken": true, "privateKey": true, "passphrase": true}

// NewCommand returns the `gatehouse credentials` command.
func NewCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "credentials",
		Short: "Your own per-user connection credentials: store one, list yours",
	}
	cmd.AddCommand(newCredentialsSetCommand(), newCredentialsListCommand())
	return cmd
}

func newCredentialsSetCommand() *cobra.Command {
	var f clusterFlags
	var files []string
	cmd := &cobra.Command{
		Use:   "set CONNECTION [--from-file KEY=PATH...] [-n NS]",
		Short: "Store your credential for a per-user Connection (a new Secret; the operator deletes the one it replaces)",
		Long: `set stores your own credential for a Connection with per-user credentials.
It asks for each value at the terminal without echoing secret ones, or reads
them from files (--from-file password=./pw.txt), never from an argument that
would land in your shell history. It creates a new Secret labelled as yours;
the operator deletes the credential it replaces. Values are sent as they are:
a file's trailing line break is part of its value (the operator reports it).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			m, err := f.whoami(ctx)
			if err != nil {
				return err
			}
			var conn iamv1alpha1.Connection
			if err := m.c.Get(ctx, client.ObjectKey{Namespace: m.ns, Name: args[0]}, &conn); err != nil {
				return fmt.Errorf("cannot read Connection %s/%s: %w", m.ns, args[0], err)
			}
			if conn.Spec.Credentials.Mode != iamv1alpha1.CredentialModePerUser {
				return cli.UsageError(fmt.Errorf("connection %s/%s uses one global credential (mode %s), not one per user; nothing to store", m.ns, conn.Name, conn.Spec.Credentials.Mode))
			}
			typ := outbound.EffectiveType(conn.Spec.Credentials)
			data, err := readValues(cmd, files, credentialKeys[typ])
			if err != nil {
				return err
			}
			s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: m.ns, GenerateName: conn.Name + "-" + m.user + "-",
				Labels: map[string]string{iamv1alpha1.LabelConnection: conn.Name, iamv1alpha1.LabelUser: m.user}},
				Type: corev1.SecretTypeOpaque, Data: data}
			if res := outbound.Validate(typ, s); !res.Ready {
				return cli.UsageError(fmt.Errorf("%s", strings.Replace(res.Message, "Secret "+m.ns+"/", "the credential ", 1)))
			}
			if err := m.c.Create(ctx, s); err != nil {
				return fmt.Errorf("cannot store your credential: %w", err)
			}
			_, err = cli.Fprintf(cmd.OutOrStdout(), "Stored %s's credential for Connection %s in Secret %s/%s; it replaces any earlier one. kubectl gatehouse credentials list shows its state.\n",
				m.user, conn.Name, m.ns, s.Name)
			return err
		},
	}
	f.register(cmd)
	cmd.Flags().StringArrayVar(&files, "from-file", nil, "KEY=PATH: read the value of KEY from a file; repeatable")
	return cmd
}

// readValues reads each key from --from-file, or else from the terminal
// (secret keys without echo). Values never come from arguments.
func readValues(cmd *cobra.Command, files []string, keys []string) (map[string][]byte, error) {
	data := map[string][]byte{}
	for _, kv := range files {
		k, path, ok := strings.Cut(kv, "=")
		if !ok || k == "" || path == "" {
			return nil, cli.UsageError(fmt.Errorf("--from-file %q: use KEY=PATH", kv))
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, cli.UsageError(fmt.Errorf("--from-file %s: %w", k, err))
		}
		data[k] = b
	}
	if len(files) > 0 {
		return data, nil
	}
	in, ok := cmd.InOrStdin().(*os.File)
	if !ok || !term.IsTerminal(int(in.Fd())) {
		return nil, cli.UsageError(errors.New("not at a terminal: give the values with --from-file KEY=PATH (never as arguments, which land in shell history)"))
	}
	out := cmd.ErrOrStderr()
	lines := bufio.NewReader(in)
	for _, k := range keys {
		cli.Fprintf(out, "%s: ", k)
		var v []byte
		var err error
		if secretKeys[k] {
			v, err = term.ReadPassword(int(in.Fd()))
			cli.Fprintf(out, "\n")
		} else {
			var line string
			line, err = lines.ReadString('\n')
			v = []byte(strings.TrimRight(line, "\r\n"))
			if errors.Is(err, io.EOF) && line != "" {
				err = nil
			}
		}
		if err != nil {
			return nil, fmt.Errorf("cannot read %s: %w", k, err)
		}
		data[k] = v
	}
	return data, nil
}

func newCredentialsListCommand() *cobra.Command {
	var f clusterFlags
	cmd := &cobra.Command{
		Use:   "list [-n NS]",
		Short: "List your per-user credentials and their state (from your User's status)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			m, err := f.whoami(ctx)
			if err != nil {
				return err
			}
			var u iamv1alpha1.User
			if err := m.c.Get(ctx, client.ObjectKey{Namespace: m.ns, Name: m.user}, &u); err != nil {
				return fmt.Errorf("cannot read your User %s/%s: %w", m.ns, m.user, err)
			}
			out := cmd.OutOrStdout()
			if len(u.Status.Credentials) == 0 {
				_, err := cli.Fprintf(out, "No connection of namespace %s takes a per-user credential from %s.\n", m.ns, m.user)
				return err
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			cli.Fprintf(tw, "CONNECTION\tREADY\tREASON\tMESSAGE\n")
			for _, c := range u.Status.Credentials {
				cli.Fprintf(tw, "%s\t%v\t%s\t%s\n", c.Connection, c.Ready, c.Reason, c.Message)
			}
			return tw.Flush()
		},
	}
	f.register(cmd)
	return cmd
}
