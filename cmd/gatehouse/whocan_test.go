package main

import (
	"strings"
	"testing"
)

// TestPerUserCredentialValuesNeverPrinted: who-can and explain read the
// per-user credential Secrets of the manifests to say whose credential is
// ready, and never print a value from them.
func TestPerUserCredentialValuesNeverPrinted(t *testing.T) {
	for _, args := range [][]string{
		{"who-can", "use", "connection/warehouse", "-f", "testdata/peruser"},
		{"who-can", "use", "connection/warehouse", "-f", "testdata/peruser", "-o", "json"},
		{"explain", "kim", "connection/warehouse", "-f", "testdata/peruser"},
		{"explain", "ops", "connection/warehouse", "-f", "testdata/peruser"},
		{"access", "-f", "testdata/peruser", "-o", "json"},
	} {
		out, err := runCLI(t, args...)
		if err != nil {
			t.Fatalf("gatehouse %s: %v", strings.Join(args, " "), err)
		}
		for _, secret := range []string{"kims-secret-value", "ops-secret-value"} {
			if strings.Contains(out, secret) {
				t.Errorf("gatehouse %s printed a credential value:\n%s", strings.Join(args, " "), out)
			}
		}
	}
}

// TestWhoCanUsePerUser: for use of a PerUser Connection, only users with a
// ready credential of their own are listed as able; the others usableBy
// admits are listed apart with what is wrong, and a user it does not admit
// (ops, whose credential is not used) is in neither list.
func TestWhoCanUsePerUser(t *testing.T) {
	out, err := runCLI(t, "who-can", "use", "connection/warehouse", "-f", "testdata/peruser")
	if err != nil {
		t.Fatal(err)
	}
	able, blocked, ok := strings.Cut(out, "takes each user's own credential")
	if !ok {
		t.Fatalf("no section of admitted users without a credential:\n%s", out)
	}
	for _, tc := range []struct {
		section, login string
		want           bool
	}{
		{able, "kim", true}, {able, "lee", false}, {able, "max", false},
		{blocked, "lee", true}, {blocked, "max", true}, {blocked, "kim", false},
		{out, "ops", false},
	} {
		if got := strings.Contains(tc.section, "\n"+tc.login+" "); got != tc.want {
			t.Errorf("%s listed = %v, want %v:\n%s", tc.login, got, tc.want, out)
		}
	}
}
