// Package fakeaws serves just enough of the S3 and DynamoDB HTTP APIs for
// the benchmark's own tests to drive the real AWS SDK clients, request
// counters and stores without an emulator: S3 HEAD, GET, PUT and DELETE
// with If-Match / If-None-Match and ListObjectsV2 (path style); DynamoDB
// GetItem, PutItem with redlease's two condition expressions and ALL_OLD,
// Scan and CreateTable. It is a test double, never a measurement target:
// the report's figures come from LocalStack and moto.
package fakeaws
