package xfake

import (
	"strconv"
	"strings"
)

// XError is one entry of the "errors" array X puts in a GraphQL or v1.1 response.
type XError struct {
	Code    int
	Message string
	// Kind, when set, makes the error a full GraphQL error with extensions
	// (name, source, kind, tracing), the shape X uses for 336 and _Missing.
	Kind string
	Name string
	Path []string
}

// The bodies X answers with, as listed in research/x-graphql.md §1.6 and §7.
var (
	ErrCouldNotAuthenticate = XError{Code: 32, Message: "Could not authenticate you."}
	ErrSuspended            = XError{Code: 64, Message: "Your account is suspended and is not permitted to access this feature."}
	ErrRateLimit            = XError{Code: 88, Message: "Rate limit exceeded."}
	ErrInvalidToken         = XError{Code: 89, Message: "Invalid or expired token."}
	ErrOverCapacity         = XError{Code: 130, Message: "Over capacity"}
	ErrDependencyInternal   = XError{Code: 131, Message: "Dependency: Internal error."}
	ErrLocked               = XError{Code: 326, Message: "Authorization: Denied by access control: Missing LdapGroup(visibility-custom-suspension); To protect our users from spam and other malicious activity, this account is temporarily locked. Please log in to https://x.com to unlock your account."}
	ErrCSRF                 = XError{Code: 353, Message: "This request requires a matching csrf cookie and header."}
	// ErrLoadShed is X shedding load; twscrape sees it as "(-1) LoadShed: Unspecified".
	ErrLoadShed = XError{Code: -1, Message: "LoadShed: Unspecified"}
	// ErrDependencyUnspecified comes beside partial data.
	ErrDependencyUnspecified = XError{Code: 0, Message: "Dependency: Unspecified", Kind: "NonFatal", Name: "DependencyError"}
)

// ErrFeatures is error 336: required feature flags were missing from the request.
func ErrFeatures(names ...string) XError {
	return XError{
		Code:    336,
		Message: "The following features cannot be null: " + strings.Join(names, ", "),
		Kind:    "Validation",
		Name:    "BadRequestError",
	}
}

// errMissingStatus is what TweetDetail answers (with status 200) for an unknown id.
var errMissingStatus = XError{
	Code: 144, Message: "_Missing: No status found with that ID.",
	Kind: "NonFatal", Name: "GenericError", Path: []string{"threaded_conversation_with_injections_v2"},
}

// errBadRequest is a GraphQL validation error for unusable variables.
func errBadRequest(msg string) XError {
	return XError{Code: 214, Message: msg, Kind: "Validation", Name: "BadRequestError"}
}

func (e XError) write(w *jsonw) {
	w.obj()
	if e.Kind == "" {
		// The v1.1-style body: {"code":88,"message":"Rate limit exceeded."}.
		if e.Code != 0 {
			w.kint("code", int64(e.Code))
		}
		w.kstr("message", e.Message)
		w.end()
		return
	}
	source := "Client"
	if e.Kind != "Validation" {
		source = "Server"
	}
	trace := strconv.FormatUint(hashString(e.Message), 16)
	w.kstr("message", e.Message)
	if len(e.Path) > 0 {
		w.kstrs("path", e.Path...)
	}
	// GraphQL errors repeat their classification in extensions and at the top.
	for _, nested := range []bool{true, false} {
		if nested {
			w.kobj("extensions")
		}
		w.kstr("name", e.Name)
		w.kstr("source", source)
		if e.Code != 0 {
			w.kint("code", int64(e.Code))
		}
		w.kstr("kind", e.Kind)
		w.kobj("tracing")
		w.kstr("trace_id", trace)
		w.end()
		if nested {
			w.end()
		}
	}
	w.end()
}

// ErrorBody is {"errors":[...]} holding errs, the body of every X error answer.
func ErrorBody(errs ...XError) []byte {
	w := &jsonw{}
	w.obj()
	writeErrors(w, errs)
	w.end()
	return w.b
}

func writeErrors(w *jsonw, errs []XError) {
	w.karr("errors")
	for _, e := range errs {
		e.write(w)
	}
	w.endArr()
}
