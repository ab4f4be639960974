-- ward store schema, version 1 (SQLite).
-- Times are INTEGER microseconds since the Unix epoch, UTC; NULL means never.
-- Lists (reasons, techniques) and evidence/payload documents are JSON text.

CREATE TABLE schema_migrations (
	version    INTEGER PRIMARY KEY,
	name       TEXT    NOT NULL,
	applied_at INTEGER NOT NULL
);

CREATE TABLE findings (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	org          TEXT    NOT NULL CHECK (org <> '' AND length(org) <= 128),
	domain       TEXT    NOT NULL CHECK (domain <> '' AND length(domain) <= 253),
	brand        TEXT    NOT NULL,
	state        TEXT    NOT NULL CHECK (state IN ('new', 'watching', 'suspicious', 'malicious', 'dismissed')),
	score        INTEGER NOT NULL,
	match_score  INTEGER NOT NULL,
	reasons      TEXT    NOT NULL,
	techniques   TEXT    NOT NULL,
	first_seen   INTEGER NOT NULL,
	last_seen    INTEGER NOT NULL,
	last_checked INTEGER,
	next_check   INTEGER,
	checks       INTEGER NOT NULL DEFAULT 0,
	updated_at   INTEGER NOT NULL,
	UNIQUE (org, domain)
);
CREATE INDEX findings_org_last_seen ON findings (org, last_seen DESC, id DESC);
CREATE INDEX findings_org_state ON findings (org, state, last_seen DESC, id DESC);
CREATE INDEX findings_due ON findings (next_check, id) WHERE state <> 'dismissed' AND next_check IS NOT NULL;

CREATE TABLE observations (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	finding_id INTEGER NOT NULL REFERENCES findings (id) ON DELETE CASCADE,
	name       TEXT    NOT NULL,
	source     TEXT    NOT NULL,
	ref        TEXT    NOT NULL,
	seen_at    INTEGER NOT NULL,
	UNIQUE (finding_id, source, ref)
);
CREATE INDEX observations_finding ON observations (finding_id, seen_at DESC, id DESC);

CREATE TABLE evidence (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	finding_id INTEGER NOT NULL REFERENCES findings (id) ON DELETE CASCADE,
	checked_at INTEGER NOT NULL,
	state      TEXT    NOT NULL,
	score      INTEGER NOT NULL,
	reasons    TEXT    NOT NULL,
	data       TEXT    NOT NULL
);
CREATE INDEX evidence_finding ON evidence (finding_id, checked_at DESC, id DESC);

CREATE TABLE notes (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	finding_id INTEGER NOT NULL REFERENCES findings (id) ON DELETE CASCADE,
	author     TEXT    NOT NULL,
	text       TEXT    NOT NULL,
	created_at INTEGER NOT NULL
);
CREATE INDEX notes_finding ON notes (finding_id, created_at, id);

CREATE TABLE alerts (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	finding_id INTEGER NOT NULL REFERENCES findings (id) ON DELETE CASCADE,
	org        TEXT    NOT NULL,
	state      TEXT    NOT NULL,
	previous   TEXT    NOT NULL,
	payload    TEXT    NOT NULL,
	created_at INTEGER NOT NULL
);
CREATE INDEX alerts_finding ON alerts (finding_id, created_at DESC, id DESC);

CREATE TABLE deliveries (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	alert_id     INTEGER NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
	sink         TEXT    NOT NULL,
	status       TEXT    NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
	attempts     INTEGER NOT NULL DEFAULT 0,
	next_attempt INTEGER NOT NULL,
	last_error   TEXT    NOT NULL DEFAULT '',
	sent_at      INTEGER,
	lease_owner  TEXT    NOT NULL DEFAULT '',
	lease_until  INTEGER,
	UNIQUE (alert_id, sink)
);
CREATE INDEX deliveries_pending ON deliveries (next_attempt, id) WHERE status = 'pending';

CREATE TABLE source_cursors (
	source     TEXT    PRIMARY KEY,
	position   BLOB    NOT NULL,
	updated_at INTEGER NOT NULL
);
