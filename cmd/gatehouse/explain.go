package main

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/internal/access"
)

func newExplainCommand() *cobra.Command {
	var mf manifestFlags
	cmd := &cobra.Command{
		Use:   "explain LOGIN TYPE/NAME [-f FILE_OR_DIR...] [-n NS]",
		Short: "Explain, in words, why a user holds what it holds on a resource",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ref, err := parseRef(args[1])
			if err != nil {
				return err
			}
			l, err := mf.load()
			if err != nil {
				return err
			}
			u, err := findUser(access.Compute(l.snap), args[0])
			if err != nil {
				return err
			}
			var buf bytes.Buffer
			explain(&buf, u, ref, l.snap)
			_, err = cmd.OutOrStdout().Write(buf.Bytes())
			return err
		},
	}
	mf.register(cmd)
	return cmd
}

// explain writes every contribution to a user's access and every cap on it.
func explain(buf *bytes.Buffer, u *access.UserResult, ref iamv1alpha1.ResourceRef, snap access.Snapshot) {
	login := u.Login
	if len(u.Groups) > 0 {
		noun := "groups"
		if len(u.Groups) == 1 {
			noun = "group"
		}
		fmt.Fprintf(buf, "%s is in %s %s.\n", login, noun, strings.Join(u.Groups, ", "))
	}
	if len(u.UnknownGroups) > 0 {
		fmt.Fprintf(buf, "%s lists groups that do not exist: %s.\n", login, strings.Join(u.UnknownGroups, ", "))
	}
	if u.Seat != iamv1alpha1.SeatGranted {
		fmt.Fprintf(buf, "%s holds no seat (%s, %s): %s\nA user without a seat has no permissions at all, so %s can do nothing on %s.\n",
			login, u.Seat, u.SeatReason, u.SeatMessage, login, ref)
		return
	}
	fmt.Fprintf(buf, "%s\n", u.SeatMessage)
	ra := u.Find(ref)
	if ra == nil {
		fmt.Fprintf(buf, "%s has no access to %s: no Share or ResourceGrant names %s, its groups or its organization, and no Connection admits it.\n", login, ref, login)
		return
	}
	var role string
	if ra.Role != "" {
		role = fmt.Sprintf("is %s on %s and holds", ra.Role, ref)
	} else {
		role = fmt.Sprintf("has no role on %s (only grants reach it) and holds", ref)
	}
	fmt.Fprintf(buf, "%s %s %s.\n", login, role, joinList(ra.Permissions))
	fmt.Fprintln(buf, "Because:")
	for _, v := range ra.Via {
		fmt.Fprintf(buf, "  - %s.\n", describeVia(v, login))
	}
	if ra.Role != "" && len(ra.Via) > 1 {
		fmt.Fprintln(buf, "Shares combine: the most permissive role wins, and permissions add up.")
	}
	if c := ra.CappedBy; c != nil {
		fmt.Fprintf(buf, "The profile %s caps every role at %s", c.Profile, c.MaxRole)
		if c.RoleBefore != "" {
			fmt.Fprintf(buf, ": the role was %s and is now %s", c.RoleBefore, ra.Role)
		}
		if len(c.Removed) > 0 {
			fmt.Fprintf(buf, "; it removed %s", joinList(c.Removed))
		}
		fmt.Fprintln(buf, ". Sharing never overrides the profile.")
	}
	if ref.Type == iamv1alpha1.ResourceConnection && !hasPermission(ra.Permissions, "use") {
		admitted := false
		for _, c := range snap.Connections {
			if c.Name == ref.Name {
				admitted = true // the connection exists; its usableBy decides
				fmt.Fprintf(buf, "Connection %s's usableBy does not admit %s, so %s cannot use it whatever a Share or grant says.\n", ref.Name, login, login)
			}
		}
		if !admitted {
			fmt.Fprintf(buf, "No Connection %s exists in the manifests, so nobody but administrators can use it.\n", ref.Name)
		}
	}
}

// joinList joins names as "a, b and c", or "nothing".
func joinList[T ~string](xs []T) string {
	if len(xs) == 0 {
		return "nothing"
	}
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = string(x)
	}
	if len(s) == 1 {
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}
