//! `pipekit-ci serve`: the service over the git repository it is started in, until SIGINT
//! or SIGTERM. The edge of the service: it reads the process's environment and current
//! directory, installs the signal handlers, prints, and hands everything else in.

use crate::access::{AccessPolicy, ApiToken};
use crate::api::router;
use crate::config::ServeConfig;
use crate::error_chain::error_chain;
use crate::mirror::Mirror;
use crate::poller::{fetch_mirror, poll_every};
use crate::push_policy::PushPolicy;
use crate::queue_runner::QueueRunner;
use crate::repository_url::RepositoryUrl;
use crate::retention::Retention;
use crate::run_pruner::prune_after_runs;
use crate::service::{Service, mirror_path};
use crate::status::{ApiBase, ForgeClient, ForgeTarget, ForgeToken, StatusSettings};
use crate::store::StoreError;
use crate::webhook::WebhookSecret;
use pipekit_runner::cli::{CliError, ServeAction, ServeArgs, UserAction};
use pipekit_runner::executor::{Engine, HostSupervisor};
use pipekit_runner::git::{SourceRepo, repository_name};
use pipekit_runner::session::{CancelHandle, cancel_channel};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::signal::unix::{SignalKind, signal};

/// Between SIGTERM and SIGKILL when a job is stopped.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// Serves until stopped; 0 after a clean stop.
pub fn serve(args: ServeArgs) -> Result<u8, CliError> {
    if let Some(ServeAction::User(UserAction::Add { name, role })) = &args.action {
        return crate::user_command::add_user(&args.data, name, role, std::io::stdin().lock());
    }
    let default_poll = poll_interval(args.poll).ok_or_else(|| invalid_poll("--poll", args.poll))?;
    let served = match &args.config {
        Some(file) => from_config(file, default_poll)?,
        None => this_repository(default_poll)?,
    };
    std::fs::create_dir_all(&args.data).map_err(|error| {
        CliError::Environment(format!("cannot create `{}`: {error}", args.data.display()))
    })?;
    let data_dir = std::path::absolute(&args.data).unwrap_or(args.data.clone());
    let sources = RepositorySources::open(&served.repositories, &data_dir)?;
    crate::mirror::limit_fetch_waits()
        .map_err(|error| CliError::Environment(format!("cannot set up libgit2: {error}")))?;
    let max_runs = served
        .max_runs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
    let listen = args
        .listen
        .clone()
        .or(served.listen)
        .unwrap_or_else(|| "127.0.0.1:8080".to_owned());
    crate::malloc_arenas::limit_malloc_arenas();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|error| CliError::Environment(format!("cannot start the runtime: {error}")))?;
    runtime.block_on(async {
        let docker_host = std::env::var("DOCKER_HOST").ok();
        let engine = match Engine::connect(docker_host.as_deref()).await {
            Ok(engine) => Some(engine),
            Err(error) => {
                err_line(&format!(
                    "pipekit-ci serve: no container engine ({error}); jobs with an image fail \
                     (restart the server once one answers)"
                ));
                None
            }
        };
        let listener = tokio::net::TcpListener::bind(&listen)
            .await
            .map_err(|error| {
                CliError::Environment(format!("cannot listen on {listen}: {error}"))
            })?;
        let address = listener
            .local_addr()
            .map_err(|error| CliError::Environment(error.to_string()))?;
        let client = ForgeClient::new().map_err(|error| {
            CliError::Environment(format!(
                "commit statuses: {}",
                crate::error_chain::error_chain(&error)
            ))
        })?;
        let service = Service {
            data_dir,
            repositories: sources.paths,
            mirrors: sources.mirrors,
            webhook_secrets: served.webhook_secrets,
            push_policies: served.push_policies,
            statuses: StatusSettings {
                // Spec 8: a job's status links to its page, which its forge's users must
                // reach; without `url`, the address the server listens on.
                public_url: served
                    .url
                    .map_or_else(|| format!("http://{address}"), |url| url.to_string()),
                forges: served.statuses,
            },
            access: AccessPolicy {
                tokens: served.tokens,
                // Spec 8: reads are public by default only where nobody else can connect.
                public: served
                    .public
                    .unwrap_or_else(|| listens_on_loopback(&listen)),
            },
            keep: served.keep,
            max_runs,
            host_env: host_environment(),
            supervisor: HostSupervisor::for_process(),
            engine,
            stop_grace: STOP_GRACE,
            log_limit: None,
        };
        let supervisor = service.supervisor.clone();
        let (runner, recovered) =
            QueueRunner::open(service, served.requeue_interrupted).map_err(store_error)?;
        if !recovered.interrupted.is_empty() {
            err_line(&format!(
                "pipekit-ci serve: {} run(s) interrupted by the last stop, queued again",
                recovered.interrupted.len()
            ));
        }
        err_line(&format!(
            "pipekit-ci serve: on http://{address}, data in {}",
            args.data.display()
        ));
        // After the address: what reads the first `http://` on stderr gets the server's,
        // not an origin's.
        for (name, (url, _)) in &served.repositories {
            let mirror = runner.service().mirrors.get(name);
            let text = match mirror {
                Some(mirror) => {
                    format!("{}, mirrored in {}", url.display(), mirror.path().display())
                }
                None => url.display(),
            };
            err_line(&format!("pipekit-ci serve: {name}: {text}"));
        }
        let (stop, stopping) = cancel_channel();
        let mut http_stopping = stopping.clone();
        let queue = tokio::spawn(runner.clone().run(stopping.clone()));
        // Stopped only once the queue has: the runs it stops still have statuses to tell.
        let (status_stop, status_stopping) = cancel_channel();
        let outbox = tokio::spawn({
            let runner = runner.clone();
            async move {
                let warn = |line: String| err_line(&format!("pipekit-ci serve: {line}"));
                runner
                    .deliver_statuses(client, status_stopping, &warn)
                    .await;
            }
        });
        let pollers: Vec<_> = served
            .repositories
            .iter()
            .filter_map(|(name, (_, every))| Some((name.clone(), (*every)?)))
            .map(|(name, every)| {
                tokio::spawn(poll_every(
                    runner.clone(),
                    name,
                    every,
                    stopping.clone(),
                    |name, error| {
                        err_line(&format!(
                            "pipekit-ci serve: cannot poll {name}: {}; trying again at the next \
                             poll",
                            crate::error_chain::error_chain(error)
                        ));
                    },
                ))
            })
            .collect();
        // A mirror that no poll fetches is fetched once now, so that its branches are there
        // to run by name before the first hook or webhook comes.
        for name in served
            .repositories
            .iter()
            .filter(|(_, (_, every))| every.is_none())
            .map(|(name, _)| name.clone())
            .filter(|name| runner.service().mirrors.contains_key(name))
        {
            let runner = runner.clone();
            tokio::task::spawn_blocking(move || {
                if let Err(error) = fetch_mirror(&runner, &name) {
                    err_line(&format!(
                        "pipekit-ci serve: {}; trying again at the next hook or webhook",
                        crate::error_chain::error_chain(&error)
                    ));
                }
            });
        }
        let pruner = served.keep.map(|keep| {
            tokio::spawn(prune_after_runs(
                runner.clone(),
                keep,
                stopping.clone(),
                |problem| {
                    err_line(&format!(
                        "pipekit-ci serve: {}; trying again after the next run",
                        crate::error_chain::error_chain(problem)
                    ));
                },
            ))
        });
        let app = router(runner).into_make_service_with_connect_info::<SocketAddr>();
        let http = axum::serve(listener, app).with_graceful_shutdown(async move {
            http_stopping.cancelled().await;
        });
        let signals = tokio::spawn(stop_on_signals(stop));
        let http = http.await;
        signals.abort();
        for poller in pollers {
            let _ = poller.await;
        }
        if let Some(pruner) = pruner {
            let _ = pruner.await;
        }
        let queued = queue.await;
        status_stop.cancel();
        let _ = outbox.await;
        let queued = queued.map_err(|error| CliError::Environment(error.to_string()))?;
        // No run of this process is going on any more: what shed its tag can go too.
        supervisor.kill_strays().await;
        http.map_err(|error| CliError::Environment(format!("the server failed: {error}")))?;
        queued.map_err(store_error)?;
        err_line("pipekit-ci serve: stopped");
        Ok(0)
    })
}

/// What to serve: each repository with where it is and its poll interval (`None`: never).
struct Served {
    repositories: BTreeMap<String, (RepositoryUrl, Option<Duration>)>,
    webhook_secrets: BTreeMap<String, WebhookSecret>,
    push_policies: BTreeMap<String, PushPolicy>,
    /// The forge of each repository whose commit statuses are sent.
    statuses: BTreeMap<String, ForgeTarget>,
    url: Option<ApiBase>,
    tokens: Vec<ApiToken>,
    public: Option<bool>,
    listen: Option<String>,
    max_runs: Option<usize>,
    keep: Option<Retention>,
    /// Runs interrupted by a stop or a crash are queued again (spec 8's default).
    requeue_interrupted: bool,
}

/// Without a config: the git repository the server is started in, named after its folder.
fn this_repository(poll: Option<Duration>) -> Result<Served, CliError> {
    let cwd = std::env::current_dir()
        .map_err(|error| CliError::Environment(format!("no current directory: {error}")))?;
    let repo = SourceRepo::open(&cwd, false).map_err(|error| {
        CliError::InvalidInput(format!(
            "{error}; `pipekit-ci serve` serves the git repository it is started in, or those \
             of --config FILE"
        ))
    })?;
    let root = repo.workdir().unwrap_or(repo.git_dir()).to_path_buf();
    Ok(Served {
        repositories: BTreeMap::from([(repository_name(&root), (RepositoryUrl::Path(root), poll))]),
        webhook_secrets: BTreeMap::new(),
        push_policies: BTreeMap::new(),
        statuses: BTreeMap::new(),
        url: None,
        tokens: Vec::new(),
        public: None,
        listen: None,
        max_runs: None,
        keep: None,
        requeue_interrupted: true,
    })
}

/// The config's repositories: each path must be a repository on this machine; a URL's
/// origin may be unreachable for now (its mirror is fetched later, and again).
fn from_config(file: &Path, default_poll: Option<Duration>) -> Result<Served, CliError> {
    let config =
        ServeConfig::read(file).map_err(|error| CliError::InvalidInput(error_chain(&error)))?;
    let environment = host_environment();
    let mut repositories = BTreeMap::new();
    let mut webhook_secrets = BTreeMap::new();
    let mut push_policies = BTreeMap::new();
    let mut statuses = BTreeMap::new();
    for (name, repository) in &config.repositories {
        if let Some(source) = &repository.webhook_secret {
            let what = format!("repository `{name}`: webhook_secret");
            let secret = config
                .secret(source, &what, &environment)
                .map_err(|error| CliError::InvalidInput(error_chain(&error)))?;
            webhook_secrets.insert(name.clone(), WebhookSecret::new(secret));
        }
        let policy = PushPolicy {
            branches: repository.branches.clone(),
            cancel_superseded: repository.cancel_superseded,
        };
        push_policies.insert(name.clone(), policy);
        if let Some(status) = &repository.status {
            let what = format!("repository `{name}`: status token");
            let token = config
                .secret(&status.token, &what, &environment)
                .map_err(|error| CliError::InvalidInput(error_chain(&error)))?;
            statuses.insert(
                name.clone(),
                ForgeTarget {
                    kind: status.kind,
                    api: status.api.clone(),
                    repository: status.repository.clone(),
                    token: ForgeToken::new(token),
                },
            );
        }
    }
    let mut tokens: Vec<ApiToken> = Vec::new();
    let mut values = BTreeMap::new();
    for token in &config.tokens {
        let what = format!("token `{}`", token.name);
        let value = config
            .secret(&token.value, &what, &environment)
            .map_err(|error| CliError::InvalidInput(error_chain(&error)))?;
        if let Some(other) = values.insert(value.clone(), token.name.clone()) {
            // Which of the two a request came as could not be told.
            return Err(CliError::InvalidInput(format!(
                "{}: tokens `{other}` and `{}` have the same value",
                file.display(),
                token.name
            )));
        }
        tokens.push(ApiToken::new(&token.name, token.role, &value));
    }
    for (name, repository) in config.repositories {
        if let RepositoryUrl::Path(path) = &repository.url {
            SourceRepo::open(path, false).map_err(|error| {
                CliError::InvalidInput(format!("{}: repository `{name}`: {error}", file.display()))
            })?;
        }
        let poll = match repository.poll {
            Some(seconds) => poll_interval(seconds)
                .ok_or_else(|| invalid_poll(&format!("repository `{name}`: poll"), seconds))?,
            None => default_poll,
        };
        repositories.insert(name, (repository.url, poll));
    }
    Ok(Served {
        repositories,
        webhook_secrets,
        push_policies,
        statuses,
        url: config.url,
        tokens,
        public: config.public,
        listen: config.listen,
        max_runs: config.max_runs,
        keep: config.keep,
        requeue_interrupted: config.requeue_interrupted.unwrap_or(true),
    })
}

/// Where the service reads each repository, and the mirrors among them.
struct RepositorySources {
    paths: BTreeMap<String, PathBuf>,
    mirrors: BTreeMap<String, Arc<Mirror>>,
}

impl RepositorySources {
    /// The mirrors of the repositories elsewhere are created under `data_dir` (not fetched:
    /// that is the poll's and the hooks' work, which a server down its origin survives).
    fn open(
        repositories: &BTreeMap<String, (RepositoryUrl, Option<Duration>)>,
        data_dir: &Path,
    ) -> Result<RepositorySources, CliError> {
        let mut sources = RepositorySources {
            paths: BTreeMap::new(),
            mirrors: BTreeMap::new(),
        };
        for (name, (url, _)) in repositories {
            let path = match url {
                RepositoryUrl::Path(path) => path.clone(),
                RepositoryUrl::Remote(url) => {
                    let mirror = Mirror::new(url, &mirror_path(data_dir, name));
                    mirror.create().map_err(|error| {
                        CliError::Environment(format!(
                            "repository `{name}`: {}",
                            error_chain(&error)
                        ))
                    })?;
                    let path = mirror.path().to_owned();
                    sources.mirrors.insert(name.clone(), Arc::new(mirror));
                    path
                }
            };
            sources.paths.insert(name.clone(), path);
        }
        Ok(sources)
    }
}

/// Whether `listen` is an address only this machine can reach (a name other than
/// `localhost` may resolve to anything, so it is not).
fn listens_on_loopback(listen: &str) -> bool {
    match listen.parse::<SocketAddr>() {
        Ok(address) => address.ip().is_loopback(),
        Err(_) => listen
            .rsplit_once(':')
            .is_some_and(|(host, _)| host.eq_ignore_ascii_case("localhost")),
    }
}

/// `seconds` as a poll interval: `Some(None)` for 0 (never), `None` when it is no number
/// of seconds.
fn poll_interval(seconds: f64) -> Option<Option<Duration>> {
    let every = Duration::try_from_secs_f64(seconds).ok()?;
    Some((!every.is_zero()).then_some(every))
}

fn invalid_poll(what: &str, seconds: f64) -> CliError {
    CliError::InvalidInput(format!(
        "{what} takes a number of seconds, 0 for never, not `{seconds}`"
    ))
}

/// The first SIGINT or SIGTERM stops the service: no new requests, the runs going on are
/// interrupted and queued again for the next start.
async fn stop_on_signals(stop: CancelHandle) {
    let (Ok(mut interrupt), Ok(mut terminate)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        return;
    };
    tokio::select! {
        _ = interrupt.recv() => {}
        _ = terminate.recv() => {}
    }
    err_line("pipekit-ci serve: stopping");
    stop.cancel();
}

fn store_error(error: StoreError) -> CliError {
    CliError::Environment(crate::error_chain::error_chain(&error))
}

/// The process's environment, as the runs see it; a variable that is not UTF-8 counts as
/// unset (as for `pipekit-ci run`).
fn host_environment() -> BTreeMap<String, String> {
    std::env::vars_os()
        .filter_map(|(key, value)| Some((key.into_string().ok()?, value.into_string().ok()?)))
        .collect()
}

/// A line on stderr; a closed stderr is no reason to stop serving.
fn err_line(text: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{text}");
}
