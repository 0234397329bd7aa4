package memory_test

import (
	"testing"

	"github.com/redlease/redlease/pkg/backend/backendtest"
	"github.com/redlease/redlease/pkg/backend/memory"
	"github.com/redlease/redlease/pkg/lease"
	"github.com/redlease/redlease/pkg/objects/objectstest"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	backendtest.Run(t, func(*testing.T) lease.ListingStore { return memory.New(memory.Options{}) }, backendtest.Options{})
}

func TestObjectsConformance(t *testing.T) {
	t.Parallel()
	objectstest.Run(t, func(*testing.T) objectstest.Store {
		return memory.NewObjects(memory.ObjectsOptions{Reserved: "leases/"})
	}, objectstest.Options{Reserved: "leases/"})
}
