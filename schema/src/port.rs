//! Compose's short syntax for `ports`: `80`, `8080:80`, `127.0.0.1:8080:80`,
//! `127.0.0.1::80`, each with an optional `/tcp`, `/udp` or `/sctp`.

/// One `ports:` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortMapping {
    pub host_ip: Option<String>,
    /// `None`: a port the engine picks.
    pub host_port: Option<u16>,
    pub container_port: u16,
    pub protocol: String,
}

/// Parses one entry; the error says what the entry should look like.
pub fn parse_port(entry: &str) -> Result<PortMapping, String> {
    let bad = || {
        format!(
            "`{entry}` is not a port mapping: expected `[IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL]`, \
             like `8080:80` (port ranges are not supported)"
        )
    };
    let (spec, protocol) = match entry.rsplit_once('/') {
        Some((spec, protocol @ ("tcp" | "udp" | "sctp"))) => (spec, protocol),
        Some(_) => return Err(bad()),
        None => (entry, "tcp"),
    };
    let port = |text: &str| text.parse::<u16>().ok().filter(|port| *port > 0);
    let parts: Vec<&str> = spec.split(':').collect();
    let (host_ip, host_port, container_port) = match parts.as_slice() {
        [container] => (None, None, *container),
        [host, container] => (None, Some(*host), *container),
        [ip, host, container] if !ip.is_empty() => {
            (Some(*ip), Some(*host).filter(|h| !h.is_empty()), *container)
        }
        _ => return Err(bad()),
    };
    let container_port = port(container_port).ok_or_else(bad)?;
    let host_port = match host_port {
        Some(text) => Some(port(text).ok_or_else(bad)?),
        None => None,
    };
    Ok(PortMapping {
        host_ip: host_ip.map(str::to_string),
        host_port,
        container_port,
        protocol: protocol.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compose_forms() {
        let mapping = |entry| parse_port(entry).expect(entry);
        assert_eq!(mapping("80").host_port, None);
        assert_eq!(mapping("8080:81").host_port, Some(8080));
        let full = mapping("127.0.0.1:9090:82/udp");
        assert_eq!(
            (full.host_ip.as_deref(), full.host_port, full.container_port),
            (Some("127.0.0.1"), Some(9090), 82)
        );
        assert_eq!(full.protocol, "udp");
        assert_eq!(mapping("127.0.0.1::83").host_port, None);
    }

    #[test]
    fn everything_else_is_refused() {
        for bad in [
            "x",
            "80/quic",
            "1:2:3:4",
            "99999",
            "a:80",
            "0",
            ":80",
            "::80",
            "8000-8010",
        ] {
            assert!(parse_port(bad).is_err(), "{bad}");
        }
    }
}
