-- A re-run of only some jobs (spec 8's `rerun` with `jobs` or `failed`): which jobs run
-- again, as the request said it (`{"jobs": ["test"]}` or `{"failed": true}`), and the run
-- folder of the earlier run whose other jobs it reuses (in the same repository). Both NULL
-- for a run of its own or a whole re-run. The folder, not a run id: it is what the re-run
-- reads, and no reference keeps retention from deleting the earlier run (a re-run whose
-- earlier folder is gone ends errored, saying so).
ALTER TABLE runs ADD COLUMN rerun_jobs TEXT;
ALTER TABLE runs ADD COLUMN reuse_folder TEXT;
