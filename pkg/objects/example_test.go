package objects_test

import (
	"fmt"

	"github.com/redlease/redlease/pkg/objects"
)

// Every object RedDB keeps for a database lives under the database's
// directory, so the lease of "{dir}data.rdb" fences them all.
func ExampleDatabaseKey() {
	for _, key := range []string{
		"clusters/dev/data.rdb",
		"clusters/dev/snapshots/000000000001-1767225600000.snapshot",
		"clusters/dev/wal/000000000001-000000000002.wal",
		"clusters/dev/MANIFEST.json",
	} {
		fmt.Println(objects.DatabaseKey(key, objects.DefaultDataFile))
	}
	// Output:
	// clusters/dev/data.rdb
	// clusters/dev/data.rdb
	// clusters/dev/data.rdb
	// clusters/dev/data.rdb
}
