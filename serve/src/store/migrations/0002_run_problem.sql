-- Why a run ended `errored` or `invalid` without a report saying so: the pipeline's
-- diagnostics, a commit that could not be read, a run folder that could not be made.
ALTER TABLE runs ADD COLUMN problem TEXT;
