package apigw

import (
	"strings"

	"github.com/redlease/redlease/pkg/lease"
)

// IAMPrincipalName is the principal of an IAM caller, from the caller ARN
// API Gateway puts in the request context of a SigV4-signed request
// (payload 2.0: requestContext.authorizer.iam.userArn, 1.0:
// requestContext.identity.userArn). It is what a lease stores and what
// refresh and release compare, byte for byte:
//
//   - an assumed role, arn:PART:sts::ACCT:assumed-role/ROLE/SESSION, is
//     arn:PART:sts::ACCT:assumed-role/ROLE: the session name changes with
//     every set of temporary credentials (an EC2 instance id, a random
//     Lambda session, an SSO user's e-mail under one permission set), the
//     role does not. Every session of one role is one principal; give
//     RedDB instances that must not release each other's leases roles of
//     their own. The ARN carries no role path, so neither does the name.
//   - an IAM user, arn:PART:iam::ACCT:user/PATH/NAME, is that ARN.
//   - the account's root user, arn:PART:iam::ACCT:root, is that ARN.
//   - a federated user (sts:GetFederationToken),
//     arn:PART:sts::ACCT:federated-user/NAME, is that ARN: NAME is the
//     whole identity, chosen by the IAM user that asked for the token.
//
// ok is false for an empty ARN (an unsigned request) and for any other
// form: such a caller gets no principal, so it is refused, never guessed.
func IAMPrincipalName(userARN string) (name string, ok bool) {
	parts := strings.SplitN(userARN, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] == "" || parts[3] != "" || !isAccount(parts[4]) {
		return "", false
	}
	service, resource := parts[2], parts[5]
	switch {
	case service == "iam" && resource == "root":
		return userARN, true
	case service == "iam" && strings.HasPrefix(resource, "user/") && !strings.HasSuffix(resource, "/"):
		return userARN, true
	case service == "sts" && strings.HasPrefix(resource, "federated-user/") && len(resource) > len("federated-user/"):
		return userARN, true
	case service == "sts" && strings.HasPrefix(resource, "assumed-role/"):
		role, session, found := strings.Cut(strings.TrimPrefix(resource, "assumed-role/"), "/")
		if role == "" || !found || session == "" {
			return "", false
		}
		return strings.Join(parts[:5], ":") + ":assumed-role/" + role, true
	}
	return "", false
}

func isAccount(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// iamPrincipal is the principal of a signed request: its name, every key
// (the IAM policy on the path routes is what scopes an IAM caller), and
// break-glass only where the adapter serves the admin route alone.
func (a *Adapter) iamPrincipal(userARN string) lease.Principal {
	name, ok := IAMPrincipalName(userARN)
	if !ok {
		return lease.Principal{}
	}
	return lease.Principal{Name: name, Prefixes: []string{""}, Admin: a.opts.IAMAdmin}
}
