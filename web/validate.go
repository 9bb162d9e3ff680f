package web

import (
	"fmt"
	"net/http"
	"net/mail"
	"strconv"
	"strings"
	"unicode"

	"github.com/labstack/echo/v5"
)

// invalid is a 400 naming the field that is wrong.
func invalid(field, format string, args ...any) *Error {
	return apiError(http.StatusBadRequest, "invalid", field+": "+fmt.Sprintf(format, args...))
}

func checkEmail(field, email string) (string, error) {
	email = strings.TrimSpace(email)
	if email == "" {
		return "", invalid(field, "required")
	}
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email || len(email) > 254 {
		return "", invalid(field, "not an e-mail address")
	}
	return email, nil
}

func checkName(field, name string, maxLen int) (string, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return "", invalid(field, "required")
	case len(name) > maxLen:
		return "", invalid(field, "at most %d characters", maxLen)
	case strings.ContainsFunc(name, unsafeRune):
		return "", invalid(field, "must not contain control or invisible formatting characters")
	}
	return name, nil
}

// unsafeRune is a control character, or a format character (right-to-left override,
// zero-width space, BOM) that would make a name display as something it is not.
func unsafeRune(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }

// checkNote accepts free text with line breaks but no other control or format
// character: a feedback note goes into the analyzer's prompt and onto screens.
func checkNote(field, note string, maxLen int) error {
	if len(note) > maxLen {
		return invalid(field, "at most %d characters", maxLen)
	}
	if strings.ContainsFunc(note, func(r rune) bool { return r != '\n' && r != '\t' && unsafeRune(r) }) {
		return invalid(field, "must not contain control or invisible formatting characters")
	}
	return nil
}

func checkRole(field, role string) error {
	if role != "admin" && role != "member" {
		return invalid(field, "must be admin or member, got %q", role)
	}
	return nil
}

// idParam reads a positive integer path parameter. Anything else is a 404, like an id
// that does not exist: a malformed id names no object.
func idParam(c *echo.Context, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Param(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, apiError(http.StatusNotFound, "not_found", name+" "+strconv.Quote(c.Param(name))+" not found")
	}
	return id, nil
}
