package store

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func mustHash(t *testing.T, pw string) string {
	t.Helper()
	h, err := HashPassword(pw)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestPasswords(t *testing.T) {
	t.Parallel()
	h := mustHash(t, "correct horse battery")
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash format: %s", h)
	}
	if !CheckPassword(h, "correct horse battery") || CheckPassword(h, "correct horse batterY") {
		t.Fatal("check is wrong")
	}
	for _, bad := range []string{"", "$argon2id$", "$bcrypt$x$y$z$w", "$argon2id$v=19$m=99999999,t=2,p=1$AAAA$AAAA"} {
		if CheckPassword(bad, "x") {
			t.Fatalf("accepted malformed hash %q", bad)
		}
	}
	if _, err := HashPassword("short"); !errors.Is(err, ErrWeakPassword) {
		t.Fatalf("short password: %v", err)
	}
}

func TestSetupOnlyOnceEvenConcurrently(t *testing.T) {
	t.Parallel()
	s := openTest(t, filepath.Join(t.TempDir(), "nexus.db"))
	ctx := context.Background()
	if ok, _ := s.HasUsers(ctx); ok {
		t.Fatal("fresh database has users")
	}
	h := mustHash(t, "a long password")
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for i := range 5 {
		wg.Go(func() {
			_, _, err := s.Setup(ctx, "org"+string(rune('a'+i)), "admin"+string(rune('a'+i))+"@x.test", h)
			if err == nil {
				mu.Lock()
				wins++
				mu.Unlock()
			} else if !errors.Is(err, ErrAlreadySetUp) {
				t.Errorf("setup: %v", err)
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d set-ups won, want 1", wins)
	}
	if ok, _ := s.HasUsers(ctx); !ok {
		t.Fatal("no users after setup")
	}
}

func TestTokensAndSessions(t *testing.T) {
	t.Parallel()
	s := openTest(t, filepath.Join(t.TempDir(), "nexus.db"))
	ctx := context.Background()
	h := mustHash(t, "a long password")
	orgA, admin, err := s.Setup(ctx, "A", "admin@a.test", h)
	if err != nil {
		t.Fatal(err)
	}
	member, err := s.AddMember(ctx, orgA.ID, "member@a.test", h, RoleMember)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddMember(ctx, orgA.ID, "MEMBER@a.test", h, RoleMember); !errors.Is(err, ErrConflict) {
		t.Fatalf("duplicate member (case-insensitive): %v", err)
	}
	orgB, _ := s.CreateOrganization(ctx, "B")
	if _, err := s.CreateOrganization(ctx, "b"); !errors.Is(err, ErrConflict) {
		t.Fatalf("duplicate org name: %v", err)
	}
	adminB, _ := s.AddMember(ctx, orgB.ID, "admin@b.test", h, RoleAdmin)

	tok, plain, err := s.CreateToken(ctx, orgA.ID, member.ID, "ci", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(plain, tok.Prefix) || len(plain) < 30 {
		t.Fatalf("token %q, prefix %q", plain, tok.Prefix)
	}
	p, err := s.AuthenticateToken(ctx, plain)
	if err != nil || p.UserID != member.ID || p.OrgID != orgA.ID || p.Role != RoleMember {
		t.Fatalf("authenticate: %+v, %v", p, err)
	}
	if _, err := s.AuthenticateToken(ctx, plain+"x"); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("wrong token: %v", err)
	}
	// Another organization cannot revoke it, and learns nothing from trying.
	if err := s.RevokeToken(ctx, orgB.ID, 0, tok.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("revoke from B: %v", err)
	}
	if err := s.RevokeToken(ctx, orgA.ID, admin.ID, tok.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("revoke restricted to another user: %v", err)
	}
	if err := s.RevokeToken(ctx, orgA.ID, 0, tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AuthenticateToken(ctx, plain); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("revoked token: %v", err)
	}

	past := time.Now().Add(-time.Minute)
	_, expired, _ := s.CreateToken(ctx, orgA.ID, member.ID, "old", &past)
	if _, err := s.AuthenticateToken(ctx, expired); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("expired token: %v", err)
	}
	if _, _, err := s.CreateToken(ctx, orgA.ID, adminB.ID, "x", nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("token for a user of another org: %v", err)
	}

	cookie, sp, err := s.CreateSession(ctx, orgA.ID, member.ID, "127.0.0.1", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.AuthenticateSession(ctx, cookie)
	if err != nil || got.SessionID != sp.SessionID || got.CSRFToken == "" || got.CSRFToken != sp.CSRFToken {
		t.Fatalf("session: %+v %v", got, err)
	}
	if err := s.SetPassword(ctx, member.ID, mustHash(t, "another long password")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AuthenticateSession(ctx, cookie); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("session after password change: %v", err)
	}

	_, live, _ := s.CreateToken(ctx, orgA.ID, member.ID, "live", nil)
	if _, err := s.RemoveMember(ctx, orgA.ID, member.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AuthenticateToken(ctx, live); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("token of a removed member: %v", err)
	}
	if _, err := s.RemoveMember(ctx, orgA.ID, admin.ID); !errors.Is(err, ErrLastAdmin) {
		t.Fatalf("removing the last admin: %v", err)
	}
	if _, err := s.SetRole(ctx, orgA.ID, admin.ID, RoleMember); !errors.Is(err, ErrLastAdmin) {
		t.Fatalf("demoting the last admin: %v", err)
	}
	if _, err := s.Member(ctx, orgB.ID, admin.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("member of another org: %v", err)
	}
}

func TestAuditLogIsPerOrganization(t *testing.T) {
	t.Parallel()
	s := openTest(t, filepath.Join(t.TempDir(), "nexus.db"))
	ctx := context.Background()
	a, _ := s.CreateOrganization(ctx, "A")
	b, _ := s.CreateOrganization(ctx, "B")
	for i := range 3 {
		s.Audit(ctx, AuditEntry{OrgID: a.ID, Actor: "x@a", Action: "login.success", Target: string(rune('0' + i)), IP: "1.2.3.4"})
	}
	s.Audit(ctx, AuditEntry{OrgID: b.ID, Actor: "y@b", Action: "login.failure", IP: "5.6.7.8"})
	s.Audit(ctx, AuditEntry{Actor: "nobody", Action: "login.failure", IP: "5.6.7.8"})
	got, err := s.AuditLog(ctx, a.ID, 0, 2)
	if err != nil || len(got) != 2 || got[0].Target != "2" {
		t.Fatalf("page 1: %+v %v", got, err)
	}
	more, _ := s.AuditLog(ctx, a.ID, got[1].ID, 10)
	if len(more) != 1 || more[0].Target != "0" {
		t.Fatalf("page 2: %+v", more)
	}
}
