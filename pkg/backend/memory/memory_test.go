package memory_test

import (
	"testing"

	"github.com/redlease/redlease/pkg/backend/backendtest"
	"github.com/redlease/redlease/pkg/backend/memory"
	"github.com/redlease/redlease/pkg/lease"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	backendtest.Run(t, func(*testing.T) lease.ListingStore { return memory.New(memory.Options{}) }, backendtest.Options{})
}
