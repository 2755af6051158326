package httpserver

import (
	"testing"

	"github.com/signpost-cdn/signpost/router"
	"github.com/signpost-cdn/signpost/router/accesslog"
)

// TestResultNamesMatchAccessLog guards the conversion used by the HTTP and
// DNS servers (accesslog value = router value + 1): both enums must list
// Traffic Router's names in the same order.
func TestResultNamesMatchAccessLog(t *testing.T) {
	for v := router.ResultError; v <= router.ResultGeoDS; v++ {
		if got := (accesslog.ResultType(v) + 1).String(); got != v.String() {
			t.Errorf("result type %d: access log %q, router %q", v, got, v.String())
		}
	}
	for v := router.DetailNone; v <= router.DetailLocalizedDNS; v++ {
		if got := (accesslog.ResultDetails(v) + 1).String(); got != v.String() {
			t.Errorf("result detail %d: access log %q, router %q", v, got, v.String())
		}
	}
}
