// Package s3 stores lease records in an S3 bucket with S3 conditional writes,
// in exactly the layout RedDB's own lease store uses, so RedDB and redlease
// can read each other's objects.
//
// # Layout
//
// One object per database key, at {prefix}{database_key}.lease.json (prefix
// "leases/" by default), holding lease.EncodeRecord's bytes with
// Content-Type application/json. The version of a record is the object's
// ETag exactly as S3 returns it, quotes included: already the strong
// entity-tag every backend's version is, and what S3 compares If-Match with.
//
// # Requests
//
//   - Load: one GetObject, which returns the body and its ETag together, so
//     no HEAD is needed and the pair is always consistent.
//   - Create: one PutObject with If-None-Match: *.
//   - Replace: one PutObject with If-Match: <etag>.
//   - List: one ListObjectsV2 under the prefix per page and nothing else:
//     each entry's tag and version is the ETag the listing returns, so the
//     sweep reads (GetObject) only the objects whose ETag it has not seen.
//     The cursor is the last object key of the page, sent back as
//     StartAfter: a plain key that stays valid across runs, where a
//     continuation token is opaque and need not.
//   - LoadState / SaveState: one GetObject / conditional PutObject of the
//     sweep's state object, Options.StateKey, by default
//     "redlease-sweep/" + prefix + "state": outside the prefix, so that
//     neither the API's role nor a listing of the prefix ever meets it.
//
// ContentVersion is the MD5 of a record's bytes in quotes, the ETag S3
// gives a single-part upload without SSE-KMS or SSE-C, which is how the
// store writes: the sweep uses it to prove, without a read, that an object
// still holds the record it read in an earlier run. In a bucket encrypted
// with SSE-KMS no ETag is an MD5, nothing is proven, and the sweep reads.
//
// # Errors
//
// 412 PreconditionFailed, and 404 NoSuchKey answering an If-Match write (the
// object is gone), are a *lease.PreconditionError. 409
// ConditionalRequestConflict means another conditional write to the same key
// was in flight and ours was not applied; S3's guidance is to retry, so the
// same conditional write is retried a few times with a short, jittered,
// doubling backoff. If the conflict persists it is reported as a
// *lease.PreconditionError, not as ErrUnavailable: S3 guarantees nothing was
// written, and a concurrent writer is what blocked us, so the Service re-reads
// and re-decides (and answers lost_race if that keeps happening) instead of
// answering an ambiguous 503.
//
// Throttling (503 SlowDown, 429), other 5xx, 408, timeouts and transport
// failures are lease.Unavailable. Auth failures (403), a missing bucket and
// malformed requests are returned as plain errors: retrying will not help,
// and the operator has to see them. (A role without s3:ListBucket on an
// object gets 403, not 404, when the object does not exist; LoadState
// returns that 403 as it is, and the sweep tells "missing" from "denied"
// by creating the state with If-None-Match.)
//
// The SDK's retryer may resend a conditional write after an ambiguous
// failure (a 500 or a timeout after S3 applied it); the resend then answers
// 412. The Service treats that like any lost race: it re-reads, finds its
// own write, and re-decides safely (a refresh extends again, an acquire takes
// one more generation, a release answers the released record).
//
// # Checksums
//
// aws-sdk-go-v2's config.LoadDefaultConfig sets RequestChecksumCalculation
// to "when supported", so every PutObject carries a CRC32 of the body: an
// x-amz-checksum-crc32 header over plain HTTP (LocalStack), an aws-chunked
// trailer over TLS (S3). (A hand-built aws.Config leaves it unset, which
// sends none.) S3 and LocalStack 4.14 accept it, and it guards the body in
// transit, so it is left on. For S3-compatible stores that reject checksum
// headers or aws-chunked bodies, Options.DisableRequestChecksums switches each
// PutObject to "when required" (none, for PutObject) without touching the
// caller's client; AWS_REQUEST_CHECKSUM_CALCULATION=when_required does the
// same process-wide.
//
// # Clients
//
// New takes anything with the three SDK methods it uses (API); a
// *github.com/aws/aws-sdk-go-v2/service/s3.Client satisfies it. Endpoint and
// path-style addressing are the client's business: NewClient builds one from
// an aws.Config with UsePathStyle set (needed for LocalStack and moto), and
// aws-sdk-go-v2's config loader already honours AWS_ENDPOINT_URL_S3.
package s3
