-- The forge webhook deliveries each repository took, by the forge's delivery id: a
-- delivery sent again (forges retry when unsure) queues nothing new. Only the latest are
-- kept (see `store/deliveries.rs`): a forge redelivers within hours, not years.
CREATE TABLE webhook_deliveries (
    id INTEGER PRIMARY KEY,
    repository_id INTEGER NOT NULL REFERENCES repositories (id),
    delivery_id TEXT NOT NULL,
    received_at TEXT NOT NULL,
    UNIQUE (repository_id, delivery_id)
);
