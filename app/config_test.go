package app

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
)

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "nexus.toml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestExampleDocumentsEveryKey fails when a key exists in Config but not in
// nexus.example.toml, or the reverse, or when the example's value is not the default.
func TestExampleDocumentsEveryKey(t *testing.T) {
	t.Parallel()
	var anyMap map[string]any
	md, err := toml.DecodeFile("../nexus.example.toml", &anyMap)
	if err != nil {
		t.Fatal(err)
	}
	inCode := Keys()
	var inExample []string
	for _, k := range md.Keys() {
		// Tables are sections, except the settings that are maps (x.operations).
		if md.Type(k.String()) != "Hash" || slices.Contains(inCode, k.String()) {
			inExample = append(inExample, k.String())
		}
	}
	sort.Strings(inExample)
	sort.Strings(inCode)
	if !reflect.DeepEqual(inExample, inCode) {
		t.Fatalf("keys differ\nexample: %v\ncode:    %v", inExample, inCode)
	}
	cfg, err := LoadConfig(LoadOptions{Path: "../nexus.example.toml"})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cfg, DefaultConfig()) {
		t.Fatalf("example values are not the defaults\nexample: %+v\ndefault: %+v", cfg, DefaultConfig())
	}
}

func TestPrecedenceFileEnvFlag(t *testing.T) {
	t.Parallel()
	path := writeFile(t, "[server]\naddr = \"127.0.0.1:1111\"\n[workers]\nconcurrency = 7\n[log]\nlevel = \"debug\"\n")
	tests := []struct {
		name    string
		env     []string
		flags   map[string]string
		addr    string
		workers int
		level   string
	}{
		{"file over default", nil, nil, "127.0.0.1:1111", 7, "debug"},
		{"env over file", []string{"NEXUS_SERVER_ADDR=127.0.0.1:2222", "NEXUS_LOG_LEVEL=warn"}, nil, "127.0.0.1:2222", 7, "warn"},
		{"flag over env", []string{"NEXUS_SERVER_ADDR=127.0.0.1:2222"}, map[string]string{"server.addr": "127.0.0.1:3333"}, "127.0.0.1:3333", 7, "debug"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := LoadConfig(LoadOptions{Path: path, Environ: tt.env, Flags: tt.flags, FlagFor: map[string]string{"server.addr": "--addr"}})
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Server.Addr != tt.addr || cfg.Workers.Concurrency != tt.workers || cfg.Log.Level != tt.level {
				t.Fatalf("got addr %s workers %d level %s", cfg.Server.Addr, cfg.Workers.Concurrency, cfg.Log.Level)
			}
		})
	}
}

func TestConfigFileLookup(t *testing.T) {
	t.Parallel()
	path := writeFile(t, "data_dir = \"/from/env/file\"\n")
	cfg, err := LoadConfig(LoadOptions{Environ: []string{"NEXUS_CONFIG=" + path}})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DataDir != "/from/env/file" {
		t.Fatalf("NEXUS_CONFIG not read: %s", cfg.DataDir)
	}
	_, err = LoadConfig(LoadOptions{Path: filepath.Join(t.TempDir(), "missing.toml")})
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("missing file: %v", err)
	}
}

func TestEnvTypesAndAliases(t *testing.T) {
	t.Parallel()
	cfg, err := LoadConfig(LoadOptions{Environ: []string{
		"NEXUS_SERVER_SHUTDOWN_TIMEOUT=5s",
		"GEMINI_API_KEY=from-gemini",
		"PATH=/bin", // not ours: ignored
	}})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Server.ShutdownTimeout != 5*time.Second || cfg.LLM.APIKey != "from-gemini" || cfg.LLMProvider() != "gemini" {
		t.Fatalf("got %+v", cfg)
	}
	cfg, _ = LoadConfig(LoadOptions{Environ: []string{"NEXUS_LLM_API_KEY=mine", "GOOGLE_API_KEY=other"}})
	if cfg.LLM.APIKey != "mine" {
		t.Fatalf("NEXUS_LLM_API_KEY must win over GOOGLE_API_KEY, got %q", cfg.LLM.APIKey)
	}
	if DefaultConfig().LLMProvider() != "heuristic" {
		t.Fatal("no key must mean the heuristic provider")
	}
}

func TestBadConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		file  string
		env   []string
		flags map[string]string
		want  []string // substrings of the one-line message
	}{
		{"unknown key in file", "[server]\nadress = \"x\"\n", nil, nil, []string{"server.adress", "unknown key", "file "}},
		{"unknown section", "[nope]\nx = 1\n", nil, nil, []string{"nope", "unknown key"}},
		{"bad addr in file", "[server]\naddr = \"not an address\"\n", nil, nil, []string{"server.addr", "HOST:PORT", "file "}},
		{"bad addr in env", "", []string{"NEXUS_SERVER_ADDR=localhost"}, nil, []string{"server.addr", "env NEXUS_SERVER_ADDR"}},
		{"bad port in flag", "", nil, map[string]string{"server.addr": "127.0.0.1:99999"}, []string{"server.addr", "flag --addr", "bad port"}},
		{"bad metrics addr", "[server]\nmetrics_addr = \"9100\"\n", nil, nil, []string{"server.metrics_addr", "HOST:PORT"}},
		{"metrics addr equals addr", "", []string{"NEXUS_SERVER_ADDR=127.0.0.1:8000", "NEXUS_SERVER_METRICS_ADDR=127.0.0.1:8000"}, nil,
			[]string{"server.metrics_addr", "differ from server.addr"}},
		{"short secret", "secret_key = \"too-short\"\n", nil, nil, []string{"secret_key", "at least 32", "got 9"}},
		{"short secret in env", "", []string{"NEXUS_SECRET_KEY=abc"}, nil, []string{"secret_key", "env NEXUS_SECRET_KEY"}},
		{"negative workers", "[workers]\nconcurrency = -1\n", nil, nil, []string{"workers.concurrency", "between 1 and 256", "-1"}},
		{"workers not an integer", "", []string{"NEXUS_WORKERS_CONCURRENCY=four"}, nil, []string{"workers.concurrency", "not an integer"}},
		{"wrong type in file", "[workers]\nconcurrency = \"four\"\n", nil, nil, []string{"concurrency"}},
		{"unknown env variable", "", []string{"NEXUS_SERVER_ADR=1"}, nil, []string{"NEXUS_SERVER_ADR", "unknown"}},
		{"bad api base", "[x]\napi_base = \"ftp://x\"\n", nil, nil, []string{"x.api_base", "http(s) URL"}},
		{"bad operation override", "[x.operations]\nSearchTimeline = \"abc:PUT\"\n", nil, nil, []string{"x.operations", "SearchTimeline"}},
		{"bad operation override in env", "", []string{"NEXUS_X_OPERATIONS=SearchTimeline"}, nil, []string{"x.operations", "NAME=VALUE"}},
		{"bad transaction id", "[x]\ntransaction_id = \"sometimes\"\n", nil, nil, []string{"x.transaction_id", "auto or off"}},
		{"bad provider", "[llm]\nprovider = \"gpt\"\n", nil, nil, []string{"llm.provider"}},
		{"bad log level", "", []string{"NEXUS_LOG_LEVEL=loud"}, nil, []string{"log.level"}},
		{"bad duration", "", []string{"NEXUS_SERVER_SHUTDOWN_TIMEOUT=soon"}, nil, []string{"server.shutdown_timeout", "duration"}},
		{"toml syntax", "[server\naddr = 1\n", nil, nil, []string{"line ", "file "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts := LoadOptions{Environ: tt.env, Flags: tt.flags, FlagFor: map[string]string{"server.addr": "--addr"}}
			if tt.file != "" {
				opts.Path = writeFile(t, tt.file)
			}
			_, err := LoadConfig(opts)
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("got %v, want a *ConfigError", err)
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Fatalf("message is not one line: %q", msg)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Fatalf("message %q does not contain %q", msg, w)
				}
			}
		})
	}
}

func TestSecretValueNeverInError(t *testing.T) {
	t.Parallel()
	_, err := LoadConfig(LoadOptions{Environ: []string{"NEXUS_SECRET_KEY=hunter2-hunter2"}})
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("error %v leaks the secret", err)
	}
}
