-- The repositories the service tests, and every run it queued: the queue is the runs that
-- are `queued`, in id order. Times are RFC 3339 text in UTC, as in run.json.
CREATE TABLE repositories (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    url TEXT NOT NULL
);

CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    repository_id INTEGER NOT NULL REFERENCES repositories (id),
    -- 1, 2, 3 … within its repository, as people call runs.
    number INTEGER NOT NULL,
    -- The pipeline file in the commit, e.g. `pipekit.yml`.
    pipeline TEXT NOT NULL,
    branch TEXT,
    git_ref TEXT,
    commit_sha TEXT NOT NULL,
    message TEXT NOT NULL,
    author TEXT NOT NULL,
    trigger TEXT NOT NULL CHECK (
        trigger IN ('manual', 'hook', 'webhook', 'poll', 'rerun', 'requeue')
    ),
    state TEXT NOT NULL CHECK (
        state IN ('queued', 'running', 'passed', 'failed', 'errored', 'interrupted',
                  'cancelled', 'invalid')
    ),
    -- The run folder's id (`runs/<repository>/<run id>/`), once the run started.
    run_folder TEXT,
    -- A re-run, or the run queued again after a restart, points to the run it repeats.
    attempt_of INTEGER REFERENCES runs (id),
    -- Set on a running run that was asked to stop: its end is `cancelled`.
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    queued_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT,
    UNIQUE (repository_id, number)
);

CREATE INDEX runs_queued ON runs (id) WHERE state = 'queued';
CREATE INDEX runs_running ON runs (id) WHERE state = 'running';
CREATE INDEX runs_of_repository ON runs (repository_id, id);
CREATE INDEX runs_of_commit ON runs (repository_id, commit_sha, pipeline);
