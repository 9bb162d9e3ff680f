package app

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"nexus/scraper"
)

// Config is every setting of Nexus. The toml tags are the configuration contract of
// DESIGN.md; each key can also be set by NEXUS_<SECTION>_<KEY> and, for a few, a flag.
// nexus.example.toml documents every key, and a test keeps the two in step.
type Config struct {
	DataDir   string         `toml:"data_dir"`
	SecretKey string         `toml:"secret_key" secret:"true"`
	Server    ServerConfig   `toml:"server"`
	Workers   WorkersConfig  `toml:"workers"`
	X         XConfig        `toml:"x"`
	LLM       LLMConfig      `toml:"llm"`
	Runs      RunsConfig     `toml:"runs"`
	Delivery  DeliveryConfig `toml:"delivery"`
	Auth      AuthConfig     `toml:"auth"`
	Log       LogConfig      `toml:"log"`
}

// RunsConfig bounds listening runs.
type RunsConfig struct {
	AccountWait time.Duration `toml:"account_wait"`
	MaxReplies  int           `toml:"max_replies"`
}

// DeliveryConfig governs where opportunities may be sent.
type DeliveryConfig struct {
	AllowPrivateTargets bool `toml:"allow_private_targets"`
}

// AuthConfig is how people log in to the web UI.
type AuthConfig struct {
	SessionTTL time.Duration `toml:"session_ttl"`
}

// ServerConfig is the HTTP server.
type ServerConfig struct {
	Addr            string        `toml:"addr"`
	BodyLimit       int64         `toml:"body_limit"`
	ShutdownTimeout time.Duration `toml:"shutdown_timeout"`
	TrustedProxies  []string      `toml:"trusted_proxies"`
	CORSOrigins     []string      `toml:"cors_origins"`
	// MetricsAddr, when set, serves /metrics without authentication on a listener of
	// its own, for a Prometheus that scrapes over a private network.
	MetricsAddr string `toml:"metrics_addr"`
}

// WorkersConfig is the background job pool.
type WorkersConfig struct {
	Concurrency int `toml:"concurrency"`
}

// XConfig is how Nexus reaches X.
type XConfig struct {
	APIBase       string `toml:"api_base"`
	WebBase       string `toml:"web_base"`
	TransactionID string `toml:"transaction_id"`
	// Operations overrides GraphQL operation ids and methods: name → "ID", "ID:POST"
	// or ":POST". Nexus also rediscovers ids from X's web bundle when one goes stale.
	Operations map[string]string `toml:"operations"`
}

// LLMConfig is the conversation analyzer.
type LLMConfig struct {
	Provider string `toml:"provider"`
	Model    string `toml:"model"`
	APIKey   string `toml:"api_key" secret:"true"`
	BaseURL  string `toml:"base_url"`
}

// LogConfig is the process log.
type LogConfig struct {
	Level  string `toml:"level"`
	Format string `toml:"format"`
}

// DefaultConfig is what Nexus runs with when nothing is configured.
func DefaultConfig() Config {
	return Config{
		DataDir: "./data",
		Server: ServerConfig{
			Addr:            "127.0.0.1:8000",
			BodyLimit:       1 << 20,
			ShutdownTimeout: 30 * time.Second,
			TrustedProxies:  []string{},
			CORSOrigins:     []string{},
		},
		Workers: WorkersConfig{Concurrency: 4},
		X: XConfig{
			APIBase:       "https://x.com/i/api",
			WebBase:       "https://x.com",
			TransactionID: "auto",
			Operations:    map[string]string{},
		},
		LLM:  LLMConfig{Model: "gemini-2.5-flash"},
		Auth: AuthConfig{SessionTTL: 14 * 24 * time.Hour},
		Runs: RunsConfig{AccountWait: 30 * time.Minute, MaxReplies: 500},
		Log:  LogConfig{Level: "info", Format: "auto"},
	}
}

// LLMProvider resolves the empty provider: Gemini when a key is set, else the offline
// heuristic, so that a fresh install works without any account anywhere.
func (c Config) LLMProvider() string {
	if c.LLM.Provider != "" {
		return c.LLM.Provider
	}
	if c.LLM.APIKey != "" {
		return "gemini"
	}
	return "heuristic"
}

// ConfigError is a bad setting. It names the key and where the value came from, and
// never the value of a secret.
type ConfigError struct {
	Key    string
	Source string
	Msg    string
}

func (e *ConfigError) Error() string {
	if e.Key == "" {
		return fmt.Sprintf("config: %s (%s)", e.Msg, e.Source)
	}
	return fmt.Sprintf("config: %s: %s (from %s)", e.Key, e.Msg, e.Source)
}

// field is one leaf of Config, addressed by its dotted key.
type field struct {
	key    string // "server.addr"
	env    string // "NEXUS_SERVER_ADDR"
	secret bool
	value  reflect.Value
}

// fields lists every leaf of c in declaration order. It is the single source for the
// environment names, the flag overrides and the example-file test.
func (c *Config) fields() []field {
	var out []field
	var walk func(prefix string, v reflect.Value)
	walk = func(prefix string, v reflect.Value) {
		t := v.Type()
		for i := range t.NumField() {
			sf := t.Field(i)
			key := sf.Tag.Get("toml")
			if prefix != "" {
				key = prefix + "." + key
			}
			fv := v.Field(i)
			if sf.Type.Kind() == reflect.Struct && sf.Type != reflect.TypeFor[time.Duration]() {
				walk(key, fv)
				continue
			}
			out = append(out, field{
				key:    key,
				env:    "NEXUS_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_")),
				secret: sf.Tag.Get("secret") == "true",
				value:  fv,
			})
		}
	}
	walk("", reflect.ValueOf(c).Elem())
	return out
}

// Keys lists every configuration key, for documentation and tests.
func Keys() []string {
	var c Config
	var keys []string
	for _, f := range c.fields() {
		keys = append(keys, f.key)
	}
	return keys
}

// setString parses s into the field's type.
func (f field) setString(s string) error {
	switch f.value.Kind() {
	case reflect.String:
		f.value.SetString(s)
	case reflect.Int, reflect.Int64:
		if f.value.Type() == reflect.TypeFor[time.Duration]() {
			d, err := time.ParseDuration(s)
			if err != nil {
				return errors.New("not a duration (like 30s or 5m)")
			}
			f.value.SetInt(int64(d))
			return nil
		}
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return errors.New("not an integer")
		}
		f.value.SetInt(n)
	case reflect.Slice: // []string, comma-separated in variables and flags
		list := []string{}
		for _, item := range strings.Split(s, ",") {
			if item = strings.TrimSpace(item); item != "" {
				list = append(list, item)
			}
		}
		f.value.Set(reflect.ValueOf(list))
	case reflect.Map: // map[string]string, "name=value,name=value" in variables and flags
		m := map[string]string{}
		for _, item := range strings.Split(s, ",") {
			if item = strings.TrimSpace(item); item == "" {
				continue
			}
			k, v, ok := strings.Cut(item, "=")
			if !ok {
				return fmt.Errorf("%q is not NAME=VALUE", item)
			}
			m[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
		f.value.Set(reflect.ValueOf(m))
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return errors.New("not a boolean (true or false)")
		}
		f.value.SetBool(b)
	default:
		return fmt.Errorf("unsupported type %s", f.value.Type())
	}
	return nil
}

// LoadOptions are the inputs of LoadConfig besides the file: the environment and the
// flags that were set on the command line, keyed by configuration key.
type LoadOptions struct {
	Path    string            // --config; empty means NEXUS_CONFIG, then ./nexus.toml if present
	Environ []string          // os.Environ()
	Flags   map[string]string // "server.addr" -> value, only flags the user set
	FlagFor map[string]string // "server.addr" -> "--addr", to name the source
}

// LoadConfig builds the configuration from defaults < file < environment < flags, then
// validates it. Every error is a *ConfigError.
func LoadConfig(opts LoadOptions) (Config, error) {
	cfg := DefaultConfig()
	fields := cfg.fields()
	source := make(map[string]string, len(fields))
	for _, f := range fields {
		source[f.key] = "default"
	}
	env := environMap(opts.Environ)

	path, pathSource := opts.Path, "--config"
	if path == "" {
		if p := env["NEXUS_CONFIG"]; p != "" {
			path, pathSource = p, "NEXUS_CONFIG"
		} else if _, err := os.Stat("nexus.toml"); err == nil {
			path, pathSource = "nexus.toml", "./nexus.toml"
		}
	}
	if path != "" {
		if err := loadFile(&cfg, path, pathSource, source); err != nil {
			return Config{}, err
		}
	}

	byEnv := make(map[string]field, len(fields))
	for _, f := range fields {
		byEnv[f.env] = f
	}
	names := make([]string, 0, len(env))
	for name := range env {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if !strings.HasPrefix(name, "NEXUS_") || name == "NEXUS_CONFIG" {
			continue
		}
		f, ok := byEnv[name]
		if !ok {
			return Config{}, &ConfigError{Source: "environment", Msg: fmt.Sprintf("unknown variable %s", name)}
		}
		if err := f.setString(env[name]); err != nil {
			return Config{}, &ConfigError{Key: f.key, Source: "env " + name, Msg: err.Error()}
		}
		source[f.key] = "env " + name
	}
	// Gemini's own tools read these; honour them when Nexus's variable is unset.
	if source["llm.api_key"] == "default" || source["llm.api_key"] == "" {
		for _, name := range []string{"GEMINI_API_KEY", "GOOGLE_API_KEY"} {
			if v := env[name]; v != "" && cfg.LLM.APIKey == "" {
				cfg.LLM.APIKey = v
				source["llm.api_key"] = "env " + name
			}
		}
	}

	for _, f := range fields {
		v, ok := opts.Flags[f.key]
		if !ok {
			continue
		}
		src := "flag " + opts.FlagFor[f.key]
		if err := f.setString(v); err != nil {
			return Config{}, &ConfigError{Key: f.key, Source: src, Msg: err.Error()}
		}
		source[f.key] = src
	}

	if err := cfg.validate(source); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

func loadFile(cfg *Config, path, pathSource string, source map[string]string) error {
	src := fmt.Sprintf("file %s", path)
	md, err := toml.DecodeFile(path, cfg)
	if err != nil {
		var perr toml.ParseError
		if errors.As(err, &perr) {
			return &ConfigError{Source: src, Msg: fmt.Sprintf("line %d: %s", perr.Position.Line, perr.Message)}
		}
		if errors.Is(err, os.ErrNotExist) {
			return &ConfigError{Source: pathSource, Msg: fmt.Sprintf("file %s does not exist", path)}
		}
		// Type mismatches name the key in BurntSushi's message, but never echo secrets.
		return &ConfigError{Source: src, Msg: err.Error()}
	}
	if undecoded := md.Undecoded(); len(undecoded) > 0 {
		return &ConfigError{Key: undecoded[0].String(), Source: src, Msg: "unknown key"}
	}
	for _, k := range md.Keys() {
		source[k.String()] = src
	}
	return nil
}

func environMap(environ []string) map[string]string {
	m := make(map[string]string, len(environ))
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}

// validate checks every value and names the first bad one.
func (c *Config) validate(source map[string]string) error {
	bad := func(key, msg string) error {
		return &ConfigError{Key: key, Source: source[key], Msg: msg}
	}
	if strings.TrimSpace(c.DataDir) == "" {
		return bad("data_dir", "must not be empty")
	}
	if c.SecretKey != "" && len(c.SecretKey) < 32 {
		return bad("secret_key", fmt.Sprintf("must be at least 32 characters, got %d", len(c.SecretKey)))
	}
	if err := checkAddr(c.Server.Addr); err != nil {
		return bad("server.addr", err.Error())
	}
	if c.Server.MetricsAddr != "" {
		if err := checkAddr(c.Server.MetricsAddr); err != nil {
			return bad("server.metrics_addr", err.Error())
		}
		if c.Server.MetricsAddr == c.Server.Addr && !strings.HasSuffix(c.Server.Addr, ":0") {
			return bad("server.metrics_addr", "must differ from server.addr")
		}
	}
	if c.Server.BodyLimit < 1024 {
		return bad("server.body_limit", "must be at least 1024 bytes")
	}
	if c.Server.ShutdownTimeout <= 0 {
		return bad("server.shutdown_timeout", "must be positive")
	}
	for _, p := range c.Server.TrustedProxies {
		if _, _, err := net.ParseCIDR(p); err != nil && net.ParseIP(p) == nil {
			return bad("server.trusted_proxies", fmt.Sprintf("%q is not an IP address or CIDR range", p))
		}
	}
	for _, o := range c.Server.CORSOrigins {
		u, err := url.Parse(o)
		if o == "*" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			return bad("server.cors_origins", fmt.Sprintf("%q is not an origin like https://app.example.com (\"*\" is refused: the API uses credentials)", o))
		}
	}
	if c.Runs.AccountWait < 0 {
		return bad("runs.account_wait", "must not be negative")
	}
	if c.Runs.MaxReplies < 1 || c.Runs.MaxReplies > 100000 {
		return bad("runs.max_replies", fmt.Sprintf("must be between 1 and 100000, got %d", c.Runs.MaxReplies))
	}
	if c.LLM.Provider == "openai" && c.LLM.Model == DefaultConfig().LLM.Model {
		return bad("llm.model", "set the model your OpenAI-compatible server serves (the default names a Gemini model)")
	}
	if c.Auth.SessionTTL < time.Minute {
		return bad("auth.session_ttl", "must be at least 1m")
	}
	if c.Workers.Concurrency < 1 || c.Workers.Concurrency > 256 {
		return bad("workers.concurrency", fmt.Sprintf("must be between 1 and 256, got %d", c.Workers.Concurrency))
	}
	if err := checkBaseURL(c.X.APIBase); err != nil {
		return bad("x.api_base", err.Error())
	}
	if err := checkBaseURL(c.X.WebBase); err != nil {
		return bad("x.web_base", err.Error())
	}
	if _, err := scraper.MergeOperations(scraper.DefaultOperations(), c.X.Operations); err != nil {
		return bad("x.operations", strings.ReplaceAll(strings.TrimPrefix(err.Error(), "scraper: "), "\n", "; "))
	}
	if c.X.TransactionID != "auto" && c.X.TransactionID != "off" {
		return bad("x.transaction_id", fmt.Sprintf("must be auto or off, got %q", c.X.TransactionID))
	}
	switch c.LLM.Provider {
	case "", "gemini", "openai", "heuristic":
	default:
		return bad("llm.provider", fmt.Sprintf("must be gemini, openai or heuristic, got %q", c.LLM.Provider))
	}
	if strings.TrimSpace(c.LLM.Model) == "" {
		return bad("llm.model", "must not be empty")
	}
	if c.LLM.BaseURL != "" {
		if err := checkBaseURL(c.LLM.BaseURL); err != nil {
			return bad("llm.base_url", err.Error())
		}
	}
	switch c.Log.Level {
	case "trace", "debug", "info", "warn", "error":
	default:
		return bad("log.level", fmt.Sprintf("must be trace, debug, info, warn or error, got %q", c.Log.Level))
	}
	switch c.Log.Format {
	case "auto", "console", "json":
	default:
		return bad("log.format", fmt.Sprintf("must be auto, console or json, got %q", c.Log.Format))
	}
	return nil
}

func checkAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not HOST:PORT", addr)
	}
	if host != "" && net.ParseIP(host) == nil && strings.ContainsAny(host, " /:") {
		return fmt.Errorf("%q has a bad host", addr)
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 0 || p > 65535 {
		return fmt.Errorf("%q has a bad port", addr)
	}
	return nil
}

func checkBaseURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an http(s) URL", s)
	}
	return nil
}
