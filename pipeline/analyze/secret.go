package analyze

import "strings"

// Redact replaces every occurrence of secret in s. Providers pass the messages of servers
// and SDKs through it: a server may echo an API key, and some SDK errors print their
// whole configuration.
func Redact(s, secret string) string {
	if secret == "" {
		return s
	}
	return strings.ReplaceAll(s, secret, "[redacted]")
}

// Scrub returns err with secret hidden from its message. The chain stays, for errors.Is
// and errors.As; only the message is rewritten.
func Scrub(err error, secret string) error {
	if err == nil || secret == "" || !strings.Contains(err.Error(), secret) {
		return err
	}
	return &scrubbed{msg: Redact(err.Error(), secret), err: err}
}

type scrubbed struct {
	msg string
	err error
}

func (s *scrubbed) Error() string { return s.msg }
func (s *scrubbed) Unwrap() error { return s.err }
