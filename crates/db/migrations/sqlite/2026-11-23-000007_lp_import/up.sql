-- Laissez-passer batch files (LP-16 … LP-20): one row per batch (lp_import) and its report, one
-- row per committed chunk (lp_import_report, the chunk's report lines as NDJSON). A chunk's LPs,
-- its report row and the batch's counters and last_line are written in the same transaction,
-- so a crash never leaves LPs without their report or the reverse; a re-post with the same
-- Idempotency-Key resumes after last_line. See docs/DATA-MODEL.md.

CREATE TABLE lp_import (
    id VARCHAR(26) NOT NULL PRIMARY KEY,
    idempotency_key VARCHAR(200),
    client VARCHAR(64) NOT NULL,
    mode VARCHAR(10) NOT NULL,
    format VARCHAR(10) NOT NULL,
    dry_run BOOLEAN NOT NULL,
    status VARCHAR(10) NOT NULL,
    total INTEGER NOT NULL,
    created INTEGER NOT NULL,
    updated INTEGER NOT NULL,
    unchanged INTEGER NOT NULL,
    rejected INTEGER NOT NULL,
    file_errors TEXT,
    last_line INTEGER NOT NULL,
    chunks INTEGER NOT NULL,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    heartbeat_at TIMESTAMP NOT NULL,
    last_trace_id VARCHAR(128)
);
CREATE UNIQUE INDEX lp_import_idempotency_key ON lp_import (idempotency_key);
CREATE INDEX lp_import_started_at ON lp_import (started_at);

CREATE TABLE lp_import_report (
    import_id VARCHAR(26) NOT NULL REFERENCES lp_import (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    first_line INTEGER NOT NULL,
    last_line INTEGER NOT NULL,
    lines TEXT NOT NULL,
    PRIMARY KEY (import_id, seq)
);
-- The primary key indexes the foreign key (import_id leads it).
