// Package backend holds redlease's storage backends. Each subpackage
// implements lease.Store and lease.Lister with compare-and-swap semantics:
//
//   - memory: in-process, for tests and as the base of fault injection;
//   - file: a directory laid out like the S3 bucket, safe across processes;
//   - s3: S3 conditional writes (If-None-Match / If-Match);
//   - dynamodb: DynamoDB condition expressions on a version attribute.
//
// Every store is built as New(dependencies, Options) and hands out versions
// in one form, a strong HTTP entity-tag (lease.NewVersion). backendtest is
// the conformance suite that every backend runs.
package backend
