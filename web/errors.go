package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v5"

	"nexus/store"
)

// Error is an API error with its HTTP status and a stable machine code.
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// StatusCode lets Echo's middleware (the request log) see the status before it is written.
func (e *Error) StatusCode() int { return e.Status }

func apiError(status int, code, msg string) *Error {
	return &Error{Status: status, Code: code, Message: msg}
}

type errorBody struct {
	Error *Error `json:"error"`
}

// handleError is the one place that turns an error into a response. Anything that is
// not a known client error is logged once, with the request id, and answered as a bare
// 500 so that no internal detail leaks.
func (s *Server) handleError(c *echo.Context, err error) {
	if r, _ := echo.UnwrapResponse(c.Response()); r != nil && r.Committed {
		return
	}
	var ae *Error
	var he *echo.HTTPError
	switch {
	case errors.As(err, &ae):
	case errors.Is(err, store.ErrNotFound):
		ae = apiError(http.StatusNotFound, "not_found", err.Error())
	case errors.Is(err, store.ErrConflict), errors.Is(err, store.ErrLastAdmin):
		ae = apiError(http.StatusConflict, "conflict", err.Error())
	case errors.Is(err, store.ErrAlreadySetUp):
		ae = apiError(http.StatusConflict, "already_set_up", "Nexus is already set up; log in instead")
	case errors.Is(err, store.ErrUnauthenticated):
		ae = apiError(http.StatusUnauthorized, "unauthorized", "invalid, revoked or expired credentials")
	case errors.As(err, &he):
		ae = apiError(he.Code, codeForStatus(he.Code), he.Message)
		if ae.Message == "" {
			ae.Message = strings.ToLower(http.StatusText(he.Code))
		}
	case echo.StatusCode(err) != 0:
		code := echo.StatusCode(err)
		ae = apiError(code, codeForStatus(code), strings.ToLower(http.StatusText(code)))
	default:
		s.log.Error().Err(err).
			Str("request_id", c.Response().Header().Get(echo.HeaderXRequestID)).
			Str("method", c.Request().Method).Str("path", c.Request().URL.Path).
			Msg("request failed")
		ae = apiError(http.StatusInternalServerError, "internal", "internal error; see the server log for request "+
			c.Response().Header().Get(echo.HeaderXRequestID))
	}
	if ae.Status == http.StatusRequestEntityTooLarge && ae.Code == "too_large" {
		ae.Message = fmt.Sprintf("body exceeds %d bytes", s.opts.BodyLimit)
	}
	if c.Request().Method == http.MethodHead {
		c.NoContent(ae.Status) //nolint:errcheck // the client is gone if this fails
		return
	}
	// A browser that follows a stale link or mistypes a page's address gets a page, not
	// JSON; the API's paths always answer JSON, whatever the client accepts.
	if (ae.Status == http.StatusNotFound || ae.Status == http.StatusMethodNotAllowed) && s.errorPage != nil &&
		wantsHTML(c) && !strings.HasPrefix(c.Request().URL.Path, "/api/") {
		msg := "There is no such page."
		if ae.Status == http.StatusMethodNotAllowed {
			msg = "This page does not take that kind of request."
		}
		if err := s.errorPage(c, ae.Status, msg); err == nil {
			return
		}
	}
	c.JSON(ae.Status, errorBody{Error: ae}) //nolint:errcheck // the client is gone if this fails
}

func codeForStatus(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "invalid"
	case http.StatusUnauthorized:
		return "unauthorized"
	case http.StatusForbidden:
		return "forbidden"
	case http.StatusNotFound:
		return "not_found"
	case http.StatusMethodNotAllowed:
		return "method_not_allowed"
	case http.StatusRequestEntityTooLarge:
		return "too_large"
	case http.StatusUnsupportedMediaType:
		return "unsupported_media_type"
	case http.StatusTooManyRequests:
		return "rate_limited"
	case http.StatusServiceUnavailable:
		return "unavailable"
	}
	if status >= 500 {
		return "internal"
	}
	return "error"
}

// decodeJSON reads the request body into v and turns every way it can be wrong into a
// 400 that names the field, never a 500: unknown fields, wrong types, bad syntax,
// trailing data, an empty body; a body over the limit is a 413.
func decodeJSON(c *echo.Context, v any) error {
	req := c.Request()
	if ct := req.Header.Get(echo.HeaderContentType); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return apiError(http.StatusUnsupportedMediaType, "unsupported_media_type", "body must be application/json")
		}
	}
	// The body is bounded by the body limit, so reading it whole is safe, and lets
	// invalid UTF-8 be refused instead of silently turned into U+FFFD.
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return jsonError(err)
	}
	if !utf8.Valid(body) {
		return apiError(http.StatusBadRequest, "invalid", "body is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return apiError(http.StatusBadRequest, "invalid", "body must hold a single JSON object")
	}
	return nil
}

func jsonError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var mbe *http.MaxBytesError
	switch {
	case errors.Is(err, io.EOF):
		return apiError(http.StatusBadRequest, "invalid", "body is empty; send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return apiError(http.StatusBadRequest, "invalid", "body is truncated JSON")
	case errors.As(err, &mbe), echo.StatusCode(err) == http.StatusRequestEntityTooLarge:
		// The message is filled in by handleError, which knows the configured limit.
		return apiError(http.StatusRequestEntityTooLarge, "too_large", "body too large")
	case errors.As(err, &syn):
		return apiError(http.StatusBadRequest, "invalid", fmt.Sprintf("malformed JSON at byte %d", syn.Offset))
	case errors.As(err, &typ):
		if typ.Field == "" {
			return apiError(http.StatusBadRequest, "invalid", fmt.Sprintf("body must be a JSON object, not %s", typ.Value))
		}
		return apiError(http.StatusBadRequest, "invalid", fmt.Sprintf("field %q must be %s, not %s", typ.Field, jsonKind(typ.Type.Kind().String()), typ.Value))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return apiError(http.StatusBadRequest, "invalid", "unknown field "+strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return apiError(http.StatusBadRequest, "invalid", "malformed JSON body")
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "slice", "array":
		return "an array"
	case "struct", "map":
		return "an object"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "an integer"
	case "float32", "float64":
		return "a number"
	}
	return goKind
}
