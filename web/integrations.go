package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v5"

	"nexus/pipeline"
	"nexus/pipeline/deliver"
)

// integrationResponse shows an integration without its secrets: each secret field
// answers {"set": true}.
type integrationResponse struct {
	Kind      string             `json:"kind"`
	Settings  json.RawMessage    `json:"settings"`
	Secrets   map[string]setFlag `json:"secrets"`
	UpdatedAt time.Time          `json:"updated_at"`
}

var secretFields = map[string][]string{
	"slack":   {"webhook_url", "bot_token"},
	"sheets":  {"service_account_json"},
	"webhook": {"secret"},
}

func kindParam(c *echo.Context) (string, error) {
	kind := c.Param("kind")
	if _, ok := secretFields[kind]; !ok {
		return "", apiError(http.StatusNotFound, "not_found", "no integration "+fmt.Sprintf("%q", kind)+"; use slack, sheets or webhook")
	}
	return kind, nil
}

// checkTarget refuses URLs that could reach the server's own network (SSRF), unless
// delivery.allow_private_targets is set.
func (s *Server) checkTarget(field, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return invalid(field, "must be an http(s) URL")
	}
	if err := deliver.CheckTarget(raw, s.opts.AllowPrivateTargets); err != nil {
		return invalid(field, "refused: %s (set delivery.allow_private_targets to allow private addresses)", strings.TrimPrefix(err.Error(), "deliver: "))
	}
	return nil
}

// normalizeIntegration validates an integration body and splits it into the sealed
// settings and their public part.
func (s *Server) normalizeIntegration(kind string, body []byte) (config, public json.RawMessage, secrets map[string]setFlag, err error) {
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	secrets = map[string]setFlag{}
	var pub any
	var cfg any
	switch kind {
	case "slack":
		var v pipeline.SlackSettings
		if err := dec.Decode(&v); err != nil {
			return nil, nil, nil, jsonError(err)
		}
		switch {
		case v.WebhookURL != "" && v.BotToken != "":
			return nil, nil, nil, invalid("webhook_url", "give a webhook_url or a bot_token with a channel, not both")
		case v.WebhookURL != "":
			if err := s.checkTarget("webhook_url", v.WebhookURL); err != nil {
				return nil, nil, nil, err
			}
			u, _ := url.Parse(v.WebhookURL)
			pub = map[string]string{"mode": "webhook", "host": u.Host}
		case v.BotToken != "":
			if v.Channel == "" {
				return nil, nil, nil, invalid("channel", "required with a bot_token")
			}
			if !strings.HasPrefix(v.BotToken, "xoxb-") {
				return nil, nil, nil, invalid("bot_token", "must be a bot token (xoxb-...)")
			}
			pub = map[string]string{"mode": "bot", "channel": v.Channel}
		default:
			return nil, nil, nil, invalid("webhook_url", "give a webhook_url, or a bot_token and a channel")
		}
		secrets["webhook_url"], secrets["bot_token"] = setFlag{v.WebhookURL != ""}, setFlag{v.BotToken != ""}
		cfg = v
	case "sheets":
		var v pipeline.SheetsSettings
		if err := dec.Decode(&v); err != nil {
			return nil, nil, nil, jsonError(err)
		}
		if strings.TrimSpace(v.SpreadsheetID) == "" {
			return nil, nil, nil, invalid("spreadsheet_id", "required")
		}
		var sa struct {
			Type        string `json:"type"`
			ClientEmail string `json:"client_email"`
			PrivateKey  string `json:"private_key"`
		}
		if json.Unmarshal([]byte(v.ServiceAccountJSON), &sa) != nil || sa.Type != "service_account" || sa.ClientEmail == "" || sa.PrivateKey == "" {
			return nil, nil, nil, invalid("service_account_json", "must be a Google service account key (JSON with type service_account)")
		}
		pub = map[string]string{"spreadsheet_id": v.SpreadsheetID, "client_email": sa.ClientEmail}
		secrets["service_account_json"] = setFlag{true}
		cfg = v
	case "webhook":
		var v pipeline.WebhookSettings
		if err := dec.Decode(&v); err != nil {
			return nil, nil, nil, jsonError(err)
		}
		if v.Format == "" {
			v.Format = "json"
		}
		if v.Format != "json" && v.Format != "discord" {
			return nil, nil, nil, invalid("format", "must be json or discord")
		}
		if err := s.checkTarget("url", v.URL); err != nil {
			return nil, nil, nil, err
		}
		u, _ := url.Parse(v.URL)
		pub = map[string]string{"host": u.Host, "format": v.Format}
		secrets["secret"] = setFlag{v.Secret != ""}
		cfg = v
	}
	config, _ = json.Marshal(cfg)
	public, _ = json.Marshal(pub)
	return config, public, secrets, nil
}

func (s *Server) putIntegration(c *echo.Context) error {
	kind, err := kindParam(c)
	if err != nil {
		return err
	}
	var raw json.RawMessage
	if err := decodeJSON(c, &raw); err != nil {
		return err
	}
	config, public, secrets, err := s.normalizeIntegration(kind, raw)
	if err != nil {
		return err
	}
	p := principal(c)
	if err := s.store.SetIntegration(c.Request().Context(), p.OrgID, kind, config, public); err != nil {
		return err
	}
	s.audit(c, p.OrgID, p.UserID, p.Email, "integration.set", kind)
	return c.JSON(http.StatusOK, integrationResponse{Kind: kind, Settings: public, Secrets: secrets, UpdatedAt: time.Now().UTC()})
}

func (s *Server) getIntegration(c *echo.Context) error {
	kind, err := kindParam(c)
	if err != nil {
		return err
	}
	in, err := s.store.Integration(c.Request().Context(), principal(c).OrgID, kind)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.integrationOut(in.Kind, in.Public, in.UpdatedAt))
}

func (s *Server) integrationOut(kind string, public json.RawMessage, updated time.Time) integrationResponse {
	secrets := map[string]setFlag{}
	for _, f := range secretFields[kind] {
		secrets[f] = setFlag{true}
	}
	if kind == "slack" {
		var pub struct{ Mode string }
		json.Unmarshal(public, &pub)
		secrets["webhook_url"], secrets["bot_token"] = setFlag{pub.Mode == "webhook"}, setFlag{pub.Mode == "bot"}
	}
	return integrationResponse{Kind: kind, Settings: public, Secrets: secrets, UpdatedAt: updated}
}

func (s *Server) listIntegrations(c *echo.Context) error {
	ins, err := s.store.Integrations(c.Request().Context(), principal(c).OrgID)
	if err != nil {
		return err
	}
	out := make([]integrationResponse, 0, len(ins))
	for _, in := range ins {
		out = append(out, s.integrationOut(in.Kind, in.Public, in.UpdatedAt))
	}
	return c.JSON(http.StatusOK, map[string]any{"integrations": out})
}

func (s *Server) deleteIntegration(c *echo.Context) error {
	kind, err := kindParam(c)
	if err != nil {
		return err
	}
	p := principal(c)
	if err := s.store.DeleteIntegration(c.Request().Context(), p.OrgID, kind); err != nil {
		return err
	}
	s.audit(c, p.OrgID, p.UserID, p.Email, "integration.delete", kind)
	return c.NoContent(http.StatusNoContent)
}

// testIntegration sends a test message through the integration as configured. A
// failure is the destination's answer, reported as 422 with its reason.
func (s *Server) testIntegration(c *echo.Context) error {
	kind, err := kindParam(c)
	if err != nil {
		return err
	}
	if s.opts.Senders == nil {
		return apiError(http.StatusServiceUnavailable, "unavailable", "delivery is not available in this process")
	}
	p := principal(c)
	ctx := c.Request().Context()
	sender, err := s.opts.Senders.Sender(ctx, p.OrgID, kind)
	if err != nil {
		return err
	}
	err = sender.Send(ctx, deliver.Message{Test: true, Title: "Nexus test message",
		IdempotencyKey: fmt.Sprintf("nexus-test-%d", time.Now().UnixNano())})
	s.audit(c, p.OrgID, p.UserID, p.Email, "integration.test", kind)
	if err != nil {
		return apiError(http.StatusUnprocessableEntity, "test_failed", kind+": "+err.Error())
	}
	return c.JSON(http.StatusOK, map[string]any{"ok": true})
}
