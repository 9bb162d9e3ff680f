package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// migrations is the schema, append-only: step i+1 is migrations[i]. A shipped step is
// never edited; a change is a new step. Each runs in its own transaction together with
// the row that records it, so a crash leaves the schema at a step boundary.
var migrations = []string{
	// 1: key/value facts about the database itself (the secret check, for one), and the
	// row that the health check writes and reads back to prove the file is writable.
	`CREATE TABLE meta (
		key   TEXT PRIMARY KEY,
		value TEXT NOT NULL
	) STRICT;
	CREATE TABLE health_probe (
		id         INTEGER PRIMARY KEY CHECK (id = 1),
		checked_at INTEGER NOT NULL -- unix nanoseconds
	) STRICT;`,

	// 2: identities. Every later table carries org_id; a user reaches an organization
	// only through a membership. Tokens and sessions are stored as SHA-256 hashes, so a
	// copy of the database does not hand out working credentials.
	`CREATE TABLE organizations (
		id         INTEGER PRIMARY KEY,
		name       TEXT NOT NULL UNIQUE COLLATE NOCASE,
		created_at TEXT NOT NULL
	) STRICT;
	CREATE TABLE users (
		id                  INTEGER PRIMARY KEY,
		email               TEXT NOT NULL UNIQUE COLLATE NOCASE,
		password_hash       TEXT NOT NULL,
		created_at          TEXT NOT NULL,
		password_changed_at TEXT NOT NULL
	) STRICT;
	CREATE TABLE memberships (
		org_id     INTEGER NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
		user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
		role       TEXT NOT NULL CHECK (role IN ('admin', 'member')),
		created_at TEXT NOT NULL,
		PRIMARY KEY (org_id, user_id)
	) STRICT;
	CREATE INDEX memberships_user ON memberships (user_id);
	CREATE TABLE api_tokens (
		id           INTEGER PRIMARY KEY,
		org_id       INTEGER NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
		user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
		name         TEXT NOT NULL,
		prefix       TEXT NOT NULL,
		hash         BLOB NOT NULL UNIQUE,
		created_at   TEXT NOT NULL,
		last_used_at TEXT,
		expires_at   TEXT,
		revoked_at   TEXT
	) STRICT;
	CREATE INDEX api_tokens_org ON api_tokens (org_id, user_id);
	CREATE TABLE sessions (
		id           INTEGER PRIMARY KEY,
		hash         BLOB NOT NULL UNIQUE,
		org_id       INTEGER NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
		user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
		csrf_token   TEXT NOT NULL,
		ip           TEXT NOT NULL,
		created_at   TEXT NOT NULL,
		last_seen_at TEXT NOT NULL,
		expires_at   TEXT NOT NULL,
		revoked_at   TEXT
	) STRICT;
	CREATE INDEX sessions_user ON sessions (user_id);
	CREATE TABLE audit_log (
		id      INTEGER PRIMARY KEY,
		org_id  INTEGER REFERENCES organizations (id) ON DELETE CASCADE,
		user_id INTEGER,          -- no foreign key: the entry outlives the user
		actor   TEXT NOT NULL,    -- e-mail or "cli" at the time of the event
		action  TEXT NOT NULL,    -- login.success, token.create, ...
		target  TEXT NOT NULL,
		ip      TEXT NOT NULL,
		at      TEXT NOT NULL
	) STRICT;
	CREATE INDEX audit_log_org ON audit_log (org_id, id);`,

	// 3: the X session pool. Cookies and the proxy URL (it may carry a password) are
	// sealed. Locks are per operation, because X rate-limits each GraphQL operation
	// separately; cooldown_until parks the whole account (a first bare 403).
	// in_use_until is a lease, not a flag, so that a crashed process frees its accounts.
	`CREATE TABLE x_accounts (
		id             INTEGER PRIMARY KEY,
		org_id         INTEGER NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
		name           TEXT NOT NULL,
		cookies        BLOB NOT NULL,
		proxy          BLOB,
		user_agent     TEXT NOT NULL,
		active         INTEGER NOT NULL DEFAULT 1,
		last_error     TEXT NOT NULL DEFAULT '',
		bare_403s      INTEGER NOT NULL DEFAULT 0,
		cooldown_until TEXT,
		last_used_at   TEXT,
		created_at     TEXT NOT NULL,
		UNIQUE (org_id, name)
	) STRICT;
	CREATE TABLE x_account_ops (
		account_id   INTEGER NOT NULL REFERENCES x_accounts (id) ON DELETE CASCADE,
		operation    TEXT NOT NULL,
		locked_until TEXT,
		in_use_until TEXT,
		requests     INTEGER NOT NULL DEFAULT 0,
		errors       INTEGER NOT NULL DEFAULT 0,
		last_used_at TEXT,
		PRIMARY KEY (account_id, operation)
	) STRICT;`,

	// 4: the job table, the queue of record for all background work. Times are unix
	// milliseconds: the claim query runs thousands of times a second and compares them.
	// key makes enqueueing idempotent: a step enqueued twice (a retried parent, a
	// restart) exists once. The partial indexes keep the claim and the lease sweep
	// cheap however many finished jobs accumulate.
	`CREATE TABLE jobs (
		id           INTEGER PRIMARY KEY,
		org_id       INTEGER NOT NULL,
		kind         TEXT NOT NULL,
		key          TEXT NOT NULL UNIQUE,
		payload      BLOB NOT NULL,
		run_id       INTEGER,
		state        TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done', 'failed', 'dead')),
		attempts     INTEGER NOT NULL DEFAULT 0,
		max_attempts INTEGER NOT NULL DEFAULT 5,
		run_at       INTEGER NOT NULL,
		lease_owner  TEXT,
		lease_until  INTEGER,
		last_error   TEXT NOT NULL DEFAULT '',
		created_at   INTEGER NOT NULL,
		finished_at  INTEGER
	) STRICT;
	CREATE INDEX jobs_due ON jobs (run_at, id) WHERE state = 'queued';
	CREATE INDEX jobs_leased ON jobs (lease_until) WHERE state = 'running';
	CREATE INDEX jobs_run ON jobs (run_id, state) WHERE run_id IS NOT NULL;`,

	// 5: campaigns and what listening finds. A campaign's definition is one JSON
	// document (its lists would be a table each for no query that needs them); the
	// name and schedule are columns because they are looked up. Tweets are stored once
	// per organization whatever number of campaigns match them; campaign_tweets says
	// which campaign found which tweet in which run, which is also how a run counts
	// what was new.
	`CREATE TABLE campaigns (
		id          INTEGER PRIMARY KEY,
		org_id      INTEGER NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
		name        TEXT NOT NULL,
		schedule    TEXT NOT NULL DEFAULT '',
		definition  TEXT NOT NULL,
		created_at  TEXT NOT NULL,
		updated_at  TEXT NOT NULL,
		UNIQUE (org_id, name)
	) STRICT;
	-- A rowid table, not WITHOUT ROWID: rows of a kilobyte or more make a clustered
	-- primary key B-tree split and copy far more than a small separate index does.
	CREATE TABLE tweets (
		org_id          INTEGER NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
		id              TEXT NOT NULL,
		conversation_id TEXT NOT NULL,
		username        TEXT NOT NULL,
		created_at      TEXT NOT NULL,
		data            BLOB NOT NULL, -- the Tweet as JSON, DESIGN.md's fields
		updated_at      TEXT NOT NULL,
		UNIQUE (org_id, id)
	) STRICT;
	CREATE INDEX tweets_conversation ON tweets (org_id, conversation_id);
	CREATE TABLE campaign_tweets (
		campaign_id INTEGER NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
		tweet_id    TEXT NOT NULL,
		run_id      INTEGER NOT NULL,
		PRIMARY KEY (campaign_id, tweet_id)
	) STRICT, WITHOUT ROWID;
	CREATE INDEX campaign_tweets_run ON campaign_tweets (run_id);`,

	// 6: listening runs and what they produce. A run's progress is counted from these
	// rows and from its jobs, never kept only in memory, so it survives a restart.
	// A conversation is one per (campaign, root tweet); content_hash changes when its
	// thread does, analyzed_hash says which content the last analysis saw. One
	// opportunity per conversation and one delivery per (opportunity, integration):
	// the unique keys are what makes "delivered exactly once" hold across retries.
	`CREATE TABLE runs (
		id            INTEGER PRIMARY KEY,
		org_id        INTEGER NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
		campaign_id   INTEGER NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
		status        TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
		trigger       TEXT NOT NULL,
		query         TEXT NOT NULL DEFAULT '',
		since_id      TEXT NOT NULL DEFAULT '',
		search_cursor TEXT NOT NULL DEFAULT '',
		search_done   INTEGER NOT NULL DEFAULT 0,
		search_pages  INTEGER NOT NULL DEFAULT 0,
		tweets_found  INTEGER NOT NULL DEFAULT 0,
		newest_id     TEXT NOT NULL DEFAULT '',
		error         TEXT NOT NULL DEFAULT '',
		created_at    TEXT NOT NULL,
		started_at    TEXT,
		finished_at   TEXT
	) STRICT;
	CREATE INDEX runs_campaign ON runs (campaign_id, id);
	CREATE INDEX runs_active ON runs (status) WHERE status IN ('queued', 'running');
	CREATE TABLE conversations (
		id              INTEGER PRIMARY KEY,
		org_id          INTEGER NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
		campaign_id     INTEGER NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
		conversation_id TEXT NOT NULL,
		hit_id          TEXT NOT NULL,
		run_id          INTEGER NOT NULL,
		thread          BLOB NOT NULL DEFAULT '[]',
		tweet_count     INTEGER NOT NULL DEFAULT 0,
		complete        INTEGER NOT NULL DEFAULT 0,
		content_hash    TEXT NOT NULL DEFAULT '',
		analyzed_hash   TEXT NOT NULL DEFAULT '',
		updated_at      TEXT NOT NULL,
		UNIQUE (campaign_id, conversation_id)
	) STRICT;
	CREATE INDEX conversations_run ON conversations (run_id);
	CREATE TABLE analyses (
		id              INTEGER PRIMARY KEY,
		org_id          INTEGER NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
		conversation_id INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
		run_id          INTEGER NOT NULL,
		cache_key       TEXT NOT NULL,
		status          TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
		result          BLOB NOT NULL,
		relevance       INTEGER NOT NULL DEFAULT 0,
		opportunity     INTEGER NOT NULL DEFAULT 0,
		provider        TEXT NOT NULL,
		model           TEXT NOT NULL,
		prompt_tokens   INTEGER NOT NULL DEFAULT 0,
		response_tokens INTEGER NOT NULL DEFAULT 0,
		raw             TEXT NOT NULL DEFAULT '',
		error           TEXT NOT NULL DEFAULT '',
		created_at      TEXT NOT NULL,
		UNIQUE (conversation_id, cache_key)
	) STRICT;
	CREATE INDEX analyses_cache ON analyses (cache_key) WHERE status = 'ok';
	CREATE INDEX analyses_run ON analyses (run_id);
	CREATE TABLE opportunities (
		id              INTEGER PRIMARY KEY,
		org_id          INTEGER NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
		campaign_id     INTEGER NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
		conversation_id INTEGER NOT NULL UNIQUE REFERENCES conversations (id) ON DELETE CASCADE,
		analysis_id     INTEGER NOT NULL,
		run_id          INTEGER NOT NULL,
		relevance       INTEGER NOT NULL,
		status          TEXT NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'done', 'dismissed')),
		feedback        INTEGER NOT NULL DEFAULT 0 CHECK (feedback IN (-1, 0, 1)),
		created_at      TEXT NOT NULL
	) STRICT;
	CREATE INDEX opportunities_campaign ON opportunities (campaign_id, relevance DESC);
	CREATE INDEX opportunities_run ON opportunities (run_id);
	CREATE TABLE deliveries (
		id             INTEGER PRIMARY KEY,
		org_id         INTEGER NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
		opportunity_id INTEGER NOT NULL REFERENCES opportunities (id) ON DELETE CASCADE,
		run_id         INTEGER NOT NULL,
		integration    TEXT NOT NULL,
		state          TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed')),
		error          TEXT NOT NULL DEFAULT '',
		sent_at        TEXT,
		UNIQUE (opportunity_id, integration)
	) STRICT;
	CREATE INDEX deliveries_run ON deliveries (run_id, state);`,

	// 7: delivery settings and bookkeeping. One row per (organization, integration)
	// holding its settings as sealed JSON (tokens, webhook secrets, service accounts)
	// and the non-secret part in clear for listings. sheet_rows is the Sheets ledger:
	// an opportunity's row is appended to a spreadsheet once. Feedback on an
	// opportunity may carry a note.
	`CREATE TABLE integrations (
		org_id     INTEGER NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
		kind       TEXT NOT NULL CHECK (kind IN ('slack', 'sheets', 'webhook')),
		config     BLOB NOT NULL,
		public     TEXT NOT NULL DEFAULT '{}',
		updated_at TEXT NOT NULL,
		PRIMARY KEY (org_id, kind)
	) STRICT;
	CREATE TABLE sheet_rows (
		key         TEXT PRIMARY KEY,
		org_id      INTEGER NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
		appended_at TEXT NOT NULL
	) STRICT;
	ALTER TABLE opportunities ADD COLUMN feedback_note TEXT NOT NULL DEFAULT '';`,

	// 8: digests. A delivery on a digest route waits, without a job, until its run has
	// nothing else to do; then one digest job per (run, integration) sends them all.
	`ALTER TABLE deliveries ADD COLUMN mode TEXT NOT NULL DEFAULT 'instant' CHECK (mode IN ('instant', 'digest'));
	CREATE INDEX deliveries_digest ON deliveries (run_id, integration) WHERE mode = 'digest' AND state = 'pending';`,

	// 9: a lease that expires (its process died) no longer spends one of the job's
	// attempts: the claim is given back and counted here instead, so that crashes do
	// not kill jobs that never failed, while a job that brings its process down every
	// time still ends dead.
	`ALTER TABLE jobs ADD COLUMN expiries INTEGER NOT NULL DEFAULT 0;`,

	// 10: indexes that let every API listing choose its page by walking an index, so
	// that a page, the thousandth as well as the first, costs the same however many rows
	// there are; measured at 100,000 tweets under 200 concurrent API clients (see
	// TestAPILoad). In an index entry the rowid (id) comes last, so "ORDER BY x DESC,
	// id DESC" is the index read backwards.
	//   - A campaign's conversations, most recently refreshed first: SQLite read and
	//     sorted all of them for every page (70 ms for 5,000).
	//   - The organization's opportunities by relevance (the inbox): every row was
	//     scanned and sorted. With that index SQLite would also sort the newest first
	//     through it, so the plain (org_id) index keeps "newest" a walk too.
	//   - A campaign's opportunities by relevance: the old index was DESC on relevance,
	//     which left "relevance DESC, id DESC" to a sort of each relevance's rows.
	//   - A run's progress groups its jobs by state and kind: with kind in the index the
	//     count reads no job row (a large run has thousands, and the UI polls it).
	`CREATE INDEX conversations_refreshed ON conversations (campaign_id, updated_at);
	CREATE INDEX opportunities_rank ON opportunities (org_id, relevance);
	CREATE INDEX opportunities_newest ON opportunities (org_id);
	DROP INDEX opportunities_campaign;
	CREATE INDEX opportunities_campaign_rank ON opportunities (campaign_id, relevance);
	DROP INDEX jobs_run;
	CREATE INDEX jobs_run_progress ON jobs (run_id, state, kind) WHERE run_id IS NOT NULL;`,
}

// ErrNewerSchema means the database was written by a newer Nexus.
var ErrNewerSchema = errors.New("database schema is newer than this binary")

// SchemaVersion is the number of migrations this binary knows.
func SchemaVersion() int { return len(migrations) }

// migrate applies every pending migration, each in its own transaction.
func (s *Store) migrate(ctx context.Context) error {
	_, err := s.rw.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		applied_at TEXT NOT NULL
	) STRICT`)
	if err != nil {
		return fmt.Errorf("store: create schema_migrations: %w", err)
	}
	current, err := s.schemaVersion(ctx)
	if err != nil {
		return err
	}
	if current > len(migrations) {
		return fmt.Errorf("store: %s is at schema version %d, this binary knows %d: %w; upgrade nexus or use a copy of the database from before",
			s.path, current, len(migrations), ErrNewerSchema)
	}
	for v := current + 1; v <= len(migrations); v++ {
		err := s.inTx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, migrations[v-1]); err != nil {
				return fmt.Errorf("store: migration %d: %w", v, err)
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`,
				v, time.Now().UTC().Format(time.RFC3339))
			if err != nil {
				return fmt.Errorf("store: record migration %d: %w", v, err)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// schemaVersion is the highest applied migration, 0 for a new database.
func (s *Store) schemaVersion(ctx context.Context) (int, error) {
	var v int
	err := s.rw.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("store: read schema version: %w", err)
	}
	return v, nil
}

// SchemaVersion is the database's applied schema version.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) { return s.schemaVersion(ctx) }
