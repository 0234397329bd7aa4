// Package consistency holds each fact that is written in more than one
// file to its one declaration, and fails when a copy is changed alone:
//
//   - the routes (api.Routes) against the stack's routes in infra/stack
//     and the paths and methods of api/openapi.yaml;
//   - the Lambda functions (lambdafn.Functions) against the functions/
//     folders, the name each folder's main.go starts (lambdafn.Start),
//     the Makefile's FUNCTIONS and the stack's FunctionNames;
//   - the environment variables internal/config reads (config.Vars)
//     against every REDLEASE_ name the stack sets;
//   - the default object prefix (lease.DefaultPrefix) against the stack's;
//   - the layering: pkg/lease imports nothing of redlease's above it.
//
// infra/ is its own Go module and cannot be imported from here, so its
// declarations are read from its source with go/parser: string constants,
// string concatenations and the slices and struct literals built of them.
package consistency
