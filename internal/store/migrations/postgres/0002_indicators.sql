-- ward store schema, version 2 (PostgreSQL): indicators shared as feeds.

CREATE TABLE indicators (
	id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	org         text        NOT NULL CHECK (org <> '' AND length(org) <= 128),
	scope       text        NOT NULL CHECK (scope IN ('private', 'shared')),
	type        text        NOT NULL CHECK (type IN ('domain', 'url', 'ip', 'email', 'sha256', 'sha1', 'md5', 'filename')),
	value       text        NOT NULL CHECK (value <> '' AND length(value) <= 2048),
	source      text        NOT NULL,
	confidence  bigint      NOT NULL CHECK (confidence BETWEEN 0 AND 100),
	tlp         text        NOT NULL CHECK (tlp IN ('clear', 'green', 'amber', 'amber+strict', 'red')),
	brand       text        NOT NULL,
	description text        NOT NULL,
	finding_id  bigint      REFERENCES findings (id) ON DELETE SET NULL,
	first_seen  timestamptz NOT NULL,
	last_seen   timestamptz NOT NULL,
	valid_until timestamptz,
	updated_at  timestamptz NOT NULL,
	UNIQUE (org, type, value)
);
CREATE INDEX indicators_org ON indicators (org, updated_at DESC, id DESC);
CREATE INDEX indicators_shared ON indicators (scope, updated_at DESC, id DESC);
