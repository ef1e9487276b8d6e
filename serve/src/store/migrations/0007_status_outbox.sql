-- Commit statuses waiting for their forge (spec 8), one row per state change of a job:
-- written as the run goes, sent oldest first, kept once sent so that what happened can be
-- told. A row whose job has a newer one before it went out is `superseded`: the forge
-- only needs a job's latest state.
CREATE TABLE status_outbox (
    id INTEGER PRIMARY KEY,
    -- The run's history may be deleted (retention): its statuses go with it.
    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    job TEXT NOT NULL,
    commit_sha TEXT NOT NULL,
    -- `pipekit/<pipeline>/<job>`.
    context TEXT NOT NULL,
    -- pipekit-ci's word (pending, running, passed, failed, errored, cancelled, skipped);
    -- each forge's is chosen as it is sent, so a row outlives a change of forge.
    state TEXT NOT NULL,
    description TEXT NOT NULL,
    target_url TEXT NOT NULL,
    created_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    -- Milliseconds since the Unix epoch: compared, never shown.
    next_attempt_ms INTEGER NOT NULL,
    -- NULL while it is to be sent; then `delivered`, `superseded` or `refused`.
    outcome TEXT,
    finished_at TEXT,
    -- Why the last attempt failed, or why the forge refused it.
    last_error TEXT
);
CREATE INDEX status_outbox_undelivered ON status_outbox (run_id, job) WHERE outcome IS NULL;
