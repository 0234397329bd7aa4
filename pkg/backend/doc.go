// Package backend holds redlease's storage backends. Each subpackage
// implements lease.ListingStore with compare-and-swap semantics (Store),
// a listing that reads as little as it can (Lister: entries with a change
// tag, and the record itself only where the listing returns it anyway) and
// one object for the sweep's state, outside the records (StateStore):
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
