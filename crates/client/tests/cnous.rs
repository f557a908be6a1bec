//! The CNOUS client against a fake upstream on loopback (real HTTP, raw tokio sockets): found,
//! not found, retries on 5xx and dropped connections, timeouts, unreadable bodies, and the
//! service's cache and circuit breaker.

use apogee_client::breaker::BreakerState;
use apogee_client::cvec::{
    CnousAnswer, CnousClient, CnousConfig, CnousError, CnousService, Origin, ResilienceConfig,
};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const FOUND: &str = r#"{"nom":"DUPONT","prenom":"Marie","sexe":"F","dateNaissance":"2005-03-14","ine":"0123456789M","crous":"Versailles","etat":{"code":"70","libelle":"Valide"},"exoneration":{"active":false,"motif":null}}"#;
const NOT_FOUND: &str = r#"{"code":"400","message":"L'attestation n'a pas été trouvée"}"#;

#[derive(Clone)]
enum Reply {
    Json(u16, &'static str),
    Slow(Duration, u16, &'static str),
    Drop,
}

struct Fake {
    base: String,
    hits: Arc<AtomicUsize>,
    paths: Arc<Mutex<Vec<String>>>,
}

/// Serves `reply(n)` to the n-th request (0-based).
async fn fake(reply: impl Fn(usize) -> Reply + Send + Sync + 'static) -> std::io::Result<Fake> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let hits = Arc::new(AtomicUsize::new(0));
    let paths = Arc::new(Mutex::new(Vec::new()));
    let reply = Arc::new(reply);
    let (h, p) = (hits.clone(), paths.clone());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let n = h.fetch_add(1, Ordering::SeqCst);
            let (reply, paths) = (reply.clone(), p.clone());
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 1024];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(k) => buf.extend_from_slice(&chunk[..k]),
                    }
                }
                let request = String::from_utf8_lossy(&buf);
                let path = request.split_whitespace().nth(1).unwrap_or_default();
                if let Ok(mut paths) = paths.lock() {
                    paths.push(path.to_owned());
                }
                let (delay, status, body) = match reply(n) {
                    Reply::Json(s, b) => (Duration::ZERO, s, b),
                    Reply::Slow(d, s, b) => (d, s, b),
                    Reply::Drop => return,
                };
                tokio::time::sleep(delay).await;
                let head = format!(
                    "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = socket.write_all(head.as_bytes()).await;
                let _ = socket.write_all(body.as_bytes()).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    Ok(Fake { base, hits, paths })
}

fn config(base: &str, retries: u32, timeout_ms: u64) -> CnousConfig {
    CnousConfig {
        base_url: base.to_owned(),
        timeout: Duration::from_millis(timeout_ms),
        retries,
        backoff: Duration::from_millis(10),
    }
}

#[tokio::test]
async fn found_and_not_found() -> TestResult {
    let upstream = fake(|n| {
        if n == 0 {
            Reply::Json(200, FOUND)
        } else {
            Reply::Json(400, NOT_FOUND)
        }
    })
    .await?;
    let client = CnousClient::new(&config(&format!("{}/cvec/", upstream.base), 2, 2000))?;
    let fetched = client.fetch("VER1ABCDEF12DUPON").await;
    let CnousAnswer::Found(dto) = fetched.answer else {
        return Err(format!("{:?}", fetched.answer).into());
    };
    assert_eq!(dto.etat_code(), Some("70"));
    assert_eq!((fetched.attempts, fetched.status), (1, Some(200)));
    let fetched = client.fetch("VER1ABCDEF12DUPOM").await;
    assert_eq!(
        fetched.answer,
        CnousAnswer::NotFound("L'attestation n'a pas été trouvée".into())
    );
    assert_eq!(fetched.attempts, 1, "400 is an answer, not retried");
    let paths = upstream.paths.lock().map(|p| p.clone()).unwrap_or_default();
    assert_eq!(
        paths,
        vec![
            "/cvec/api/attestation/VER1ABCDEF12DUPON",
            "/cvec/api/attestation/VER1ABCDEF12DUPOM"
        ]
    );
    Ok(())
}

#[tokio::test]
async fn retries_5xx_and_dropped_connections_with_backoff() -> TestResult {
    let upstream = fake(|n| match n {
        0 => Reply::Json(503, "{}"),
        1 => Reply::Drop,
        _ => Reply::Json(200, FOUND),
    })
    .await?;
    let client = CnousClient::new(&config(&upstream.base, 2, 2000))?;
    let fetched = client.fetch("VER1ABCDEF12DUPON").await;
    assert!(
        matches!(fetched.answer, CnousAnswer::Found(_)),
        "{fetched:?}"
    );
    assert_eq!(fetched.attempts, 3);
    assert_eq!(upstream.hits.load(Ordering::SeqCst), 3);

    let failing = fake(|_| Reply::Json(500, "oops")).await?;
    let client = CnousClient::new(&config(&failing.base, 2, 2000))?;
    let fetched = client.fetch("VER1ABCDEF12DUPON").await;
    assert_eq!(
        fetched.answer,
        CnousAnswer::Unavailable(CnousError::Status(500))
    );
    assert_eq!((fetched.attempts, fetched.status), (3, Some(500)));
    assert_eq!(failing.hits.load(Ordering::SeqCst), 3);

    // Other statuses are answers about our request: not retried.
    let missing = fake(|_| Reply::Json(404, "{}")).await?;
    let client = CnousClient::new(&config(&missing.base, 2, 2000))?;
    let fetched = client.fetch("VER1ABCDEF12DUPON").await;
    assert_eq!(
        fetched.answer,
        CnousAnswer::Unavailable(CnousError::Status(404))
    );
    assert_eq!(missing.hits.load(Ordering::SeqCst), 1);
    Ok(())
}

#[tokio::test]
async fn a_slow_upstream_times_out_once_without_retries() -> TestResult {
    let upstream = fake(|_| Reply::Slow(Duration::from_secs(3), 200, FOUND)).await?;
    let client = CnousClient::new(&config(&upstream.base, 2, 200))?;
    let start = Instant::now();
    let fetched = client.fetch("VER1ABCDEF12DUPON").await;
    assert_eq!(
        fetched.answer,
        CnousAnswer::Unavailable(CnousError::Timeout(200))
    );
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(fetched.attempts, 1);
    Ok(())
}

#[tokio::test]
async fn refused_connections_and_unreadable_bodies() -> TestResult {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let base = format!("http://{}", listener.local_addr()?);
    drop(listener);
    let client = CnousClient::new(&config(&base, 1, 1000))?;
    let fetched = client.fetch("VER1ABCDEF12DUPON").await;
    assert!(
        matches!(&fetched.answer, CnousAnswer::Unavailable(CnousError::Network(m)) if m.contains("connexion impossible")),
        "{fetched:?}"
    );
    assert_eq!(fetched.attempts, 2);

    let upstream = fake(|_| Reply::Json(200, "<html>maintenance</html>")).await?;
    let client = CnousClient::new(&config(&upstream.base, 2, 1000))?;
    let fetched = client.fetch("VER1ABCDEF12DUPON").await;
    assert!(
        matches!(
            fetched.answer,
            CnousAnswer::Unavailable(CnousError::Body(_))
        ),
        "{fetched:?}"
    );

    for bad in ["ftp://example.org", "pas une url", "mailto:x@example.org"] {
        assert!(
            matches!(
                CnousClient::new(&config(bad, 0, 10)),
                Err(CnousError::Config(_))
            ),
            "{bad}"
        );
    }
    Ok(())
}

fn resilience(threshold: u32, cooldown_ms: u64) -> ResilienceConfig {
    ResilienceConfig {
        positive_ttl: Duration::from_secs(60),
        negative_ttl: Duration::from_secs(60),
        cache_max_entries: 100,
        breaker_threshold: threshold,
        breaker_cooldown: Duration::from_millis(cooldown_ms),
    }
}

#[tokio::test]
async fn service_caches_answers_but_not_failures() -> TestResult {
    let upstream = fake(|n| match n {
        0 => Reply::Json(200, FOUND),
        1 => Reply::Json(400, NOT_FOUND),
        2 => Reply::Json(503, "{}"),
        _ => Reply::Json(400, NOT_FOUND),
    })
    .await?;
    let service = CnousService::new(&config(&upstream.base, 0, 1000), &resilience(5, 1000))?;
    let first = service.lookup("VER1ABCDEF12DUPON").await;
    assert_eq!(first.origin, Origin::Upstream);
    let again = service.lookup("VER1ABCDEF12DUPON").await;
    assert_eq!(again.origin, Origin::Cache);
    assert_eq!(again.answer, first.answer);
    let miss = service.lookup("VER1ABCDEF12AAAAA").await;
    assert!(matches!(miss.answer, CnousAnswer::NotFound(_)));
    assert_eq!(
        service.lookup("VER1ABCDEF12AAAAA").await.origin,
        Origin::Cache
    );
    let down = service.lookup("VER1ABCDEF12BBBBB").await;
    assert!(matches!(down.answer, CnousAnswer::Unavailable(_)));
    let after = service.lookup("VER1ABCDEF12BBBBB").await;
    assert_eq!(after.origin, Origin::Upstream, "failures are not cached");
    assert_eq!(upstream.hits.load(Ordering::SeqCst), 4);
    service.clear_cache();
    service.lookup("VER1ABCDEF12DUPON").await;
    assert_eq!(upstream.hits.load(Ordering::SeqCst), 5);
    Ok(())
}

#[tokio::test]
async fn breaker_opens_on_a_flapping_upstream_and_recovers() -> TestResult {
    // Down for the first three requests, then healthy.
    let upstream = fake(|n| {
        if n < 3 {
            Reply::Json(502, "{}")
        } else {
            Reply::Json(200, FOUND)
        }
    })
    .await?;
    let service = CnousService::new(&config(&upstream.base, 0, 1000), &resilience(2, 150))?;
    for _ in 0..2 {
        let down = service.lookup("VER1ABCDEF12DUPON").await;
        assert_eq!(
            down.answer,
            CnousAnswer::Unavailable(CnousError::Status(502))
        );
    }
    assert_eq!(service.breaker_state(), BreakerState::Open);
    let start = Instant::now();
    let fast = service.lookup("VER1ABCDEF12DUPON").await;
    assert!(
        matches!(
            fast.answer,
            CnousAnswer::Unavailable(CnousError::CircuitOpen(_))
        ),
        "{fast:?}"
    );
    assert_eq!(fast.attempts, 0);
    assert!(start.elapsed() < Duration::from_millis(50));
    assert_eq!(
        upstream.hits.load(Ordering::SeqCst),
        2,
        "no call while open"
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    // The probe meets the last failure: open again.
    let probe = service.lookup("VER1ABCDEF12DUPON").await;
    assert!(matches!(
        probe.answer,
        CnousAnswer::Unavailable(CnousError::Status(502))
    ));
    assert_eq!(service.breaker_state(), BreakerState::Open);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let recovered = service.lookup("VER1ABCDEF12DUPON").await;
    assert!(
        matches!(recovered.answer, CnousAnswer::Found(_)),
        "{recovered:?}"
    );
    assert_eq!(service.breaker_state(), BreakerState::Closed);
    assert_eq!(upstream.hits.load(Ordering::SeqCst), 4);
    Ok(())
}
