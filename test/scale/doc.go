// Package scale is the scale harness of issue 9 (`make bench-scale`): it
// generates a large enterprise namespace, runs it against a local control
// plane with the manager binary as a separate process, and measures the API
// server's own status-write baseline, full convergence from an empty cache,
// incremental latencies, reconciles and writes per change, and the
// manager's memory and CPU.
//
// The tests skip unless GATEHOUSE_SCALE is set: "full" is the size
// (10,000 users), "small" 1,000 users, a number that many users. When
// GATEHOUSE_SCALE_OUT is set the results table is also written there; when
// GATEHOUSE_SCALE_PROFILES names a directory, the manager's heap profiles
// at convergence and after the restart are saved there (the manager runs
// with --pprof-bind-address).
//
//	GATEHOUSE_SCALE=full go test -count=1 -timeout 150m -run TestScale -v ./test/scale/
package scale
