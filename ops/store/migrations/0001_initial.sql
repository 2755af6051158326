-- Signpost ops database: versioned generations of every dataset per CDN.

CREATE TABLE cdn (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name               text        NOT NULL UNIQUE,
    current_generation bigint      NOT NULL DEFAULT 0,
    created_at         timestamptz NOT NULL DEFAULT now()
);

-- Content-addressed file bodies: a generation that leaves a file unchanged
-- references the blob of the previous one instead of copying it. body is the
-- exact response body served; gzip is the same body compressed once at publish.
CREATE TABLE blob (
    sha256 bytea PRIMARY KEY CHECK (length(sha256) = 32),
    body   bytea NOT NULL,
    gzip   bytea NOT NULL
);

CREATE TABLE generation (
    cdn_id      bigint      NOT NULL REFERENCES cdn (id) ON DELETE CASCADE,
    generation  bigint      NOT NULL CHECK (generation > 0),
    created_at  timestamptz NOT NULL DEFAULT now(),
    author      text        NOT NULL,
    comment     text        NOT NULL DEFAULT '',
    rollback_of bigint,
    PRIMARY KEY (cdn_id, generation)
);

CREATE TABLE generation_file (
    cdn_id     bigint NOT NULL,
    generation bigint NOT NULL,
    name       text   NOT NULL,
    sha256     bytea  NOT NULL REFERENCES blob (sha256),
    PRIMARY KEY (cdn_id, generation, name),
    FOREIGN KEY (cdn_id, generation) REFERENCES generation (cdn_id, generation) ON DELETE CASCADE
);

CREATE TABLE app_user (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username      text        NOT NULL UNIQUE,
    password_hash text        NOT NULL,
    role          text        NOT NULL CHECK (role IN ('read', 'publish')),
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- Sessions are stored by the SHA-256 of their token, never the token.
CREATE TABLE session (
    token_sha256 bytea       PRIMARY KEY CHECK (length(token_sha256) = 32),
    user_id      bigint      NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
    expires_at   timestamptz NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX session_expires_at ON session (expires_at);
