//! API clients and their secrets.
//!
//! Secrets are 32 random bytes (base64url, prefixed `apg_`), shown once at creation; the database
//! keeps their SHA-256 only. A high-entropy random secret needs no slow password hash, and a fast
//! hash keeps per-call verification cheap (SOAP clients authenticate every call). Verified
//! secrets are cached for a few seconds, so a revocation takes effect within that delay.
//!
//! A request is a client by the credentials it sends (`Authorization: Bearer`, Basic, or the
//! `auth.api_key_header` header), or, sending none, by the trusted network it comes from
//! (`auth.trusted_networks`, through `auth.trusted_proxies`): [`claim`] decides (pure), then
//! [`identify`] looks the client up.

use crate::App;
use crate::settings::{AuthSettings, TrustedNetwork};
use apogee_db::repo::clients;
use apogee_db::{AnyConnection, DbError};
use apogee_domain::{Error, FaultKey, Scope, Scopes};
use base64::Engine;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub use apogee_db::repo::clients::ApiClient;

/// How long a verified (or refused) secret is remembered.
pub const CACHE_TTL: Duration = Duration::from_secs(5);
const CACHE_MAX: usize = 10_000;

/// A new random secret.
pub fn generate_secret() -> String {
    let bytes: [u8; 32] = rand::random();
    format!(
        "apg_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// SHA-256 (hex) of a secret: what the database stores.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Whether `name` may name a client: 1 to 64 characters among `A-Z a-z 0-9 - _ .`.
pub fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Creates a client and returns its secret (shown once).
pub fn create(
    conn: &mut AnyConnection,
    name: &str,
    scopes: &Scopes,
) -> Result<(ApiClient, String), Error> {
    if !is_valid_name(name) {
        return Err(Error::invalid_field(
            FaultKey::noncoherent("name"),
            "CLIENT_NOM",
            "name",
            "Nom de client invalide (1 à 64 caractères parmi A-Z a-z 0-9 - _ .)",
        ));
    }
    if scopes.is_empty() {
        return Err(Error::invalid_field(
            FaultKey::mandatory("scopes"),
            "CLIENT_DROITS",
            "scopes",
            "Au moins un droit est nécessaire",
        ));
    }
    if clients::find_by_name(conn, name)
        .map_err(DbError::from)?
        .is_some()
    {
        return Err(Error::conflict(
            FaultKey::business_rule("client.existe"),
            format!("Le client {name} existe déjà"),
        ));
    }
    let secret = generate_secret();
    let client = clients::create(conn, name, &hash_secret(&secret), &scopes.to_string())
        .map_err(DbError::from)?;
    Ok((client, secret))
}

/// Every client, revoked ones included.
pub fn list(conn: &mut AnyConnection) -> Result<Vec<ApiClient>, Error> {
    Ok(clients::list(conn).map_err(DbError::from)?)
}

/// Revokes the active client `name`; `false` when there is none.
pub fn revoke(conn: &mut AnyConnection, name: &str) -> Result<bool, Error> {
    Ok(clients::revoke(conn, name).map_err(DbError::from)?)
}

/// An authenticated client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    /// Client name.
    pub name: String,
    /// Granted scopes.
    pub scopes: Scopes,
}

impl Client {
    /// Fails with 403 unless the client holds `scope`.
    pub fn require(&self, scope: Scope) -> Result<(), Error> {
        if self.scopes.grants(scope) {
            Ok(())
        } else {
            Err(Error::forbidden(scope.as_str()))
        }
    }
}

/// The credentials a request sends. `Debug` masks the secrets.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    /// `Authorization: Bearer <secret>`.
    Bearer(String),
    /// `Authorization: Basic <name:secret>` (how Apogée SOAP clients are configured).
    Basic {
        /// Client name.
        name: String,
        /// Secret.
        secret: String,
    },
    /// The `auth.api_key_header` header: a client secret, as with Bearer.
    ApiKey(String),
    /// An authentication header that cannot be read (unknown scheme, bad base64 …): refused,
    /// never replaced by the network's client.
    Malformed {
        /// The header.
        header: String,
    },
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::Bearer(_) => f.write_str("Bearer(****)"),
            Credentials::Basic { name, .. } => write!(f, "Basic({name}:****)"),
            Credentials::ApiKey(_) => f.write_str("ApiKey(****)"),
            Credentials::Malformed { header } => write!(f, "Malformed({header})"),
        }
    }
}

/// Verified-secret cache.
#[derive(Default)]
pub struct AuthCache {
    entries: Mutex<HashMap<String, (Instant, Option<Client>)>>,
}

impl AuthCache {
    fn get(&self, hash: &str) -> Option<Option<Client>> {
        let entries = self.entries.lock().ok()?;
        entries
            .get(hash)
            .filter(|(at, _)| at.elapsed() < CACHE_TTL)
            .map(|(_, c)| c.clone())
    }

    fn put(&self, hash: String, client: Option<Client>) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= CACHE_MAX {
                entries.clear();
            }
            entries.insert(hash, (Instant::now(), client));
        }
    }
}

fn client_of(stored: ApiClient) -> Client {
    Client {
        scopes: Scopes::parse(&stored.scopes).unwrap_or_default(),
        name: stored.name,
    }
}

fn missing_credentials(auth: &AuthSettings) -> Error {
    let api_key = auth
        .api_key_header
        .as_deref()
        .map(|h| format!(", ou l'en-tête {h}"))
        .unwrap_or_default();
    Error::unauthenticated(format!(
        "Authentification requise : en-tête Authorization: Bearer <jeton> (ou Basic pour SOAP){api_key}"
    ))
}

/// Verifies credentials (absent: 401).
///
/// The secret is looked up by its SHA-256, in the cache then in the database: it is never
/// compared by value, so the time taken tells nothing about the stored secrets (at most about a
/// hash of what the caller sent).
pub async fn authenticate(app: &App, credentials: Option<Credentials>) -> Result<Client, Error> {
    let creds = credentials.ok_or_else(|| missing_credentials(&app.settings.auth))?;
    let (expected_name, secret) = match creds {
        Credentials::Bearer(s) | Credentials::ApiKey(s) => (None, s),
        Credentials::Basic { name, secret } => (Some(name), secret),
        Credentials::Malformed { header } => {
            return Err(Error::unauthenticated(format!(
                "En-tête {header} illisible (attendu : Bearer <jeton> ou Basic)"
            )));
        }
    };
    let hash = hash_secret(&secret);
    let client = match app.auth_cache.get(&hash) {
        Some(cached) => cached,
        None => {
            let lookup = hash.clone();
            let found = app
                .db
                .read(move |c| clients::find_active_by_secret(c, &lookup).map_err(DbError::from))
                .await?
                .map(client_of);
            app.auth_cache.put(hash, found.clone());
            found
        }
    };
    client
        .filter(|c| expected_name.as_deref().is_none_or(|n| n == c.name))
        .ok_or_else(|| Error::unauthenticated("Jeton invalide ou révoqué"))
}

/// What a request presents: its credentials, and where it comes from.
#[derive(Debug, Clone, Default)]
pub struct Presented {
    /// The credentials sent (`Authorization`, else the API-key header), if any.
    pub credentials: Option<Credentials>,
    /// The TCP peer's address.
    pub peer: Option<IpAddr>,
    /// The `X-Forwarded-For` header values, in order (each may list several addresses).
    pub forwarded_for: Vec<String>,
}

/// Who a request says it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// Credentials were sent: they alone decide, whatever the network.
    Credentials(Credentials),
    /// No credentials, from a trusted network: its client.
    Network(String),
    /// Neither: 401.
    Nobody,
}

/// Which client a request claims to be (pure): its credentials when it sends some, else the
/// client of the trusted network its address is in (the longest matching prefix).
pub fn claim(presented: Presented, auth: &AuthSettings) -> Claim {
    if let Some(credentials) = presented.credentials {
        return Claim::Credentials(credentials);
    }
    if auth.trusted_networks.is_empty() {
        return Claim::Nobody;
    }
    presented
        .peer
        .and_then(|peer| client_address(peer, &presented.forwarded_for, &auth.trusted_proxies))
        .and_then(|address| network_client(address, &auth.trusted_networks))
        .map_or(Claim::Nobody, |client| Claim::Network(client.to_owned()))
}

/// The client address of a request: the TCP peer, unless it is a trusted proxy; then the
/// right-most `X-Forwarded-For` address that is not a trusted proxy (the left-most one when all
/// are). `None` when that address cannot be read (`unknown`, obfuscated, empty).
pub fn client_address(peer: IpAddr, forwarded_for: &[String], proxies: &[Cidr]) -> Option<IpAddr> {
    let is_proxy = |ip: IpAddr| proxies.iter().any(|p| p.contains(ip));
    let mut address = peer.to_canonical();
    if !is_proxy(address) {
        return Some(address);
    }
    let hops: Vec<&str> = forwarded_for.iter().flat_map(|v| v.split(',')).collect();
    for hop in hops.into_iter().rev() {
        address = parse_hop(hop)?;
        if !is_proxy(address) {
            return Some(address);
        }
    }
    Some(address)
}

/// One `X-Forwarded-For` entry: an address, possibly with a port (`1.2.3.4:80`, `[::1]:80`) or
/// in brackets.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    let ip = hop
        .parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|a| a.ip()))
        .or_else(|| hop.strip_prefix('[')?.strip_suffix(']')?.parse().ok())?;
    Some(ip.to_canonical())
}

/// The client of the most specific trusted network holding `address`.
pub fn network_client(address: IpAddr, networks: &[TrustedNetwork]) -> Option<&str> {
    networks
        .iter()
        .filter(|n| n.cidr.contains(address))
        .max_by_key(|n| n.cidr.prefix_len())
        .map(|n| n.client.as_str())
}

/// The client a request is ([`claim`], then the lookup): 401 when it is none, or when its
/// trusted network's client is unknown or revoked.
pub async fn identify(app: &App, presented: Presented) -> Result<Client, Error> {
    match claim(presented, &app.settings.auth) {
        Claim::Credentials(credentials) => authenticate(app, Some(credentials)).await,
        Claim::Network(name) => network_member(app, name).await,
        Claim::Nobody => authenticate(app, None).await,
    }
}

/// The active client `name` of a trusted network (cached as verified secrets are).
async fn network_member(app: &App, name: String) -> Result<Client, Error> {
    // Not a hex digest: cannot collide with a secret's entry.
    let key = format!("network:{name}");
    let client = match app.auth_cache.get(&key) {
        Some(cached) => cached,
        None => {
            let lookup = name.clone();
            let found = app
                .db
                .read(move |c| clients::find_by_name(c, &lookup).map_err(DbError::from))
                .await?
                .filter(|c| c.revoked_at.is_none())
                .map(client_of);
            if found.is_none() {
                tracing::warn!(
                    client = %name,
                    "auth.trusted_networks: client unknown or revoked; requests without credentials from its network are refused"
                );
            }
            app.auth_cache.put(key, found.clone());
            found
        }
    };
    client.ok_or_else(|| {
        Error::unauthenticated(
            "Le client de ce réseau de confiance est inconnu ou révoqué : envoyez des identifiants",
        )
    })
}

/// An IPv4 or IPv6 network: `10.0.0.0/8`, `2001:db8::/32`, or one address (`10.1.2.3`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr(ipnet::IpNet);

/// A CIDR refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CidrError {
    /// Not an address nor a network.
    #[error("CIDR invalide « {0} » (attendu : 10.0.0.0/8, 2001:db8::/32 ou une adresse)")]
    Syntax(String),
    /// Bits set after the prefix (`10.0.0.1/8`): probably not what was meant.
    #[error("CIDR « {given} » : bits d'hôte non nuls après le préfixe ({network} ?)")]
    HostBits {
        /// As written.
        given: String,
        /// The network it would be.
        network: String,
    },
}

impl Cidr {
    /// Whether `address` is in the network (IPv4-mapped IPv6 addresses count as IPv4).
    pub fn contains(&self, address: IpAddr) -> bool {
        self.0.contains(&address.to_canonical())
    }

    /// The prefix length (32 or 128 for one address).
    pub fn prefix_len(&self) -> u8 {
        self.0.prefix_len()
    }
}

impl FromStr for Cidr {
    type Err = CidrError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if let Ok(address) = s.parse::<IpAddr>() {
            return Ok(Cidr(ipnet::IpNet::from(address.to_canonical())));
        }
        let net: ipnet::IpNet = s.parse().map_err(|_| CidrError::Syntax(s.to_owned()))?;
        if net.trunc() != net {
            return Err(CidrError::HostBits {
                given: s.to_owned(),
                network: net.trunc().to_string(),
            });
        }
        Ok(Cidr(net))
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl serde::Serialize for Cidr {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Cidr {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// On the first start of an empty database: creates client `admin` with every scope and writes
/// its secret to `token_path` (mode 0600). Returns whether it did.
pub fn bootstrap_admin(
    conn: &mut AnyConnection,
    token_path: &std::path::Path,
) -> Result<bool, crate::StartError> {
    if clients::count(conn).map_err(DbError::from)? > 0 {
        return Ok(false);
    }
    let (_, secret) = create(conn, "admin", &Scopes::all())?;
    write_private(token_path, &format!("{secret}\n"))
        .map_err(|e| crate::StartError::io(token_path, e))?;
    Ok(true)
}

/// Writes a file readable by its owner only.
pub fn write_private(path: &std::path::Path, content: &str) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(content.as_bytes())?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_and_hashed() {
        let a = generate_secret();
        let b = generate_secret();
        assert_ne!(a, b);
        assert!(a.starts_with("apg_") && a.len() == 47);
        assert_eq!(hash_secret("x").len(), 64);
        assert_eq!(hash_secret(&a), hash_secret(&a));
    }

    fn cidr(s: &str) -> Cidr {
        match s.parse() {
            Ok(c) => c,
            Err(e) => panic!("{s}: {e}"),
        }
    }

    fn ip(s: &str) -> IpAddr {
        match s.parse() {
            Ok(a) => a,
            Err(e) => panic!("{s}: {e}"),
        }
    }

    #[test]
    fn cidrs_parse_v4_v6_and_single_addresses() {
        let net = cidr("10.0.0.0/8");
        assert!(net.contains(ip("10.255.1.2")));
        assert!(!net.contains(ip("11.0.0.1")));
        assert!(
            net.contains(ip("::ffff:10.1.2.3")),
            "IPv4-mapped IPv6 counts as IPv4"
        );
        let v6 = cidr("2001:db8::/32");
        assert!(v6.contains(ip("2001:db8:1::5")));
        assert!(!v6.contains(ip("2001:db9::1")));
        assert!(!v6.contains(ip("10.0.0.1")));
        let host = cidr(" 192.0.2.7 ");
        assert_eq!(host.prefix_len(), 32);
        assert!(host.contains(ip("192.0.2.7")) && !host.contains(ip("192.0.2.8")));
        assert_eq!(cidr("::1").prefix_len(), 128);
        assert_eq!(cidr("10.0.0.0/8").to_string(), "10.0.0.0/8");
        for bad in [
            "",
            "10.0.0.0/33",
            "10.0.0/8",
            "x",
            "10.0.0.0/",
            "2001:db8::/129",
        ] {
            assert!(
                matches!(bad.parse::<Cidr>(), Err(CidrError::Syntax(_))),
                "{bad}"
            );
        }
        assert_eq!(
            "10.0.0.1/8".parse::<Cidr>(),
            Err(CidrError::HostBits {
                given: "10.0.0.1/8".into(),
                network: "10.0.0.0/8".into()
            })
        );
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let proxies = [cidr("10.0.0.1"), cidr("10.0.9.0/24")];
        let xff = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        // Not a proxy: the peer, whatever the header says.
        assert_eq!(
            client_address(ip("192.0.2.1"), &xff(&["203.0.113.5"]), &proxies),
            Some(ip("192.0.2.1"))
        );
        // Through one proxy.
        assert_eq!(
            client_address(ip("10.0.0.1"), &xff(&["203.0.113.5"]), &proxies),
            Some(ip("203.0.113.5"))
        );
        // A forged left part is ignored: the right-most address that is not a proxy wins.
        assert_eq!(
            client_address(
                ip("10.0.0.1"),
                &xff(&["10.99.0.1, 198.51.100.7", "10.0.9.3"]),
                &proxies
            ),
            Some(ip("198.51.100.7"))
        );
        // Ports and brackets.
        assert_eq!(
            client_address(ip("10.0.0.1"), &xff(&["[2001:db8::5]:443"]), &proxies),
            Some(ip("2001:db8::5"))
        );
        assert_eq!(
            client_address(ip("10.0.0.1"), &xff(&["198.51.100.7:8080"]), &proxies),
            Some(ip("198.51.100.7"))
        );
        // Only proxies: the left-most; no header: the proxy itself.
        assert_eq!(
            client_address(ip("10.0.0.1"), &xff(&["10.0.9.8, 10.0.9.9"]), &proxies),
            Some(ip("10.0.9.8"))
        );
        assert_eq!(
            client_address(ip("10.0.0.1"), &[], &proxies),
            Some(ip("10.0.0.1"))
        );
        // An unreadable hop before any client address: unknown.
        assert_eq!(
            client_address(ip("10.0.0.1"), &xff(&["198.51.100.7, unknown"]), &proxies),
            None
        );
        assert_eq!(
            client_address(ip("10.0.0.1"), &xff(&["198.51.100.7,,10.0.9.3"]), &proxies),
            None
        );
        // IPv4-mapped peers are IPv4 peers.
        assert_eq!(
            client_address(ip("::ffff:10.0.0.1"), &xff(&["203.0.113.5"]), &proxies),
            Some(ip("203.0.113.5"))
        );
    }

    fn auth() -> AuthSettings {
        AuthSettings {
            api_key_header: Some("X-Api-Key".into()),
            trusted_networks: vec![
                TrustedNetwork {
                    cidr: cidr("10.0.0.0/8"),
                    client: "campus".into(),
                },
                TrustedNetwork {
                    cidr: cidr("10.20.0.0/16"),
                    client: "exchange-php".into(),
                },
            ],
            trusted_proxies: vec![cidr("192.0.2.10")],
        }
    }

    fn from(peer: &str, forwarded_for: &[&str], credentials: Option<Credentials>) -> Presented {
        Presented {
            credentials,
            peer: Some(ip(peer)),
            forwarded_for: forwarded_for.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    #[test]
    fn the_claim_is_the_credentials_else_the_most_specific_network() {
        let auth = auth();
        let network = |n: &str| Claim::Network(n.to_owned());
        assert_eq!(claim(from("10.1.2.3", &[], None), &auth), network("campus"));
        assert_eq!(
            claim(from("10.20.9.9", &[], None), &auth),
            network("exchange-php")
        );
        assert_eq!(claim(from("172.16.0.1", &[], None), &auth), Claim::Nobody);
        assert_eq!(
            claim(from("192.0.2.10", &["10.20.0.1"], None), &auth),
            network("exchange-php")
        );
        // Forged header from a peer that is not a proxy.
        assert_eq!(
            claim(from("172.16.0.1", &["10.20.0.1"], None), &auth),
            Claim::Nobody
        );
        assert_eq!(
            claim(from("192.0.2.10", &["10.20.0.1, junk"], None), &auth),
            Claim::Nobody
        );
        // Credentials win over the network, even unreadable ones.
        for credentials in [
            Credentials::Bearer("apg_x".into()),
            Credentials::ApiKey("apg_x".into()),
            Credentials::Malformed {
                header: "Authorization".into(),
            },
        ] {
            assert_eq!(
                claim(from("10.20.0.1", &[], Some(credentials.clone())), &auth),
                Claim::Credentials(credentials)
            );
        }
        // Off by default; no peer (a test request): nobody.
        assert_eq!(
            claim(from("10.1.2.3", &[], None), &AuthSettings::default()),
            Claim::Nobody
        );
        assert_eq!(claim(Presented::default(), &auth), Claim::Nobody);
    }

    #[test]
    fn debug_output_masks_secrets() {
        let shown = format!(
            "{:?} {:?} {:?}",
            Credentials::Bearer("apg_secret1".into()),
            Credentials::Basic {
                name: "ecandidat".into(),
                secret: "apg_secret2".into()
            },
            Credentials::ApiKey("apg_secret3".into())
        );
        assert!(!shown.contains("apg_secret"), "{shown}");
        assert!(shown.contains("ecandidat"), "{shown}");
    }

    #[test]
    fn auth_settings_are_checked() {
        let settings = crate::Settings::default();
        assert_eq!(auth().check(&settings), Ok(()));
        assert_eq!(AuthSettings::default().check(&settings), Ok(()));
        let refused = |f: &dyn Fn(&mut AuthSettings)| {
            let mut a = auth();
            f(&mut a);
            a.check(&settings).err().unwrap_or_default()
        };
        assert!(refused(&|a| a.api_key_header = Some("X Api".into())).contains("api_key_header"));
        assert!(
            refused(&|a| a.api_key_header = Some("authorization".into()))
                .contains("api_key_header")
        );
        assert!(refused(&|a| a.trusted_networks[0].client = String::new()).contains("[0]"));
        assert!(refused(&|a| a.trusted_networks[1].cidr = cidr("0.0.0.0/0")).contains("[1]"));
        assert!(
            refused(&|a| a.trusted_networks[1].cidr = cidr("10.0.0.0/8")).contains("deux fois")
        );
        let mut with_facade = crate::Settings::default();
        with_facade.pj.facade_header_name = Some("x-api-key".into());
        assert!(auth().check(&with_facade).is_err());
    }

    #[test]
    fn auth_settings_read_from_toml() {
        let text = r#"
            api_key_header = "X-Api-Key"
            trusted_networks = [{ cidr = "10.0.0.0/8", client = "exchange-php" }, { cidr = "2001:db8::/32", client = "v6" }]
            trusted_proxies = ["192.0.2.10", "192.0.2.128/25"]
        "#;
        let parsed: Result<AuthSettings, _> = toml::from_str(text);
        let parsed = match parsed {
            Ok(p) => p,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(parsed.trusted_networks[1].cidr, cidr("2001:db8::/32"));
        assert_eq!(parsed.trusted_proxies[0].prefix_len(), 32);
        let again: Result<AuthSettings, _> =
            toml::from_str(&toml::to_string(&parsed).unwrap_or_default());
        assert_eq!(
            again.ok().map(|a| a.trusted_networks),
            Some(parsed.trusted_networks)
        );
        let bad: Result<AuthSettings, _> = toml::from_str(r#"trusted_proxies = ["10.0.0.0/33"]"#);
        let message = bad.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(message.contains("10.0.0.0/33"), "{message}");
    }
}
