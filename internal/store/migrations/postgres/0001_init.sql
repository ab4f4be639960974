-- ward store schema, version 1 (PostgreSQL).
-- Times are timestamptz (microsecond precision); NULL means never.
-- Lists (reasons, techniques) and evidence/payload documents are JSON text,
-- stored byte for byte as given (jsonb would reorder keys).

CREATE TABLE schema_migrations (
	version    integer     PRIMARY KEY,
	name       text        NOT NULL,
	applied_at timestamptz NOT NULL
);

CREATE TABLE findings (
	id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	org          text        NOT NULL CHECK (org <> '' AND length(org) <= 128),
	domain       text        NOT NULL CHECK (domain <> '' AND length(domain) <= 253),
	brand        text        NOT NULL,
	state        text        NOT NULL CHECK (state IN ('new', 'watching', 'suspicious', 'malicious', 'dismissed')),
	score        bigint      NOT NULL,
	match_score  bigint      NOT NULL,
	reasons      text        NOT NULL,
	techniques   text        NOT NULL,
	first_seen   timestamptz NOT NULL,
	last_seen    timestamptz NOT NULL,
	last_checked timestamptz,
	next_check   timestamptz,
	checks       bigint      NOT NULL DEFAULT 0,
	updated_at   timestamptz NOT NULL,
	UNIQUE (org, domain)
);
CREATE INDEX findings_org_last_seen ON findings (org, last_seen DESC, id DESC);
CREATE INDEX findings_org_state ON findings (org, state, last_seen DESC, id DESC);
CREATE INDEX findings_due ON findings (next_check, id) WHERE state <> 'dismissed' AND next_check IS NOT NULL;

CREATE TABLE observations (
	id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	finding_id bigint      NOT NULL REFERENCES findings (id) ON DELETE CASCADE,
	name       text        NOT NULL,
	source     text        NOT NULL,
	ref        text        NOT NULL,
	seen_at    timestamptz NOT NULL,
	UNIQUE (finding_id, source, ref)
);
CREATE INDEX observations_finding ON observations (finding_id, seen_at DESC, id DESC);

CREATE TABLE evidence (
	id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	finding_id bigint      NOT NULL REFERENCES findings (id) ON DELETE CASCADE,
	checked_at timestamptz NOT NULL,
	state      text        NOT NULL,
	score      bigint      NOT NULL,
	reasons    text        NOT NULL,
	data       text        NOT NULL
);
CREATE INDEX evidence_finding ON evidence (finding_id, checked_at DESC, id DESC);

CREATE TABLE notes (
	id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	finding_id bigint      NOT NULL REFERENCES findings (id) ON DELETE CASCADE,
	author     text        NOT NULL,
	text       text        NOT NULL,
	created_at timestamptz NOT NULL
);
CREATE INDEX notes_finding ON notes (finding_id, created_at, id);

CREATE TABLE alerts (
	id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	finding_id bigint      NOT NULL REFERENCES findings (id) ON DELETE CASCADE,
	org        text        NOT NULL,
	state      text        NOT NULL,
	previous   text        NOT NULL,
	payload    text        NOT NULL,
	created_at timestamptz NOT NULL
);
CREATE INDEX alerts_finding ON alerts (finding_id, created_at DESC, id DESC);

CREATE TABLE deliveries (
	id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	alert_id     bigint      NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
	sink         text        NOT NULL,
	status       text        NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
	attempts     bigint      NOT NULL DEFAULT 0,
	next_attempt timestamptz NOT NULL,
	last_error   text        NOT NULL DEFAULT '',
	sent_at      timestamptz,
	lease_owner  text        NOT NULL DEFAULT '',
	lease_until  timestamptz,
	UNIQUE (alert_id, sink)
);
CREATE INDEX deliveries_pending ON deliveries (next_attempt, id) WHERE status = 'pending';

CREATE TABLE source_cursors (
	source     text        PRIMARY KEY,
	position   bytea       NOT NULL,
	updated_at timestamptz NOT NULL
);
