-- ward store schema, version 3 (PostgreSQL): indicators are revoked, not
-- deleted, so that feeds with history (STIX, TAXII, MISP) can tell their
-- consumers to stop blocking them; feeds page by update time.

ALTER TABLE indicators ADD COLUMN revoked_at timestamptz;
CREATE INDEX indicators_updated ON indicators (updated_at, id);
CREATE INDEX indicators_source ON indicators (org, source, last_seen);
