package words

import "testing"

func TestCount(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want string
	}{{0, "0 seats"}, {1, "1 seat"}, {2, "2 seats"}, {-1, "-1 seats"}} {
		if got := Count(tc.n, "seat", "seats"); got != tc.want {
			t.Errorf("Count(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
	if got := Count(int32(1), "per-user credential Secret", "per-user credential Secrets"); got != "1 per-user credential Secret" {
		t.Errorf("Count(int32(1)) = %q", got)
	}
}

func TestPercent(t *testing.T) {
	for _, tc := range []struct {
		part, whole int
		want        string
	}{{124, 500, "24.8 %"}, {1, 4, "25.0 %"}, {2, 3, "66.7 %"}, {0, 0, "0.0 %"}, {500, 500, "100.0 %"}} {
		if got := Percent(tc.part, tc.whole); got != tc.want {
			t.Errorf("Percent(%d, %d) = %q, want %q", tc.part, tc.whole, got, tc.want)
		}
	}
}

func TestList(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want string
	}{{nil, ""}, {[]string{"a"}, "a"}, {[]string{"a", "b"}, "a and b"}, {[]string{"a", "b", "c"}, "a, b and c"}} {
		if got := List(tc.in); got != tc.want {
			t.Errorf("List(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
