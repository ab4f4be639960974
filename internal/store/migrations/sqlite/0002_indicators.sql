-- ward store schema, version 2 (SQLite): indicators shared as feeds.

CREATE TABLE indicators (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	org         TEXT    NOT NULL CHECK (org <> '' AND length(org) <= 128),
	scope       TEXT    NOT NULL CHECK (scope IN ('private', 'shared')),
	type        TEXT    NOT NULL CHECK (type IN ('domain', 'url', 'ip', 'email', 'sha256', 'sha1', 'md5', 'filename')),
	value       TEXT    NOT NULL CHECK (value <> '' AND length(value) <= 2048),
	source      TEXT    NOT NULL,
	confidence  INTEGER NOT NULL CHECK (confidence BETWEEN 0 AND 100),
	tlp         TEXT    NOT NULL CHECK (tlp IN ('clear', 'green', 'amber', 'amber+strict', 'red')),
	brand       TEXT    NOT NULL,
	description TEXT    NOT NULL,
	finding_id  INTEGER REFERENCES findings (id) ON DELETE SET NULL,
	first_seen  INTEGER NOT NULL,
	last_seen   INTEGER NOT NULL,
	valid_until INTEGER,
	updated_at  INTEGER NOT NULL,
	UNIQUE (org, type, value)
);
CREATE INDEX indicators_org ON indicators (org, updated_at DESC, id DESC);
CREATE INDEX indicators_shared ON indicators (scope, updated_at DESC, id DESC);
