package share_test

import (
	"os"
	"testing"

	"github.com/gatehouse-dev/gatehouse/controllers"
	"github.com/gatehouse-dev/gatehouse/internal/testenv"
	"github.com/gatehouse-dev/gatehouse/internal/testenv/operator"
)

var (
	env *testenv.Env
	// op runs every controller, as cmd/manager does: the Share
	// controller's notifications depend on the User and engine machinery
	// around it.
	op = &operator.Operator{Options: controllers.Options{MaxConcurrentReconciles: 2}}
)

func TestMain(m *testing.M) { os.Exit(testenv.Run(m, &env, op.Start)) }
