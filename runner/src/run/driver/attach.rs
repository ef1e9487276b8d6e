//! A started job wired up: its log, output pumps, exit task, watchers and timers, and
//! what happens to its artifacts once it exits.

use super::*;
use crate::executor::Executor;

impl Driver<'_> {
    /// The executor that runs `id`; the host's for a job the run has no executor for
    /// (it never started, so only its files are looked at).
    fn executor_of(&self, id: JobId) -> Arc<dyn Executor> {
        let executors = &self.context.executors;
        executors
            .at(self.context.plan.placement(id))
            .unwrap_or_else(|| executors.host())
    }

    /// Wires up a job the executor started: log file, output pumps, exit task, watchers and
    /// timers.
    pub(super) fn attach(&mut self, id: JobId, spawned: SpawnedJob) {
        let pipeline = self.context.pipeline.clone();
        let job = pipeline.job(id);
        let folder = self.context.folder.clone();
        let log = LogWriter::new(
            folder.log_path(&job.name),
            self.context.options.log_limit,
            folder.clone(),
        );
        let control: Arc<dyn JobControl> = Arc::from(spawned.control);
        let masker = self.context.secrets.masker().clone();

        let pump = |stream, reader| {
            let pump = OutputPump {
                job: id,
                stream,
                log: log.clone(),
                matcher: GrepMatcher::new(job, stream),
                messages: self.sender.clone(),
                masker: masker.clone(),
            };
            tokio::spawn(pump.run(reader))
        };
        let stdout = pump(Stream::Stdout, spawned.stdout);
        let stderr = pump(Stream::Stderr, spawned.stderr);
        let mut tasks = vec![stdout.abort_handle(), stderr.abort_handle()];
        let sender = self.sender.clone();
        let artifacts = (!job.artifacts.is_empty()).then(|| {
            (
                job.artifacts.clone(),
                self.context.workspaces.of(&job.name),
                job.name.clone(),
                self.context.workspaces.staged_artifacts(&job.name),
            )
        });
        let junit = (!job.junit.is_empty()).then(|| {
            (
                job.junit.clone(),
                self.context.workspaces.of(&job.name),
                self.context.workspaces.staged_artifacts(&job.name),
            )
        });
        let releasable = control.clone();
        let pack_folder = self.context.folder.clone();
        let store = self.context.artifacts.clone();
        let executor = self.executor_of(id);
        let exit_task = tokio::spawn(async move {
            let result = spawned.exit.await;
            // Whatever holds the pipes now (a daemonised grandchild) gets a moment, not forever.
            let drained = tokio::time::timeout(Duration::from_secs(2), async {
                let _ = stdout.await;
                let _ = stderr.await;
            });
            let _ = drained.await;
            let artifacts = match (&result, artifacts) {
                (Ok(JobExit::Code(0)), Some(artifacts)) => Some(artifacts),
                _ => None,
            };
            let mut packing_later = None;
            let after_exit = match artifacts {
                None => AfterExit {
                    artifacts: None,
                    packing: false,
                },
                Some((patterns, tree, archive, None)) => AfterExit {
                    artifacts: Some(
                        pack_artifacts(
                            patterns,
                            tree,
                            archive,
                            (store.clone(), executor.clone()),
                            pack_folder.clone(),
                        )
                        .await,
                    ),
                    packing: false,
                },
                // Dependents get the staged tree at once; the archive is packed from it
                // meanwhile, off their critical path.
                Some((patterns, tree, archive, Some(staged))) => {
                    match stage_artifacts(patterns.clone(), tree, staged.clone()).await {
                        Ok(()) => {
                            packing_later = Some((patterns, staged, archive));
                            AfterExit {
                                artifacts: None,
                                packing: true,
                            }
                        }
                        Err(reason) => AfterExit {
                            artifacts: Some(Err(reason)),
                            packing: false,
                        },
                    }
                }
            };
            // Found as the job ends, in the run, so no report rescans job folders afterwards.
            let junit_files = match junit {
                Some((patterns, tree, staged)) => {
                    let executor = executor.clone();
                    tokio::task::spawn_blocking(move || {
                        executor.junit_files(&tree, staged.as_deref(), &patterns)
                    })
                    .await
                    .ok()
                }
                None => None,
            };
            let _ = sender
                .send(Message::Exited {
                    job: id,
                    result,
                    after_exit,
                    junit_files,
                })
                .await;
            if let Some((patterns, staged, archive)) = packing_later {
                tokio::spawn(async move {
                    let result =
                        pack_artifacts(patterns, staged, archive, (store, executor), pack_folder)
                            .await;
                    let _ = sender.send(Message::Packed { job: id, result }).await;
                });
            }
            // After the exit is reported: removing a container takes the engine a while,
            // and the job's dependents need not wait for it.
            releasable.release().await;
        });
        tasks.push(exit_task.abort_handle());

        let watchers = self.start_watchers(id, &control);
        self.running[id.0] = Some(Running {
            control,
            watchers,
            tasks,
        });
    }

    /// `Exists`, `Port`, healthcheck watchers and the timers of the job and its signals.
    fn start_watchers(&self, id: JobId, control: &Arc<dyn JobControl>) -> Vec<AbortHandle> {
        let job = self.context.pipeline.job(id);
        let mut watchers = Vec::new();
        let send = |event: SchedulerEvent| {
            let sender = self.sender.clone();
            async move {
                let _ = sender.send(Message::Scheduler(event)).await;
            }
        };
        for (index, signal) in job.signals.iter().enumerate() {
            let fired = send(SchedulerEvent::SignalFired(id, SignalId(index)));
            match &signal.kind {
                SignalKind::Grep { .. } => {}
                SignalKind::Exists { path } => {
                    let path = self.context.folder.shared_root().join(path);
                    let executor = self.executor_of(id);
                    let task = tokio::spawn(async move {
                        executor.watch_shared_file(path).await;
                        fired.await;
                    });
                    watchers.push(task.abort_handle());
                }
                SignalKind::Port { port } => {
                    let (readiness, port) = (control.port_readiness(), *port);
                    let task = tokio::spawn(async move {
                        watch_port(readiness, port).await;
                        fired.await;
                    });
                    watchers.push(task.abort_handle());
                }
            }
            if let Some(timeout) = signal.timeout {
                let timed_out = send(SchedulerEvent::SignalTimedOut(id, SignalId(index)));
                let task = tokio::spawn(async move {
                    tokio::time::sleep(timeout).await;
                    timed_out.await;
                });
                watchers.push(task.abort_handle());
            }
        }
        if let Some(timeout) = job.timeout {
            let timed_out = send(SchedulerEvent::TimedOut(id));
            let task = tokio::spawn(async move {
                tokio::time::sleep(timeout).await;
                timed_out.await;
            });
            watchers.push(task.abort_handle());
        }
        if let (Some(check), true) = (&job.healthcheck, self.health_awaited[id.0]) {
            let argv = argv_of(Some(&check.test));
            let (control, check, sender) = (control.clone(), check.clone(), self.sender.clone());
            let task = tokio::spawn(async move {
                let event = match watch_health(control, argv, check).await {
                    Ok(()) => SchedulerEvent::Healthy(id),
                    Err(message) => SchedulerEvent::Failed(id, FailReason::Healthcheck { message }),
                };
                let _ = sender.send(Message::Scheduler(event)).await;
            });
            watchers.push(task.abort_handle());
        }
        watchers
    }

    /// A job that creates its `Exists` file and exits at once may beat the poller: the file
    /// is there, so the signal fired, whatever the timing.
    pub(super) fn look_for_files_one_last_time(
        &mut self,
        id: JobId,
        queue: &mut VecDeque<Decision>,
    ) {
        let pipeline = self.context.pipeline.clone();
        for (index, signal) in pipeline.job(id).signals.iter().enumerate() {
            let signal_id = SignalId(index);
            if let SignalKind::Exists { path } = &signal.kind
                && !self.dispatcher.has_fired(id, signal_id)
                && self
                    .context
                    .folder
                    .shared_root()
                    .join(path)
                    .symlink_metadata()
                    .is_ok()
            {
                self.emit(RunEvent::SignalFired {
                    job: id,
                    signal: signal.name.clone(),
                });
                self.handle(SchedulerEvent::SignalFired(id, signal_id), queue);
            }
        }
    }
}

/// Packs `job`'s artifacts from `tree` into the run's store, as its executor does it.
async fn pack_artifacts(
    patterns: Vec<String>,
    tree: PathBuf,
    job: String,
    (store, executor): (Arc<dyn ArtifactStore>, Arc<dyn Executor>),
    folder: Arc<RunFolder>,
) -> Result<PackSummary, String> {
    let packed = tokio::task::spawn_blocking(move || {
        executor.pack_artifacts(store.as_ref(), &job, &tree, &patterns)
    })
    .await;
    match packed {
        Ok(Ok(summary)) => Ok(summary),
        Ok(Err(error)) => {
            // A full disk under the run folder is the machine's problem: noted like a failed
            // log write, it ends the run as errored (exit 3). Other write errors stay the
            // job's (a job can clobber the run folder through `$PIPEKIT_SHARED/..`).
            if let crate::storage::ArtifactError::WriteArchive { path, source } = &error
                && matches!(
                    source.kind(),
                    std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
                )
            {
                folder.note_write_failure(path, source);
            }
            let cause = std::error::Error::source(&error)
                .map(|cause| format!(": {cause}"))
                .unwrap_or_default();
            Err(format!("artifacts could not be packed: {error}{cause}"))
        }
        Err(error) => Err(format!("artifacts could not be packed: {error}")),
    }
}

async fn stage_artifacts(
    patterns: Vec<String>,
    tree: PathBuf,
    staged: PathBuf,
) -> Result<(), String> {
    let staged = tokio::task::spawn_blocking(move || {
        stage(&tree, &patterns, &staged, &ExtractLimits::default())
    })
    .await;
    match staged {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(error)) => Err(format!("artifacts could not be handed on: {error}")),
        Err(error) => Err(format!("artifacts could not be handed on: {error}")),
    }
}

/// Kills a job nobody wants any more and frees what it holds once it is gone.
pub(super) fn end_unwanted(spawned: SpawnedJob) {
    let control: Arc<dyn JobControl> = Arc::from(spawned.control);
    control.kill();
    let exit = spawned.exit;
    tokio::spawn(async move {
        let _ = exit.await;
        control.release().await;
    });
}
