package main

import "testing"

func TestMemoryLimit(t *testing.T) {
	for _, tc := range []struct {
		gomemlimit, container string
		want                  int64
		set, fails            bool
	}{
		{container: "1073741824", want: 966367638, set: true}, // 1Gi → 90 %
		{gomemlimit: "800MiB", container: "1073741824"},       // GOMEMLIMIT wins
		{}, // no limit
		{container: "1Gi", fails: true},
		{container: "-5", fails: true},
	} {
		got, set, err := memoryLimit(tc.gomemlimit, tc.container)
		if (err != nil) != tc.fails || set != tc.set || got != tc.want {
			t.Errorf("memoryLimit(%q, %q) = %d, %v, %v; want %d, %v, fails %v", tc.gomemlimit, tc.container, got, set, err, tc.want, tc.set, tc.fails)
		}
	}
}
