//! The HTTP client every outbound call of a workflow uses. Addresses are
//! checked against the policy (`app::domain::outbound`) before the request,
//! and again by the client's resolver for the connection it actually makes
//! (so a name that answers differently the second time gains nothing).
//! Redirects are not followed by the client: the runner follows them one
//! hop at a time, checking each.

use app::domain::outbound::{HostList, check};
use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

/// What the resolver refused; found again in the client's error chain to
/// tell the author why.
#[derive(Debug)]
pub struct Refused(pub String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}

struct PolicyResolver {
    allowed: Arc<HostList>,
}

impl Resolve for PolicyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allowed = self.allowed.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            for a in &addrs {
                // ports are checked before the request; here any port
                check(&host, a.ip(), None, &allowed).map_err(Refused)?;
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// The client for workflow calls: the policy's resolver, no redirects, no
/// proxy from the environment.
pub fn client(allowed: Arc<HostList>, timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .user_agent(concat!("stepwise/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(10))
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .dns_resolver(Arc::new(PolicyResolver { allowed }))
        .build()
        .expect("the HTTP client builds with static settings")
}

/// Checks a URL before a request goes to it: the scheme, and every address
/// its host stands for (a literal address as written, however spelled; a
/// name as it resolves now).
pub async fn check_url(url: &Url, allowed: &HostList) -> Result<(), String> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "only http and https URLs can be called, not {}:",
            url.scheme()
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("put credentials in a header, not in the URL".into());
    }
    let port = url.port_or_known_default();
    match url.host() {
        None => Err("the URL has no host".into()),
        Some(url::Host::Ipv4(ip)) => check(&ip.to_string(), IpAddr::V4(ip), port, allowed),
        Some(url::Host::Ipv6(ip)) => check(&format!("[{ip}]"), IpAddr::V6(ip), port, allowed),
        Some(url::Host::Domain(name)) => {
            let addrs = tokio::net::lookup_host((name, port.unwrap_or(0)))
                .await
                .map_err(|e| format!("{name} could not be resolved: {e}"))?;
            for a in addrs {
                check(name, a.ip(), port, allowed)?;
            }
            Ok(())
        }
    }
}

/// The policy's message when the resolver refused a connection.
pub fn refusal(e: &reqwest::Error) -> Option<String> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if let Some(r) = s.downcast_ref::<Refused>() {
            return Some(r.0.clone());
        }
        source = s.source();
    }
    None
}

/// Everything an outbound call needs: the guarded client, the allowed
/// internal hosts, and the response cap.
pub struct Outbound {
    pub client: reqwest::Client,
    /// The client for model connections: their URLs are an admin's
    /// setting, not a workflow's, so the internal-address policy does not
    /// apply (a local Ollama is the common case); redirects are still not
    /// followed, and each request has the connection's timeout.
    pub models: reqwest::Client,
    pub allowed: Arc<HostList>,
    pub max_response_bytes: usize,
}

impl Outbound {
    pub fn new(allowed: HostList, max_response_bytes: usize) -> Outbound {
        let allowed = Arc::new(allowed);
        Outbound {
            client: client(allowed.clone(), Duration::from_secs(300)),
            models: reqwest::Client::builder()
                .user_agent(concat!("stepwise/", env!("CARGO_PKG_VERSION")))
                .connect_timeout(Duration::from_secs(10))
                .redirect(reqwest::redirect::Policy::none())
                .no_proxy()
                .build()
                .expect("the HTTP client builds with static settings"),
            allowed,
            max_response_bytes,
        }
    }
}

impl Default for Outbound {
    /// Nothing inside allowed; responses up to 4 MiB.
    fn default() -> Self {
        Outbound::new(HostList::default(), 4 * 1024 * 1024)
    }
}
