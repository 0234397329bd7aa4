package auth_test

import (
	"context"
	"fmt"
	"net/http"

	"github.com/redlease/redlease/pkg/auth"
)

func Example() {
	// The operator keeps the token; the document keeps its SHA-256.
	token := "2f1c0b5e8d7a4c3b9e6f1a2d5c8b7e4f"
	doc := `{"tokens":[{"name":"tenant-a-reddb","sha256":"` + auth.Hash(token) + `","prefixes":["tenants/a/"]}]}`
	set, err := auth.Parse([]byte(doc))
	if err != nil {
		fmt.Println(err)
		return
	}
	p, err := set.Authenticate(context.Background(), http.Header{"Authorization": {"Bearer " + token}})
	fmt.Println(p.Name, p.Allows("tenants/a/main"), p.Allows("tenants/b/main"), err)
	_, err = set.Authenticate(context.Background(), http.Header{"Authorization": {"Bearer guess"}})
	fmt.Println(err)
	// Output:
	// tenant-a-reddb true false <nil>
	// unauthorized: the bearer token is not one this service issued
}

func ExampleParse() {
	_, err := auth.Parse([]byte(`{"tokens":[{"name":"tenant-a","sha256":"` + auth.Hash("t") + `","prefixes":["tenants/a"]}]}`))
	fmt.Println(err)
	// Output:
	// tokens document: tokens[0] "tenant-a": prefix "tenants/a" must end in "/" (or be "" for every key)
}
