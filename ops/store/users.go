package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Roles a user can hold.
const (
	RoleRead    = "read"    // may fetch every dataset
	RolePublish = "publish" // may also publish and roll back generations
)

// User is one API user. PasswordHash is a bcrypt hash.
type User struct {
	ID           int64
	Name         string
	PasswordHash string
	Role         string
}

// PutUser creates the user or, when the name exists, replaces its password
// hash and role. It reports whether the user was created.
func (s *Store) PutUser(ctx context.Context, name, passwordHash, role string) (bool, error) {
	var created bool
	err := s.pool.QueryRow(ctx, `INSERT INTO app_user (username, password_hash, role) VALUES ($1, $2, $3)
		ON CONFLICT (username) DO UPDATE SET password_hash = EXCLUDED.password_hash, role = EXCLUDED.role
		RETURNING (xmax = 0)`, name, passwordHash, role).Scan(&created)
	if err != nil {
		return false, fmt.Errorf("ops store: put user: %w", err)
	}
	if !created {
		// Existing sessions keep the old role otherwise; drop them.
		if _, err := s.pool.Exec(ctx, "DELETE FROM session WHERE user_id = (SELECT id FROM app_user WHERE username = $1)", name); err != nil {
			return false, fmt.Errorf("ops store: put user: sessions: %w", err)
		}
	}
	return created, nil
}

// UserByName returns the user, or ErrNotFound.
func (s *Store) UserByName(ctx context.Context, name string) (User, error) {
	u := User{Name: name}
	err := s.pool.QueryRow(ctx, "SELECT id, password_hash, role FROM app_user WHERE username = $1", name).
		Scan(&u.ID, &u.PasswordHash, &u.Role)
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, ErrNotFound
	}
	if err != nil {
		return User{}, fmt.Errorf("ops store: user: %w", err)
	}
	return u, nil
}

// CreateSession stores a session by the SHA-256 of its token. Expired
// sessions are deleted on the way.
func (s *Store) CreateSession(ctx context.Context, tokenSHA256 [32]byte, userID int64, expires time.Time) error {
	batch := &pgx.Batch{}
	batch.Queue("DELETE FROM session WHERE expires_at < now()")
	batch.Queue("INSERT INTO session (token_sha256, user_id, expires_at) VALUES ($1, $2, $3)", tokenSHA256[:], userID, expires)
	if err := s.pool.SendBatch(ctx, batch).Close(); err != nil {
		return fmt.Errorf("ops store: create session: %w", err)
	}
	return nil
}

// Session returns the user of an unexpired session and its expiry, or
// ErrNotFound.
func (s *Store) Session(ctx context.Context, tokenSHA256 [32]byte) (User, time.Time, error) {
	var u User
	var exp time.Time
	err := s.pool.QueryRow(ctx, `SELECT u.id, u.username, u.role, s.expires_at
		FROM session s JOIN app_user u ON u.id = s.user_id
		WHERE s.token_sha256 = $1 AND s.expires_at > now()`, tokenSHA256[:]).Scan(&u.ID, &u.Name, &u.Role, &exp)
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, time.Time{}, ErrNotFound
	}
	if err != nil {
		return User{}, time.Time{}, fmt.Errorf("ops store: session: %w", err)
	}
	return u, exp, nil
}
