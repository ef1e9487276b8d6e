//! What the engine is asked to create for a job: Compose's fields turned into the Engine
//! API's container configuration. Pure, so every rule here is tested without an engine.

use super::labels::{JOB, KEEP, RunIdentity};
use crate::executor::{ContainerLaunch, JobLaunch};
use bollard::models::{ContainerCreateBody, EndpointSettings, HostConfig, NetworkingConfig};
use bollard::models::{PortBinding, PortMap};
use pipekit_schema::parse_port;
use std::collections::HashMap;

/// Where the shared storage and the source tree appear in every container (spec 3 and 4).
pub const SHARED_MOUNT: &str = "/pipekit";
pub const WORKSPACE_MOUNT: &str = "/workspace";

/// A `ports:` entry that is not Compose's short syntax.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("`ports: {entry}` is not `[IP:][HOST:]CONTAINER[/PROTOCOL]`")]
pub struct BadPort {
    pub entry: String,
}

/// The container's name: the run id keeps two runs of one pipeline apart.
pub fn container_name(run_id: &str, job: &str) -> String {
    format!("pipekit-{run_id}-{}", sanitize(job))
}

pub fn network_name(run_id: &str) -> String {
    format!("pipekit-{run_id}")
}

/// The engine's default network: no names, used when no two containers of a run can be up
/// at the same time.
pub const DEFAULT_NETWORK: &str = "bridge";

/// Names the engine accepts: `[a-zA-Z0-9][a-zA-Z0-9_.-]*`.
fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The creation request for `launch`, attached to `network` under the job's name (the
/// default network knows no names).
pub fn container_body(
    launch: &JobLaunch,
    container: &ContainerLaunch,
    image: &str,
    run: &RunIdentity,
    network: &str,
    default_user: Option<&str>,
) -> Result<ContainerCreateBody, BadPort> {
    let (exposed_ports, port_bindings) = ports(&container.ports)?;
    let mut labels: HashMap<String, String> = container
        .labels
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    labels.extend(run.labels());
    labels.insert(JOB.to_string(), launch.job_name.clone());
    if container.keep {
        labels.insert(KEEP.to_string(), "true".to_string());
    }
    let mut binds = vec![
        format!("{}:{SHARED_MOUNT}", container.shared_root.display()),
        format!("{}:{WORKSPACE_MOUNT}", container.workspace.display()),
    ];
    binds.extend(container.volumes.iter().cloned());
    let networking_config = (network != DEFAULT_NETWORK).then(|| {
        let endpoint = EndpointSettings {
            aliases: Some(vec![launch.job_name.clone()]),
            ..Default::default()
        };
        NetworkingConfig {
            endpoints_config: Some(HashMap::from([(network.to_string(), endpoint)])),
        }
    });
    Ok(ContainerCreateBody {
        image: Some(image.to_string()),
        // Empty: the image's own command, as in Compose.
        cmd: (!launch.argv.is_empty()).then(|| launch.argv.clone()),
        entrypoint: container.entrypoint.clone(),
        env: Some(launch.env.iter().map(|(k, v)| format!("{k}={v}")).collect()),
        working_dir: Some(launch.working_dir.display().to_string()),
        user: container
            .user
            .clone()
            .or_else(|| default_user.map(str::to_string)),
        hostname: Some(sanitize(&launch.job_name)),
        labels: Some(labels),
        exposed_ports: (!exposed_ports.is_empty()).then_some(exposed_ports),
        attach_stdout: Some(true),
        attach_stderr: Some(true),
        attach_stdin: Some(false),
        open_stdin: Some(false),
        tty: Some(false),
        host_config: Some(HostConfig {
            binds: Some(binds),
            port_bindings: (!port_bindings.is_empty()).then_some(port_bindings),
            network_mode: Some(network.to_string()),
            // Swap as large as memory: the limit is what the container may use, not
            // twice that, as Docker's default would allow.
            memory: container.memory.as_ref().map(|limit| limit.bytes as i64),
            memory_swap: container.memory.as_ref().map(|limit| limit.bytes as i64),
            // A tiny init as PID 1: signals reach the command even when it is `sh -c`,
            // and its zombies are reaped.
            init: Some(true),
            ..Default::default()
        }),
        networking_config,
        ..Default::default()
    })
}

/// `ports:` as the engine wants them: the exposed ports and their host bindings.
fn ports(entries: &[String]) -> Result<(Vec<String>, PortMap), BadPort> {
    let mut exposed = Vec::new();
    let mut bindings: PortMap = HashMap::new();
    for entry in entries {
        // Checked by `validate` already; refused here too rather than trusted.
        let mapping = parse_port(entry).map_err(|_| BadPort {
            entry: entry.clone(),
        })?;
        let key = format!("{}/{}", mapping.container_port, mapping.protocol);
        exposed.push(key.clone());
        // As in Compose, a bare `80` is published too, on a port the engine picks.
        bindings
            .entry(key)
            .or_insert_with(|| Some(Vec::new()))
            .get_or_insert_with(Vec::new)
            .push(PortBinding {
                host_ip: mapping.host_ip,
                host_port: mapping.host_port.map(|port| port.to_string()),
            });
    }
    Ok((exposed, bindings))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::executor::ImageSource;
    use crate::executor::docker::labels::{Owner, RUN};
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    fn launch(argv: &[&str]) -> (JobLaunch, ContainerLaunch) {
        let container = ContainerLaunch {
            image: ImageSource::Named("busybox".into()),
            entrypoint: None,
            user: None,
            volumes: vec!["/data:/data:ro".into()],
            ports: vec!["8080:80".into()],
            labels: BTreeMap::from([("team".to_string(), "ci".to_string())]),
            shared_root: PathBuf::from("/run/shared"),
            workspace: PathBuf::from("/src"),
            keep: false,
            wants_address: false,
            memory: Some(pipekit_schema::MemoryLimit {
                bytes: 16 << 20,
                text: "16m".into(),
            }),
            secrets: Vec::new(),
        };
        let launch = JobLaunch {
            job_name: "web".into(),
            argv: argv.iter().map(|a| a.to_string()).collect(),
            env: vec![("A".into(), "1".into())],
            working_dir: PathBuf::from(WORKSPACE_MOUNT),
            container: Some(container.clone()),
            progress: None,
        };
        (launch, container)
    }

    fn identity() -> RunIdentity {
        RunIdentity {
            run_id: "20261122-001500-123-a1b2".into(),
            pipeline_file: "/p/pipekit.yml".into(),
            owner: Owner {
                pid: 1,
                start: "2".into(),
                host: "h".into(),
                pid_ns: "pid:[4026531836]".into(),
            },
        }
    }

    #[test]
    fn mounts_labels_network_alias_and_command() {
        let (launch, container) = launch(&["sh", "-c", "echo hi"]);
        let body =
            container_body(&launch, &container, "busybox", &identity(), "net", None).expect("body");
        let host = body.host_config.expect("host config");
        assert_eq!(host.memory, Some(16 << 20), "mem_limit");
        assert_eq!(host.memory_swap, Some(16 << 20), "no swap beyond mem_limit");
        assert_eq!(
            host.binds.expect("binds"),
            ["/run/shared:/pipekit", "/src:/workspace", "/data:/data:ro"]
        );
        assert_eq!(host.network_mode.as_deref(), Some("net"));
        let labels = body.labels.expect("labels");
        assert_eq!(labels[RUN], "20261122-001500-123-a1b2");
        assert_eq!(labels["team"], "ci");
        assert!(!labels.contains_key(KEEP));
        let endpoints = body
            .networking_config
            .and_then(|n| n.endpoints_config)
            .expect("endpoints");
        assert_eq!(
            endpoints["net"].aliases.as_deref(),
            Some(&["web".to_string()][..])
        );
        assert_eq!(body.cmd.expect("cmd"), ["sh", "-c", "echo hi"]);
        assert_eq!(body.env.expect("env"), ["A=1"]);
        assert_eq!(body.working_dir.as_deref(), Some("/workspace"));
        assert_eq!(body.tty, Some(false));
    }

    #[test]
    fn no_command_keeps_the_images_own_and_user_defaults_apply() {
        let (launch, container) = launch(&[]);
        let body = container_body(
            &launch,
            &container,
            "i",
            &identity(),
            "n",
            Some("1000:1000"),
        )
        .expect("body");
        assert_eq!(body.cmd, None);
        assert_eq!(body.user.as_deref(), Some("1000:1000"));
        let mut with_user = container.clone();
        with_user.user = Some("mysql".into());
        let body = container_body(
            &launch,
            &with_user,
            "i",
            &identity(),
            "n",
            Some("1000:1000"),
        )
        .expect("body");
        assert_eq!(body.user.as_deref(), Some("mysql"), "the job's `user` wins");
    }

    #[test]
    fn compose_port_forms() {
        let (exposed, bindings) = ports(&[
            "80".into(),
            "8080:81".into(),
            "127.0.0.1:9090:82/udp".into(),
            "127.0.0.1::83".into(),
        ])
        .expect("ports");
        assert_eq!(exposed, ["80/tcp", "81/tcp", "82/udp", "83/tcp"]);
        assert_eq!(
            bindings["80/tcp"].clone().expect("bound")[0].host_port,
            None,
            "published on a port the engine picks, as in Compose"
        );
        let binding = |key: &str| bindings[key].clone().expect("bound")[0].clone();
        assert_eq!(binding("81/tcp").host_port.as_deref(), Some("8080"));
        assert_eq!(binding("82/udp").host_ip.as_deref(), Some("127.0.0.1"));
        assert_eq!(binding("83/tcp").host_port, None);
        for bad in ["x", "80/quic", "1:2:3:4", "99999", "a:80"] {
            assert_eq!(
                ports(&[bad.to_string()]),
                Err(BadPort { entry: bad.into() }),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_default_network_gets_no_alias() {
        let (launch, container) = launch(&[]);
        let body = container_body(&launch, &container, "i", &identity(), DEFAULT_NETWORK, None)
            .expect("body");
        assert!(body.networking_config.is_none());
        let host = body.host_config.expect("host config");
        assert_eq!(host.network_mode.as_deref(), Some(DEFAULT_NETWORK));
    }

    #[test]
    fn names_are_per_run_and_engine_safe() {
        assert_eq!(container_name("r1", "web app"), "pipekit-r1-web_app");
        assert_ne!(container_name("r1", "db"), container_name("r2", "db"));
        assert_eq!(network_name("r1"), "pipekit-r1");
    }
}
