package devenv

import (
	"encoding/base64"
	"fmt"
	"io"
	"strconv"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gatehouse-dev/gatehouse/internal/localdb"
	"github.com/gatehouse-dev/gatehouse/internal/manifest"
)

// localPostgres starts a PostgreSQL on a loopback port for the samples'
// Global PostgreSQL Connections, creates the user, password and database
// their sample Secret and parameters name, and points the Connections at
// it, so that `make run` shows them Reachable. Without PostgreSQL's
// binaries it says so and changes nothing: the connections then report why
// they are unreachable. The returned stop is never nil.
func localPostgres(out io.Writer, docs []manifest.Document) func() {
	type target struct {
		doc            manifest.Document
		secretName, db string
	}
	secrets := map[string]*unstructured.Unstructured{}
	var targets []target
	for _, d := range docs {
		o := d.Object
		switch o.GetKind() {
		case "Secret":
			secrets[o.GetName()] = o
		case "Connection":
			typ, _, _ := unstructured.NestedString(o.Object, "spec", "type")
			mode, _, _ := unstructured.NestedString(o.Object, "spec", "credentials", "mode")
			secret, _, _ := unstructured.NestedString(o.Object, "spec", "credentials", "secretRef", "name")
			db, _, _ := unstructured.NestedString(o.Object, "spec", "parameters", "database")
			if typ == "PostgreSQL" && mode == "Global" && secret != "" && db != "" {
				targets = append(targets, target{doc: d, secretName: secret, db: db})
			}
		}
	}
	if len(targets) == 0 {
		return func() {}
	}
	srv, err := localdb.Start(localdb.PostgreSQL)
	if err != nil {
		fmt.Fprintf(out, ">> no local PostgreSQL for the samples (%v): their PostgreSQL connections will say why they are unreachable\n", err)
		return func() {}
	}
	for _, t := range targets {
		s := secrets[t.secretName]
		if s == nil {
			continue
		}
		c := localdb.Conn{User: secretValue(s, "username"), Password: secretValue(s, "password"), Database: t.db}
		if err := srv.CreateDatabase(c); err != nil {
			fmt.Fprintf(out, ">> cannot prepare the local PostgreSQL for Connection %s: %v\n", t.doc.Object.GetName(), err)
			continue
		}
		params := map[string]any{"host": srv.Admin.Host, "port": strconv.Itoa(srv.Admin.Port), "database": t.db}
		_ = unstructured.SetNestedField(t.doc.Object.Object, params, "spec", "parameters")
		fmt.Fprintf(out, ">> Connection %s points at a local PostgreSQL on %s (database %s)\n", t.doc.Object.GetName(), srv.Admin.Addr(), t.db)
	}
	return func() { _ = srv.Stop() }
}

// secretValue reads a key of a manifest Secret (stringData or data).
func secretValue(s *unstructured.Unstructured, key string) string {
	if v, ok, _ := unstructured.NestedString(s.Object, "stringData", key); ok {
		return v
	}
	if v, ok, _ := unstructured.NestedString(s.Object, "data", key); ok {
		if b, err := base64.StdEncoding.DecodeString(v); err == nil {
			return string(b)
		}
	}
	return ""
}
