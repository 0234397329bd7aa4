// Package dynamodb stores lease records in a DynamoDB table, one item per
// database key, with condition expressions on a version counter for
// compare-and-swap.
//
// # Table
//
// Infrastructure code and the LocalStack scripts must create exactly this
// (CreateTableInput returns it):
//
//	TableName:            any (REDLEASE_TABLE)
//	KeySchema:            database_key HASH
//	AttributeDefinitions: database_key S
//	BillingMode:          PAY_PER_REQUEST
//
// No sort key, no indexes, no TTL attribute: records are never deleted (the
// generation and the term fence must survive), and nothing but the key is
// declared, as DynamoDB requires.
//
// # Item
//
// Plain attributes, so the console shows a lease as it is:
//
//	database_key        S  the key (partition key)
//	holder_id           S  the holder, also after a release
//	principal           S  only when a principal acquired it (non-empty)
//	term                N
//	generation          N
//	acquired_at_ms      N
//	expires_at_ms       N
//	released_at_ms      N  only when released (non-zero)
//	expiry_reported_ms  N  only when the sweep reported the expiry (non-zero)
//	ttl_ms              N  only when RedDB acquired it through the RedDB face
//	                       (non-zero; a plain attribute, not DynamoDB's TTL)
//	ver                 N  1 on create, +1 on every write
//	write_id            S  random per write; tells a resent write its own
//
// A record's lease.Version is ver in decimal, in double quotes as every
// backend's version is (lease.NewVersion): "1", "2", ... Unknown attributes
// are ignored, so attributes can be added later; a missing or mistyped
// attribute above makes the item lease.ErrCorrupt.
//
// # Requests
//
//   - Load: one GetItem with ConsistentRead.
//   - Create: one PutItem with attribute_not_exists(database_key).
//   - Replace: one PutItem with ver = :expected, writing ver+1.
//   - List: Scan with ConsistentRead and Limit; the cursor is the
//     database_key of LastEvaluatedKey (the table's whole primary key).
//
// Both writes ask for ReturnValuesOnConditionCheckFailure ALL_OLD, so a
// refused write returns the item it found in the same round trip: the
// *lease.PreconditionError carries it as Current, and the Service re-decides
// without reading again. A refused Replace of a missing item carries nil.
//
// The SDK resends a PutItem whose response was lost (a cut connection, a
// bad response checksum). If the first copy was applied, the resend is
// refused by its own condition. Every write therefore carries a random
// write_id: a refusal whose ALL_OLD item has this write's id means the write
// landed, and the store reports success instead of a conflict that never
// happened (which would cost the caller a generation, or turn a release
// into stale).
//
// # Errors
//
// ConditionalCheckFailedException is a *lease.PreconditionError. Throttling
// (ProvisionedThroughputExceeded, Throttling, RequestLimitExceeded),
// TransactionConflict, 5xx, timeouts and transport failures are
// lease.Unavailable. A missing table, validation and auth errors are plain
// errors: retrying will not help, and the operator has to see them.
//
// The SDK's retryer may resend a PutItem after an ambiguous failure that
// DynamoDB had in fact applied; the resend then fails its condition and
// returns our own write as Current, and the Service re-decides on it safely.
//
// # Clients
//
// New takes anything with the three SDK methods it uses (API); a
// *github.com/aws/aws-sdk-go-v2/service/dynamodb.Client satisfies it.
// Endpoints are the client's business; aws-sdk-go-v2's config loader
// honours AWS_ENDPOINT_URL_DYNAMODB.
package dynamodb
