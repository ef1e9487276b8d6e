//! What the executor is given to start a job: its command, its environment and, for a
//! container, its image and mounts.

use super::*;

impl Driver<'_> {
    /// What the executor needs to start a job: its command, environment and, for a
    /// container, its image and mounts.
    pub(super) fn launch(&self, id: JobId) -> Result<JobLaunch, String> {
        let pipeline = self.context.pipeline.clone();
        let job = pipeline.job(id);
        let folder = &self.context.folder;
        let in_container = self.context.plan.placement(id) == Placement::Container;
        let shared_env_file = folder.job_env_file(&job.name);
        let workspace = self.context.workspaces.of(&job.name);
        let (shared_seen, workspace_seen) = if in_container {
            (Path::new(SHARED_MOUNT), Path::new(WORKSPACE_MOUNT))
        } else {
            (folder.shared_root(), workspace.as_path())
        };
        let places = JobPlaces {
            run_id: folder.id(),
            shared_root: shared_seen,
            workspace: workspace_seen,
            pipeline_dir: &self.context.pipeline_dir,
            shared_env_file: &shared_env_file,
            run_variables: &self.context.run_variables,
        };
        let mut env = job_environment(&pipeline, job, &places, &self.host_env, !in_container)
            .map_err(|error| error.to_string())?;
        let secrets = self.context.secrets.of_job(job);
        // A secret is the job's variable of that name, whatever else would set it.
        env.retain(|(key, _)| !secrets.iter().any(|secret| secret.name == *key));
        env.extend(
            secrets
                .iter()
                .map(|secret| (secret.name.clone(), secret.value.clone())),
        );
        let argv = argv_of(job.command.as_ref());
        if argv.is_empty() && !in_container {
            return Err("no `command` to run on the host".into());
        }
        let working_dir = match &job.working_dir {
            Some(dir) => workspace_seen.join(dir),
            None => workspace_seen.to_path_buf(),
        };
        let container =
            in_container.then(|| self.container_launch(&pipeline, id, workspace.clone(), secrets));
        let sender = self.sender.clone();
        let progress: ProgressSink = Arc::new(move |text| {
            // Progress is a courtesy: dropped rather than waited for when the run is busy.
            let _ = sender.try_send(Message::Preparing { job: id, text });
        });
        Ok(JobLaunch {
            job_name: job.name.clone(),
            argv,
            env,
            working_dir,
            container,
            progress: Some(progress),
        })
    }

    fn container_launch(
        &self,
        pipeline: &Pipeline,
        id: JobId,
        workspace: PathBuf,
        secrets: Vec<SecretFile>,
    ) -> ContainerLaunch {
        let job = pipeline.job(id);
        let pipeline_dir = &self.context.pipeline_dir;
        let image = match (&job.build, &job.image) {
            (Some(build), image) => ImageSource::Build {
                context: pipeline_dir.join(&build.context),
                dockerfile: build.dockerfile.clone(),
                args: build.args.clone(),
                tag: image
                    .clone()
                    .unwrap_or_else(|| built_image_tag(&pipeline.name, &job.name)),
            },
            (None, image) => ImageSource::Named(image.clone().unwrap_or_default()),
        };
        ContainerLaunch {
            image,
            entrypoint: job.entrypoint.as_ref().map(|e| argv_of(Some(e))),
            user: job.user.clone(),
            volumes: job
                .volumes
                .iter()
                .map(|volume| host_volume(volume, pipeline_dir, self.host_env.get("HOME")))
                .collect(),
            ports: job.ports.clone(),
            labels: job.labels.clone(),
            shared_root: self.context.folder.shared_root().to_path_buf(),
            workspace,
            keep: left_running_at_end(&self.context, id),
            wants_address: job
                .signals
                .iter()
                .any(|signal| matches!(signal.kind, SignalKind::Port { .. })),
            memory: job.mem_limit.clone(),
            secrets,
        }
    }
}

/// The caller's environment as jobs inherit it. In a checkout, git's own variables (a hook
/// sets `GIT_DIR` and, for `git commit -a`, `GIT_INDEX_FILE`) would point a job's `git` at
/// the user's repository and index: they are left out.
pub(super) fn host_environment(
    workspaces: &Workspaces,
    host: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    const GIT_LOCATIONS: [&str; 7] = [
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_PREFIX",
        "GIT_COMMON_DIR",
        "GIT_OBJECT_DIRECTORY",
        "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    ];
    let mut env: BTreeMap<String, String> = host
        .iter()
        .filter(|(key, _)| {
            matches!(workspaces, Workspaces::Shared(_)) || !GIT_LOCATIONS.contains(&key.as_str())
        })
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    // A checkout has no `.git`: git run in a job must not climb out of it and find the
    // repository (or the user's) above the temporary folder.
    if let Workspaces::PerJob { checkouts, .. } = workspaces {
        env.insert(
            "GIT_CEILING_DIRECTORIES".into(),
            checkouts.root().display().to_string(),
        );
    }
    env
}

/// Compose's name for a built image without `image:`: the project and the service.
fn built_image_tag(pipeline: &str, job: &str) -> String {
    let clean = |name: &str| -> String {
        name.chars()
            .map(|c| match c.to_ascii_lowercase() {
                c @ ('a'..='z' | '0'..='9' | '.' | '_' | '-') => c,
                _ => '-',
            })
            .collect()
    };
    format!("pipekit-{}-{}", clean(pipeline), clean(job))
}

/// A `volumes:` entry with a relative source made absolute, as Compose resolves it against
/// the file's folder. A source that is not a path (`data:/var/lib`) is a named volume.
fn host_volume(volume: &str, pipeline_dir: &Path, home: Option<&String>) -> String {
    let Some((source, rest)) = volume.split_once(':') else {
        return volume.to_string();
    };
    let source = if source == "~" || source.starts_with("~/") {
        match home {
            Some(home) => format!("{home}{}", &source[1..]),
            None => source.to_string(),
        }
    } else if source.starts_with('.') {
        pipeline_dir.join(source).display().to_string()
    } else {
        source.to_string()
    };
    format!("{source}:{rest}")
}

/// `--keep-running` applies to `job`: a detached job in a container (a host process could
/// not be found again afterwards).
pub(super) fn left_running_at_end(context: &RunContext, id: JobId) -> bool {
    context.options.keep_running
        && context.pipeline.job(id).detach
        && context.plan.placement(id) == Placement::Container
}

#[cfg(test)]
mod naming_tests {
    use super::*;

    #[test]
    fn built_images_are_named_after_pipeline_and_job() {
        assert_eq!(built_image_tag("My CI", "Web"), "pipekit-my-ci-web");
    }

    #[test]
    fn relative_volume_sources_are_made_absolute() {
        let dir = Path::new("/p");
        let home = "/home/u".to_string();
        assert_eq!(
            host_volume("./data:/data:ro", dir, None),
            "/p/./data:/data:ro"
        );
        assert_eq!(host_volume("~/c:/c", dir, Some(&home)), "/home/u/c:/c");
        assert_eq!(host_volume("cache:/cache", dir, None), "cache:/cache");
        assert_eq!(host_volume("/abs:/abs", dir, None), "/abs:/abs");
        assert_eq!(host_volume("/anonymous", dir, None), "/anonymous");
    }
}
