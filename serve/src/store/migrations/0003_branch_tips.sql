-- The last commit the poller saw on each branch of each repository: a poll queues what
-- moved since, and a restart does not queue again what was seen before it.
CREATE TABLE branch_tips (
    repository_id INTEGER NOT NULL REFERENCES repositories (id),
    branch TEXT NOT NULL,
    commit_sha TEXT NOT NULL,
    PRIMARY KEY (repository_id, branch)
);

-- When the poller last read the repository's branches (NULL: never).
ALTER TABLE repositories ADD COLUMN polled_at TEXT;
