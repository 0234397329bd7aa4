package badinput

import "github.com/redlease/redlease/pkg/auth"

// The bearer tokens every transport of the rig accepts. The seeded leases
// are tenant dev's; rows speak as another principal to be refused.
const (
	tokenDev   = "dev-writer-4f1c0b5e8d7a4c3b" // clusters/, the seeded leases' principal
	tokenBatch = "dev-batch-9e6f1a2d5c8b7e4f"  // clusters/ too, another principal
	tokenOther = "tenant-b-1d2c3b4a5f6e7d8c"   // tenants/b/ only
	tokenOps   = "ops-0a9b8c7d6e5f4a3b"        // every key, admin
)

var hashDev = auth.Hash(tokenDev)

func tokensDocument() string {
	return `{"tokens":[
		{"name":"dev-writer","sha256":"` + hashDev + `","prefixes":["clusters/"]},
		{"name":"dev-batch","sha256":"` + auth.Hash(tokenBatch) + `","prefixes":["clusters/"]},
		{"name":"tenant-b","sha256":"` + auth.Hash(tokenOther) + `","prefixes":["tenants/b/"]},
		{"name":"ops","sha256":"` + auth.Hash(tokenOps) + `","prefixes":[""],"admin":true}
	]}`
}
