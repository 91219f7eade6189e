package statusowner

import (
	"slices"
	"testing"
)

// The operator's names in the tables of this package, registered as the
// status writers of the User and Connection controllers register them.
func init() {
	Register("gatehouse-user")
	Register("gatehouse-connection")
}

func TestRegister(t *testing.T) {
	if Registered("gatehouse-registry-test") {
		t.Fatal("a name no one registered is registered")
	}
	Register("gatehouse-registry-test")
	Register("gatehouse-registry-test")
	if !Registered("gatehouse-registry-test") {
		t.Fatal("a registered name is not registered")
	}
	if got := Managers(); !slices.Contains(got, "gatehouse-registry-test") || !slices.IsSorted(got) {
		t.Errorf("Managers() = %v, want them sorted with gatehouse-registry-test", got)
	}
	if Registered("gatehouse-registry-tes") || Registered("") {
		t.Error("a name is registered by a prefix of another, or the empty name is")
	}
}
