package controlplane

import (
	"os"
	"regexp"
	"testing"
)

// The version the code looks for must be the one hack/tools.sh builds.
func TestKubernetesVersionMatchesToolsModule(t *testing.T) {
	data, err := os.ReadFile("../../hack/tools/controlplane/go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*k8s\.io/kubernetes v(\S+)$`).FindSubmatch(data)
	if m == nil {
		t.Fatal("hack/tools/controlplane/go.mod does not require k8s.io/kubernetes")
	}
	if got := string(m[1]); got != KubernetesVersion {
		t.Errorf("hack/tools/controlplane/go.mod pins k8s.io/kubernetes v%s but KubernetesVersion is %s", got, KubernetesVersion)
	}
}

func TestAssetsDirFromEnvironment(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(AssetsEnv, dir)
	if _, err := AssetsDir(); err == nil {
		t.Fatal("AssetsDir accepted a directory without kube-apiserver and etcd")
	}
	for _, b := range binaries {
		if err := os.WriteFile(dir+"/"+b, []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	got, err := AssetsDir()
	if err != nil || got != dir {
		t.Fatalf("AssetsDir() = %q, %v; want %q", got, err, dir)
	}
}

func TestAssetsDirMissingSaysHowToBuild(t *testing.T) {
	t.Setenv(AssetsEnv, "")
	t.Setenv("GATEHOUSE_CACHE", t.TempDir())
	t.Chdir(t.TempDir())
	_, err := AssetsDir()
	if err == nil {
		t.Fatal("AssetsDir found binaries where there are none")
	}
	if !regexp.MustCompile(`make controlplane`).MatchString(err.Error()) {
		t.Errorf("the error does not say how to build the binaries: %v", err)
	}
}
