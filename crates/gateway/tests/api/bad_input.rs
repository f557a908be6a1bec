//! The bad-input corpus: every case of `tests/bad-input/` (one request per file, format in
//! `tests/bad-input/README.md`) replayed against the real server, on SQLite and on PostgreSQL.
//!
//! For each case: the expected status and key (SOAP faultstring, REST problem `faultKey`, facade
//! `erreurType`); an error in its channel's shape (problem body with `faultKey` and `detail`,
//! SOAP fault with `faultstring` and `lastErrorMsg`, the facades' bodies); `/health/ready` still
//! 200; and, for a refused request, nothing written: counts and fixture records read through
//! the REST API (and the attachment store) are the same before and after. A case marked
//! `known-bug` records the current (wrong) behaviour: it is reported as skipped while the
//! gateway still behaves that way, and fails once the behaviour changes (fixed or different).
//!
//! `BAD_INPUT_CASE=<text>[,<text>…]` runs the cases whose id contains one of the texts; `BAD_INPUT_VERBOSE=1`
//! prints every answer.

use crate::helpers::{Backend, TestApp, TestResult};
use crate::on_both;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/bad-input");
/// `limits.body_idle_timeout_secs` of the corpus server: a stalled body is cut after it.
const IDLE_SECS: u64 = 1;
/// An answer not received within this is "no answer".
const ANSWER_WITHIN: Duration = Duration::from_secs(12);
const FIXTURE_OPI: &str = "JVMWT75DRZ";
const FIXTURE_STUDENT: &str = "10000001";

type Failure = Box<dyn std::error::Error>;

// ------------------------------------------------------------------------------------- cases

/// What an answer must be (`expect-…`), or what it currently is (`actual-…`, known bugs).
#[derive(Debug, Clone, Default)]
struct Expect {
    /// HTTP status (any of these: `actual-status: 200 | 500`); 0: no answer (connection
    /// closed, or nothing within the delay).
    status: Vec<u16>,
    /// SOAP faultstring, REST problem `faultKey`, facade `erreurType`.
    fault: Option<String>,
    /// SOAP faultcode without its prefix (`Client`, `Server` …).
    faultcode: Option<String>,
    /// REST problem type without `urn:apogee-gateway:problem:`.
    problem_type: Option<String>,
    /// Texts the raw body contains.
    contains: Vec<String>,
    /// Texts the raw body must not contain.
    lacks: Vec<String>,
    /// JSON pointer → value, on the answer's JSON body.
    json: Vec<(String, Value)>,
    /// `shape: http`: a bare HTTP answer, not in the channel's error format.
    bare: bool,
}

impl Expect {
    fn is_empty(&self) -> bool {
        self.status.is_empty() && self.fault.is_none() && self.contains.is_empty()
    }

    /// Reads `status`, `fault`, `faultcode`, `type`, `contains`, `lacks`, `json`.
    fn set(&mut self, what: &str, value: &str) -> Result<(), String> {
        match what {
            "status" => {
                for one in value.split('|').map(str::trim) {
                    self.status.push(match one {
                        "no-answer" => 0,
                        s => s.parse().map_err(|_| format!("bad status {s}"))?,
                    });
                }
            }
            "fault" => self.fault = Some(value.to_owned()),
            "faultcode" => self.faultcode = Some(value.to_owned()),
            "type" => self.problem_type = Some(value.to_owned()),
            "contains" => self.contains.push(unescape_text(value)),
            "lacks" => self.lacks.push(unescape_text(value)),
            "json" => self.json.push(pointer_value(value)?),
            "shape" if value == "http" => self.bare = true,
            other => return Err(format!("unknown key expect-{other}")),
        }
        Ok(())
    }
}

/// `/pointer = <json>`.
fn pointer_value(spec: &str) -> Result<(String, Value), String> {
    let (pointer, value) = spec
        .split_once(" = ")
        .ok_or_else(|| format!("`{spec}`: `/pointer = <json>` expected"))?;
    let value = serde_json::from_str(value.trim())
        .map_err(|e| format!("`{spec}`: the value is not JSON ({e})"))?;
    Ok((pointer.trim().to_owned(), value))
}

/// How the request is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sending {
    /// Whole.
    Normal,
    /// The head (with the full `Content-Length`) and the first `n` bytes, then silence.
    StallAfter(usize),
    /// The head (with the full `Content-Length`) and the first `n` bytes, then the connection
    /// is half-closed.
    TruncateAfter(usize),
}

/// Credentials of the request.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Auth {
    /// The admin client: Basic on SOAP endpoints, Bearer elsewhere.
    Admin,
    /// The admin client, HTTP Basic.
    Basic,
    /// The admin client, Bearer.
    Bearer,
    /// No credentials.
    None,
    /// A wrong secret.
    Wrong,
    /// A client holding these scopes (created once).
    Scopes(String),
}

/// A read after the request: `then: GET <path> <pointer> = <json>` or
/// `then: GET <path> status = <code>`.
#[derive(Debug, Clone)]
struct Then {
    path: String,
    pointer: String,
    value: Value,
}

#[derive(Debug, Clone)]
struct Case {
    id: String,
    area: String,
    title: String,
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    auth: Auth,
    body: Vec<u8>,
    sending: Sending,
    expect: Expect,
    known_bug: Option<(String, Expect)>,
    /// `known-bug-backend: sqlite|postgres`: the bug shows on that backend only.
    known_bug_backend: Option<String>,
    /// The request may write (default: only when the expected status is 2xx).
    writes: bool,
    then: Vec<Then>,
    sqlite_only: bool,
}

/// `\n`, `\r`, `\t`, `\\`, `\xHH` (a byte), `\u{H…}` in texts of `contains`/`lacks`.
fn unescape_text(s: &str) -> String {
    String::from_utf8_lossy(&unescape(s, Encoding::Utf8)).into_owned()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Utf8,
    Latin1,
    Utf16Le,
    Utf16Be,
}

fn encode_char(c: char, enc: Encoding, out: &mut Vec<u8>) {
    match enc {
        Encoding::Utf8 => {
            let mut buf = [0; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        }
        // Characters above U+00FF have no Latin-1 byte: `?`, as a careless encoder writes.
        Encoding::Latin1 => out.push(u8::try_from(u32::from(c)).unwrap_or(b'?')),
        Encoding::Utf16Le | Encoding::Utf16Be => {
            let mut buf = [0; 2];
            for unit in c.encode_utf16(&mut buf) {
                let bytes = if enc == Encoding::Utf16Le {
                    unit.to_le_bytes()
                } else {
                    unit.to_be_bytes()
                };
                out.extend_from_slice(&bytes);
            }
        }
    }
}

/// The bytes of `text` in `enc`, with the escapes of [`unescape_text`] (a `\xHH` is that byte,
/// whatever the encoding).
fn unescape(text: &str, enc: Encoding) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            encode_char(c, enc, &mut out);
            continue;
        }
        match chars.next() {
            Some('n') => encode_char('\n', enc, &mut out),
            Some('r') => encode_char('\r', enc, &mut out),
            Some('t') => encode_char('\t', enc, &mut out),
            Some('\\') => encode_char('\\', enc, &mut out),
            Some('x') => {
                let hex: String = chars.by_ref().take(2).collect();
                match u8::from_str_radix(&hex, 16) {
                    Ok(b) => out.push(b),
                    Err(_) => {
                        for c in format!("\\x{hex}").chars() {
                            encode_char(c, enc, &mut out);
                        }
                    }
                }
            }
            Some('u') if chars.peek() == Some(&'{') => {
                chars.next();
                let hex: String = chars.by_ref().take_while(|c| *c != '}').collect();
                match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    Some(ch) => encode_char(ch, enc, &mut out),
                    None => {
                        for c in format!("\\u{{{hex}}}").chars() {
                            encode_char(c, enc, &mut out);
                        }
                    }
                }
            }
            Some(other) => {
                encode_char('\\', enc, &mut out);
                encode_char(other, enc, &mut out);
            }
            None => encode_char('\\', enc, &mut out),
        }
    }
    out
}

/// `{{repeat N|text}}`: `text` N times, `{i}` in it replaced by the repetition's number (0 …).
fn expand_repeats(text: &str) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{repeat ") {
        out.push_str(&rest[..start]);
        let after = &rest[start + "{{repeat ".len()..];
        let end = after
            .find("}}")
            .ok_or("`{{repeat` without its closing `}}`")?;
        let (count, unit) = after[..end]
            .split_once('|')
            .ok_or("`{{repeat N|text}}` expected")?;
        let count: usize = count
            .trim()
            .parse()
            .map_err(|_| format!("repeat count `{count}`"))?;
        if unit.contains("{i}") {
            for i in 0..count {
                out.push_str(&unit.replace("{i}", &i.to_string()));
            }
        } else {
            out.push_str(&unit.repeat(count));
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Reads one case file.
fn parse_case(root: &Path, file: &Path) -> Result<Case, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("cannot read: {e}"))?;
    let rel = file.strip_prefix(root).unwrap_or(file);
    let id = rel
        .with_extension("")
        .to_string_lossy()
        .replace(std::path::MAIN_SEPARATOR, "/");
    let area = id.split('/').next().unwrap_or_default().to_owned();
    let (head, inline_body) = match text.split_once("\n--- body\n") {
        Some((h, b)) => (h, Some(b.strip_suffix('\n').unwrap_or(b))),
        None => (text.as_str(), None),
    };
    let mut case = Case {
        id,
        area,
        title: String::new(),
        method: String::new(),
        path: String::new(),
        headers: Vec::new(),
        auth: Auth::Admin,
        body: Vec::new(),
        sending: Sending::Normal,
        expect: Expect::default(),
        known_bug: None,
        known_bug_backend: None,
        writes: false,
        then: Vec::new(),
        sqlite_only: false,
    };
    let (mut base, mut replaces, mut escapes, mut encoding) =
        (None, Vec::new(), false, Encoding::Utf8);
    let mut writes = None;
    let mut actual = Expect::default();
    let mut bug = None;
    for line in head.lines() {
        let line = line.trim_end();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = line
            .split_once(':')
            .map(|(k, v)| (k.trim(), v.trim()))
            .ok_or_else(|| format!("`{line}`: `key: value` expected"))?;
        match key {
            "title" => case.title = value.to_owned(),
            "request" => {
                let (m, p) = value
                    .split_once(' ')
                    .ok_or("request: `METHOD /path` expected")?;
                case.method = m.to_ascii_uppercase();
                case.path = expand_repeats(p.trim())?;
            }
            "header" => {
                let (n, v) = value
                    .split_once(':')
                    .ok_or("header: `Name: value` expected")?;
                case.headers
                    .push((n.trim().to_owned(), expand_repeats(v.trim())?));
            }
            "auth" => {
                case.auth = match value {
                    "admin" => Auth::Admin,
                    "basic" => Auth::Basic,
                    "bearer" => Auth::Bearer,
                    "none" => Auth::None,
                    "wrong" => Auth::Wrong,
                    s if s.starts_with("scopes ") => Auth::Scopes(s["scopes ".len()..].to_owned()),
                    other => return Err(format!("unknown auth `{other}`")),
                }
            }
            "base" => base = Some(value.to_owned()),
            "replace" => {
                let (from, to) = match value.strip_suffix(" =>") {
                    Some(from) => (from, ""),
                    None => value
                        .split_once(" => ")
                        .ok_or("replace: `old => new` expected")?,
                };
                replaces.push((from.to_owned(), to.to_owned()));
            }
            "escapes" => escapes = value == "on",
            "encoding" => {
                encoding = match value {
                    "utf-8" => Encoding::Utf8,
                    "latin-1" => Encoding::Latin1,
                    "utf-16le" => Encoding::Utf16Le,
                    "utf-16be" => Encoding::Utf16Be,
                    other => return Err(format!("unknown encoding `{other}`")),
                }
            }
            "send" => {
                let mut words = value.split_whitespace();
                let (mode, n) = (words.next(), words.next().and_then(|n| n.parse().ok()));
                case.sending = match (mode, n) {
                    (Some("normal"), _) => Sending::Normal,
                    (Some("stall-after"), Some(n)) => Sending::StallAfter(n),
                    (Some("truncate-after"), Some(n)) => Sending::TruncateAfter(n),
                    _ => return Err(format!("send: `{value}`")),
                }
            }
            "writes" => writes = Some(value == "yes"),
            "backends" => case.sqlite_only = value == "sqlite",
            "then" => case.then.push(parse_then(value)?),
            "known-bug" => bug = Some(value.to_owned()),
            "known-bug-backend" => case.known_bug_backend = Some(value.to_ascii_lowercase()),
            k if k.starts_with("expect-") => case.expect.set(&k["expect-".len()..], value)?,
            k if k.starts_with("actual-") => actual.set(&k["actual-".len()..], value)?,
            other => return Err(format!("unknown key `{other}`")),
        }
    }
    if case.title.is_empty() || case.method.is_empty() || case.expect.status.len() != 1 {
        return Err("title, request and one expect-status are mandatory".into());
    }
    if let Some(description) = bug {
        if actual.is_empty() {
            return Err("known-bug needs the current behaviour (actual-status …)".into());
        }
        case.known_bug = Some((description, actual));
    }
    let mut body = match (base, inline_body) {
        (Some(_), Some(_)) => return Err("either `base:` or a `--- body`, not both".into()),
        (Some(b), None) => std::fs::read_to_string(root.join("_bases").join(&b))
            .map_err(|e| format!("base {b}: {e}"))?,
        (None, Some(b)) => b.to_owned(),
        (None, None) => String::new(),
    };
    body = expand_repeats(&body)?;
    for (from, to) in replaces {
        let (from, to) = (expand_repeats(&from)?, expand_repeats(&to)?);
        if !body.contains(&from) {
            return Err(format!("replace: `{from}` is not in the body"));
        }
        body = body.replacen(&from, &to, 1);
    }
    case.body = if escapes || encoding != Encoding::Utf8 {
        if escapes {
            unescape(&body, encoding)
        } else {
            let mut out = Vec::new();
            for c in body.chars() {
                encode_char(c, encoding, &mut out);
            }
            out
        }
    } else {
        body.into_bytes()
    };
    let status = case.expect.status.first().copied().unwrap_or_default();
    case.writes = writes.unwrap_or((200..300).contains(&status));
    Ok(case)
}

fn parse_then(value: &str) -> Result<Then, String> {
    let rest = value
        .strip_prefix("GET ")
        .ok_or("then: `GET /path /pointer = <json>` expected")?;
    let (path, check) = rest
        .trim()
        .split_once(' ')
        .ok_or("then: `GET /path /pointer = <json>` expected")?;
    let (pointer, value) = pointer_value(check)?;
    Ok(Then {
        path: path.to_owned(),
        pointer,
        value,
    })
}

fn case_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.filter_map(Result::ok).collect();
    entries.sort_by_key(std::fs::DirEntry::path);
    for entry in entries {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() && !name.starts_with('_') {
            case_files(&path, out)?;
        } else if name.ends_with(".case") {
            out.push(path);
        }
    }
    Ok(())
}

/// Every case of the corpus (a file that cannot be read is a failure of its own).
fn load_cases() -> Result<(Vec<Case>, Vec<String>), Failure> {
    let root = PathBuf::from(CORPUS);
    let mut files = Vec::new();
    case_files(&root, &mut files)?;
    let only = std::env::var("BAD_INPUT_CASE").unwrap_or_default();
    let (mut cases, mut broken) = (Vec::new(), Vec::new());
    for file in files {
        match parse_case(&root, &file) {
            Ok(c) if only.split(',').any(|o| c.id.contains(o)) => cases.push(c),
            Ok(_) => {}
            Err(e) => broken.push(format!("{}: {e}", file.display())),
        }
    }
    Ok((cases, broken))
}

// ----------------------------------------------------------------------------------- sending

/// What came back.
#[derive(Debug, Default)]
struct Answer {
    /// 0: no answer.
    status: u16,
    content_type: String,
    body: Vec<u8>,
    /// Why there was no answer.
    note: String,
}

impl Answer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

struct Runner<'a> {
    app: &'a TestApp,
    secrets: HashMap<String, (String, String)>,
}

fn is_soap(path: &str) -> bool {
    path.contains("/services/")
}

impl Runner<'_> {
    /// The `Authorization` value of `auth` on `path`.
    async fn authorization(&mut self, auth: &Auth, path: &str) -> Option<String> {
        use base64::Engine as _;
        let basic = |name: &str, secret: &str| {
            let raw = format!("{name}:{secret}");
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(raw)
            )
        };
        let admin = self.app.admin_token.clone();
        match auth {
            Auth::None => None,
            Auth::Admin if is_soap(path) => Some(basic("admin", &admin)),
            Auth::Admin | Auth::Bearer => Some(format!("Bearer {admin}")),
            Auth::Basic => Some(basic("admin", &admin)),
            Auth::Wrong if is_soap(path) => Some(basic("admin", "apg_wrong-secret")),
            Auth::Wrong => Some("Bearer apg_wrong-secret".to_owned()),
            Auth::Scopes(scopes) => {
                if !self.secrets.contains_key(scopes) {
                    let name = format!("corpus{}", self.secrets.len() + 1);
                    let secret = self.app.client_with(&name, scopes).await;
                    self.secrets.insert(scopes.clone(), (name, secret));
                }
                let (name, secret) = self.secrets.get(scopes)?;
                Some(if is_soap(path) {
                    basic(name, secret)
                } else {
                    format!("Bearer {secret}")
                })
            }
        }
    }

    async fn send(&mut self, case: &Case) -> Answer {
        let mut headers = case.headers.clone();
        if !headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("authorization"))
            && let Some(value) = self.authorization(&case.auth, &case.path).await
        {
            headers.push(("Authorization".into(), value));
        }
        match case.sending {
            Sending::Normal => self.send_whole(case, &headers).await,
            Sending::StallAfter(n) | Sending::TruncateAfter(n) => {
                let (addr, case) = (self.app.base.replace("http://", ""), case.clone());
                let truncate = matches!(case.sending, Sending::TruncateAfter(_));
                // A stalled body must be cut after the idle delay: no need to wait longer.
                let within = if truncate {
                    ANSWER_WITHIN
                } else {
                    Duration::from_secs(IDLE_SECS + 5)
                };
                tokio::task::spawn_blocking(move || {
                    raw_exchange(&addr, &case, &headers, n, truncate, within)
                })
                .await
                .unwrap_or_else(|e| Answer {
                    note: format!("raw exchange: {e}"),
                    ..Answer::default()
                })
            }
        }
    }

    async fn send_whole(&self, case: &Case, headers: &[(String, String)]) -> Answer {
        let method =
            reqwest::Method::from_bytes(case.method.as_bytes()).unwrap_or(reqwest::Method::GET);
        let mut req = self
            .app
            .http
            .request(method, self.app.url(&case.path))
            .timeout(ANSWER_WITHIN);
        for (n, v) in headers {
            req = req.header(n.as_str(), v.as_str());
        }
        if !case.body.is_empty() {
            req = req.body(case.body.clone());
        }
        match req.send().await {
            Ok(res) => {
                let status = res.status().as_u16();
                let content_type = res
                    .headers()
                    .get(reqwest::header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                match res.bytes().await {
                    Ok(body) => Answer {
                        status,
                        content_type,
                        body: body.to_vec(),
                        note: String::new(),
                    },
                    Err(e) => Answer {
                        status,
                        content_type,
                        note: format!("body not read: {e}"),
                        ..Answer::default()
                    },
                }
            }
            Err(e) => Answer {
                note: format!("no answer: {e}"),
                ..Answer::default()
            },
        }
    }
}

/// One request written by hand on a TCP connection: the head with the body's full length, the
/// first `n` bytes of the body, then silence (`truncate`: the write side closed); the answer
/// read until the server closes or `within`.
fn raw_exchange(
    addr: &str,
    case: &Case,
    headers: &[(String, String)],
    n: usize,
    truncate: bool,
    within: Duration,
) -> Answer {
    let fail = |note: String| Answer {
        note,
        ..Answer::default()
    };
    let mut stream = match std::net::TcpStream::connect(addr) {
        Ok(s) => s,
        Err(e) => return fail(format!("connect: {e}")),
    };
    let _ = stream.set_read_timeout(Some(within));
    let mut head = format!("{} {} HTTP/1.1\r\nHost: {addr}\r\n", case.method, case.path);
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        case.body.len()
    ));
    let sent = case.body.get(..n.min(case.body.len())).unwrap_or_default();
    if let Err(e) = stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(sent))
        .and_then(|()| stream.flush())
    {
        return fail(format!("write: {e}"));
    }
    if truncate {
        let _ = stream.shutdown(std::net::Shutdown::Write);
    }
    let started = std::time::Instant::now();
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(k) => {
                raw.extend_from_slice(&buf[..k]);
                if complete(&raw) {
                    break;
                }
            }
            Err(e) => {
                if raw.is_empty() {
                    return fail(format!(
                        "no answer after {:.1} s: {e}",
                        started.elapsed().as_secs_f64()
                    ));
                }
                break;
            }
        }
    }
    parse_raw_answer(&raw)
}

/// Whether a raw answer holds its whole body (by `Content-Length`).
fn complete(raw: &[u8]) -> bool {
    let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
        return false;
    };
    let head = String::from_utf8_lossy(&raw[..end]).to_ascii_lowercase();
    head.lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())
        .is_some_and(|len| raw.len() >= end + 4 + len)
}

fn parse_raw_answer(raw: &[u8]) -> Answer {
    let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Answer {
            note: format!("unreadable answer: {}", String::from_utf8_lossy(raw)),
            ..Answer::default()
        };
    };
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_default();
    let header = |name: &str| {
        head.lines().find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_owned())
        })
    };
    let mut body = raw[end + 4..].to_vec();
    if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        body = dechunk(&body);
    }
    Answer {
        status,
        content_type: header("content-type").unwrap_or_default(),
        body,
        note: String::new(),
    }
}

fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(line_end) = raw.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(String::from_utf8_lossy(&raw[..line_end]).trim(), 16)
            .unwrap_or_default();
        raw = &raw[line_end + 2..];
        if size == 0 || raw.len() < size {
            break;
        }
        out.extend_from_slice(&raw[..size]);
        raw = raw.get(size + 2..).unwrap_or_default();
    }
    out
}

// ---------------------------------------------------------------------------------- checking

/// The channel an endpoint answers in: its error shape and where its key is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Channel {
    Soap,
    Rest,
    Cnous,
    Facade,
    Other,
}

fn channel(method: &str, path: &str) -> Channel {
    if path.starts_with("/api/attestation") {
        Channel::Cnous
    } else if path.starts_with("/apo-ws/") || path.starts_with("/ines/") {
        Channel::Facade
    } else if is_soap(path) && method == "POST" {
        Channel::Soap
    } else if path.starts_with("/api/") || path.starts_with("/health") || path == "/metrics" {
        Channel::Rest
    } else {
        Channel::Other
    }
}

/// The text of the first `<name>` element (unqualified, as the fault's children are).
fn xml_text(xml: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&format!("</{name}>"))? + start;
    Some(xml[start..end].to_owned())
}

fn well_formed(xml: &[u8]) -> Result<(), String> {
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut buf = Vec::new();
    let mut depth = 0i64;
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(quick_xml::events::Event::Eof) => {
                return if depth == 0 {
                    Ok(())
                } else {
                    Err("unclosed elements".into())
                };
            }
            Ok(quick_xml::events::Event::Start(_)) => depth += 1,
            Ok(quick_xml::events::Event::End(_)) => depth -= 1,
            Ok(_) => {}
            Err(e) => return Err(e.to_string()),
        }
        buf.clear();
    }
}

/// What the answer says, read in its channel's format.
#[derive(Debug, Default)]
struct Reading {
    fault: Option<String>,
    faultcode: Option<String>,
    problem_type: Option<String>,
    json: Option<Value>,
    /// Shape defects of an error answer.
    defects: Vec<String>,
}

fn read_answer(ch: Channel, a: &Answer) -> Reading {
    let mut r = Reading {
        json: serde_json::from_slice(&a.body).ok(),
        ..Reading::default()
    };
    let error = a.status >= 400;
    let text = a.text();
    let non_empty = |v: Option<&Value>| {
        v.and_then(Value::as_str)
            .is_some_and(|s| !s.trim().is_empty())
    };
    match ch {
        Channel::Soap if a.status != 0 => {
            if !a.content_type.starts_with("text/xml") {
                r.defects.push(format!(
                    "content type {:?}, text/xml expected",
                    a.content_type
                ));
            }
            if let Err(e) = well_formed(&a.body) {
                r.defects
                    .push(format!("answer is not well-formed XML: {e}"));
            }
            r.fault = xml_text(&text, "faultstring");
            r.faultcode = xml_text(&text, "faultcode")
                .map(|c| c.rsplit(':').next().unwrap_or_default().to_owned());
            if error {
                if r.fault.as_deref().is_none_or(str::is_empty) {
                    r.defects.push("fault without faultstring".into());
                }
                if xml_text(&text, "lastErrorMsg").is_none_or(|m| m.trim().is_empty()) {
                    r.defects.push("fault without lastErrorMsg".into());
                }
            }
        }
        Channel::Rest if error => {
            let p = r.json.clone().unwrap_or_default();
            if !a.content_type.starts_with("application/problem+json") {
                r.defects.push(format!(
                    "content type {:?}, application/problem+json expected",
                    a.content_type
                ));
            }
            r.fault = p["faultKey"].as_str().map(str::to_owned);
            r.problem_type = p["type"].as_str().map(|t| {
                t.trim_start_matches("urn:apogee-gateway:problem:")
                    .to_owned()
            });
            if !non_empty(p.get("faultKey")) || !non_empty(p.get("detail")) {
                r.defects
                    .push("problem body without faultKey or detail".into());
            }
            if p["status"].as_u64() != Some(u64::from(a.status)) {
                r.defects.push(format!(
                    "problem status {} ≠ HTTP {}",
                    p["status"], a.status
                ));
            }
        }
        Channel::Cnous if error => {
            let p = r.json.clone().unwrap_or_default();
            if p["code"].as_str() != Some(a.status.to_string().as_str())
                || !non_empty(p.get("message"))
            {
                r.defects
                    .push("CNOUS error body {code, message} expected".into());
            }
        }
        Channel::Facade if error => {
            let p = r.json.clone().unwrap_or_default();
            r.fault = p["erreurType"].as_str().map(str::to_owned);
            if !["erreurMsg", "erreurType", "erreurDescription"]
                .iter()
                .all(|k| non_empty(p.get(*k)))
            {
                r.defects.push(
                    "facade error body {erreurMsg, erreurType, erreurDescription} expected".into(),
                );
            }
        }
        _ => {}
    }
    r
}

/// The differences between an answer and what is expected (empty: it matches).
fn differences(e: &Expect, a: &Answer, r: &Reading) -> Vec<String> {
    let mut out = Vec::new();
    if !e.status.is_empty() && !e.status.contains(&a.status) {
        let show = |s: u16| {
            if s == 0 {
                "no answer".to_owned()
            } else {
                s.to_string()
            }
        };
        let got = if a.status == 0 {
            format!("no answer ({})", a.note)
        } else {
            a.status.to_string()
        };
        let wanted: Vec<String> = e.status.iter().map(|s| show(*s)).collect();
        out.push(format!("status {got}, expected {}", wanted.join(" or ")));
    }
    if let Some(f) = &e.fault
        && r.fault.as_ref() != Some(f)
    {
        out.push(format!("key {:?}, expected {f}", r.fault));
    }
    if let Some(f) = &e.faultcode
        && r.faultcode.as_ref() != Some(f)
    {
        out.push(format!("faultcode {:?}, expected {f}", r.faultcode));
    }
    if let Some(t) = &e.problem_type
        && r.problem_type.as_ref() != Some(t)
    {
        out.push(format!("problem type {:?}, expected {t}", r.problem_type));
    }
    let text = a.text();
    for c in &e.contains {
        if !text.contains(c.as_str()) {
            out.push(format!("body lacks {c:?}"));
        }
    }
    for c in &e.lacks {
        if text.contains(c.as_str()) {
            out.push(format!("body contains {c:?}"));
        }
    }
    for (pointer, want) in &e.json {
        let got = r.json.as_ref().and_then(|j| j.pointer(pointer)).cloned();
        if got.as_ref().unwrap_or(&Value::Null) != want {
            out.push(format!("{pointer} = {got:?}, expected {want}"));
        }
    }
    out
}

// ---------------------------------------------------------------------------- state checks

async fn get_json(app: &TestApp, path: &str) -> Result<(u16, Value), Failure> {
    let res = app.get(path).timeout(ANSWER_WITHIN).send().await?;
    let status = res.status().as_u16();
    let body = res.bytes().await?;
    Ok((status, serde_json::from_slice(&body).unwrap_or(Value::Null)))
}

/// What must not change when a request is refused: counts, the fixture records, the store.
async fn snapshot(app: &TestApp) -> Result<BTreeMap<String, String>, Failure> {
    let mut s = BTreeMap::new();
    for (name, path) in [
        ("opi", "/api/v1/opi?limit=1"),
        ("laissez-passer", "/api/v1/laissez-passer?limit=1"),
        ("etudiants", "/api/v1/etudiants?limit=1"),
        ("cvec attestations", "/api/v1/cvec/attestations?limit=1"),
        ("cvec checks", "/api/v1/cvec/checks?limit=1"),
    ] {
        let (_, v) = get_json(app, path).await?;
        s.insert(format!("{name} (count)"), v["meta"]["total"].to_string());
    }
    let (_, tables) = get_json(app, "/api/v1/referential").await?;
    s.insert("referential".into(), tables.to_string());
    for (name, path) in [
        ("OPI JVMWT75DRZ", format!("/api/v1/opi/{FIXTURE_OPI}")),
        ("its pieces", format!("/api/v1/opi/{FIXTURE_OPI}/pj")),
        (
            "étudiant 10000001",
            format!("/api/v1/etudiants/{FIXTURE_STUDENT}"),
        ),
        ("duplicates", "/api/v1/opi/duplicates".to_owned()),
    ] {
        let (status, v) = get_json(app, &path).await?;
        s.insert(name.into(), format!("{status} {v}"));
    }
    let res = app
        .get(&format!(
            "/apo-ws/services/PJ/info?codEtu={FIXTURE_STUDENT}&codTpj=PJ01"
        ))
        .send()
        .await?;
    s.insert("student pieces (PJ facade)".into(), res.text().await?);
    let store = app.state.storage.clone();
    s.insert("stored files".into(), store.keys()?.len().to_string());
    s.insert(
        "interrupted uploads (tmp/)".into(),
        std::fs::read_dir(store.tmp_dir())?.count().to_string(),
    );
    Ok(s)
}

fn changed(before: &BTreeMap<String, String>, after: &BTreeMap<String, String>) -> Vec<String> {
    before
        .iter()
        .filter(|(k, v)| after.get(*k) != Some(*v))
        .map(|(k, v)| {
            let now = after.get(k).map_or("-", String::as_str);
            let (a, b): (Vec<char>, Vec<char>) = (v.chars().collect(), now.chars().collect());
            let at = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
            let around = |s: &[char]| {
                s[at.saturating_sub(60).min(s.len())..(at + 120).min(s.len())]
                    .iter()
                    .collect::<String>()
            };
            format!(
                "written although refused: {k} was …{}… now …{}…",
                around(&a),
                around(&b)
            )
        })
        .collect()
}

async fn then_checks(app: &TestApp, case: &Case) -> Result<Vec<String>, Failure> {
    let mut out = Vec::new();
    for t in &case.then {
        let (status, v) = get_json(app, &t.path).await?;
        let got = if t.pointer == "status" {
            Value::from(status)
        } else {
            v.pointer(&t.pointer).cloned().unwrap_or(Value::Null)
        };
        if got != t.value {
            out.push(format!(
                "then GET {} {}: {got}, expected {}",
                t.path, t.pointer, t.value
            ));
        }
    }
    Ok(out)
}

// ------------------------------------------------------------------------------------ running

/// The records the cases refer to: the captured OPI with an LP and a piece, a student piece.
async fn fixtures(app: &TestApp) -> TestResult {
    let base = |name: &str| std::fs::read_to_string(Path::new(CORPUS).join("_bases").join(name));
    for (service, file) in [
        ("OpiMetier", "opi-v10.xml"),
        ("LaissezPasserMetier", "lp-v1.xml"),
        ("PjOpiMetier", "pj.xml"),
    ] {
        let (status, body) = app.soap(service, base(file)?).await?;
        assert_eq!(status, 200, "fixture {file}: {body}");
    }
    let res = app
        .put(&format!(
            "/api/v1/etudiants/{FIXTURE_STUDENT}/pj/2026/PJ01?nomFic=releve.pdf"
        ))
        .header("Content-Type", "application/pdf")
        .body(b"%PDF-1.4\n% bad-input corpus fixture\n%%EOF\n".to_vec())
        .send()
        .await?;
    assert_eq!(
        res.status(),
        204,
        "fixture student piece: {}",
        res.text().await?
    );
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Passed,
    KnownBug,
    Failed,
}

/// Runs one case; its verdict and what is wrong.
async fn run_case(
    runner: &mut Runner<'_>,
    case: &Case,
    backend: Backend,
) -> Result<(Verdict, Vec<String>), Failure> {
    let app = runner.app;
    let before = if case.writes {
        None
    } else {
        Some(snapshot(app).await?)
    };
    let answer = runner.send(case).await;
    let ch = channel(&case.method, &case.path);
    let reading = read_answer(ch, &answer);
    if std::env::var("BAD_INPUT_VERBOSE").is_ok() {
        println!(
            "  {} -> {} {:?} {:?} {}",
            case.id,
            answer.status,
            reading.fault,
            reading.faultcode,
            answer
                .text()
                .replace('\n', " ")
                .chars()
                .take(300)
                .collect::<String>()
        );
    }
    let mut problems = differences(&case.expect, &answer, &reading);
    let mut verdict = Verdict::Passed;
    let here = format!("{backend:?}").to_ascii_lowercase();
    let known_bug = case
        .known_bug
        .as_ref()
        .filter(|_| case.known_bug_backend.as_ref().is_none_or(|b| *b == here));
    if let Some((description, actual)) = known_bug {
        let still = differences(actual, &answer, &reading);
        if still.is_empty() {
            println!("  skipped (known bug) {}: {description}", case.id);
            verdict = Verdict::KnownBug;
            problems.clear();
        } else if problems.is_empty() {
            problems.push(format!(
                "known bug fixed? the answer is now the expected one: remove `known-bug` ({description})"
            ));
        } else {
            problems.push(format!(
                "neither the expected nor the known-bug answer ({})",
                still.join("; ")
            ));
        }
    }
    if verdict != Verdict::KnownBug && !case.expect.bare {
        problems.extend(reading.defects.iter().cloned());
    }
    let ready = app
        .http
        .get(app.url("/health/ready"))
        .timeout(ANSWER_WITHIN)
        .send()
        .await;
    match ready {
        Ok(r) if r.status() == 200 => {}
        Ok(r) => problems.push(format!("/health/ready answered {} afterwards", r.status())),
        Err(e) => problems.push(format!("/health/ready did not answer afterwards: {e}")),
    }
    if verdict != Verdict::KnownBug {
        if let Some(before) = before {
            problems.extend(changed(&before, &snapshot(app).await?));
        }
        problems.extend(then_checks(app, case).await?);
    }
    if !problems.is_empty() {
        verdict = Verdict::Failed;
    }
    Ok((verdict, problems))
}

async fn run_corpus(backend: Backend) -> TestResult {
    let (cases, broken) = load_cases()?;
    let Some(app) = TestApp::spawn_with(backend, |s| {
        s.limits.body_idle_timeout_secs = IDLE_SECS;
    })
    .await
    else {
        return Ok(());
    };
    let result = run_all(&app, backend, &cases, broken).await;
    app.stop().await;
    result
}

async fn run_all(
    app: &TestApp,
    backend: Backend,
    cases: &[Case],
    broken: Vec<String>,
) -> TestResult {
    fixtures(app).await?;
    let mut runner = Runner {
        app,
        secrets: HashMap::new(),
    };
    let mut per_area: BTreeMap<String, [usize; 3]> = BTreeMap::new();
    let mut failures = broken;
    for case in cases {
        if case.sqlite_only && matches!(backend, Backend::Postgres) {
            continue;
        }
        let (verdict, problems) = run_case(&mut runner, case, backend).await?;
        let counts = per_area.entry(case.area.clone()).or_default();
        counts[verdict as usize] += 1;
        if verdict == Verdict::Failed {
            failures.push(format!(
                "{} ({}):\n      {}",
                case.id,
                case.title,
                problems.join("\n      ")
            ));
        }
    }
    println!("bad-input corpus on {backend:?}: area, cases, passed, known bugs (skipped), failed");
    let mut total = [0usize; 3];
    for (area, [passed, known, failed]) in &per_area {
        println!(
            "  {area:<22} {:>4} {passed:>7} {known:>6} {failed:>7}",
            passed + known + failed
        );
        total[0] += passed;
        total[1] += known;
        total[2] += failed;
    }
    println!(
        "  {:<22} {:>4} {:>7} {:>6} {:>7}",
        "total",
        total.iter().sum::<usize>(),
        total[0],
        total[1],
        total[2]
    );
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} case(s) of the bad-input corpus failed on {backend:?}:\n  {}",
            failures.len(),
            failures.join("\n  ")
        )
        .into())
    }
}

on_both!(corpus, run_corpus);

/// Whether `path` (query removed) matches the OpenAPI template `template` (`{name}` = one
/// segment).
fn matches_template(template: &str, path: &str) -> bool {
    let path = path.split('?').next().unwrap_or_default();
    let (t, p): (Vec<&str>, Vec<&str>) = (template.split('/').collect(), path.split('/').collect());
    t.len() == p.len()
        && t.iter()
            .zip(&p)
            .all(|(t, p)| t == p || (t.starts_with('{') && t.ends_with('}') && !p.is_empty()))
}

#[test]
fn every_case_reads_and_every_endpoint_has_cases() -> TestResult {
    assert_eq!(
        expand_repeats("<a>{{repeat 3|<b{i}/>}}</a>")?,
        "<a><b0/><b1/><b2/></a>"
    );
    assert_eq!(unescape(r"a\x00b\u{e9}", Encoding::Utf8), b"a\0b\xc3\xa9");
    assert_eq!(unescape("é", Encoding::Latin1), b"\xe9");
    assert_eq!(unescape("é", Encoding::Utf16Le), b"\xe9\x00");
    assert!(matches_template(
        "/api/v1/opi/{code}/pj",
        "/api/v1/opi/X%00/pj?a=1"
    ));
    assert!(!matches_template("/api/v1/opi/{code}", "/api/v1/opi/X/pj"));
    let (cases, broken) = load_cases()?;
    assert!(
        broken.is_empty(),
        "unreadable cases:\n{}",
        broken.join("\n")
    );
    if std::env::var("BAD_INPUT_CASE").is_ok() {
        return Ok(());
    }
    assert!(cases.len() >= 150, "{} cases", cases.len());
    let mut missing = Vec::new();
    // Every REST operation of the OpenAPI document (the facades' included).
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../openapi/openapi.json"
    ))?)?;
    for (template, item) in doc["paths"].as_object().into_iter().flatten() {
        for method in item.as_object().into_iter().flatten().map(|(m, _)| m) {
            let covered = cases.iter().any(|c| {
                c.method.eq_ignore_ascii_case(method) && matches_template(template, &c.path)
            });
            if !covered {
                missing.push(format!("{} {template}", method.to_ascii_uppercase()));
            }
        }
    }
    // Every SOAP operation of every service (of the read services, every served one).
    for service in apogee_gateway::soap::SERVICES {
        let served = service
            .read
            .into_iter()
            .flat_map(|r| r.operations.iter().filter(|o| o.served()).map(|o| o.name));
        for name in service.operations.iter().map(|o| o.name).chain(served) {
            let element = [
                format!(":{name}>"),
                format!(":{name} "),
                format!("<{name} "),
            ];
            let covered = cases.iter().any(|c| {
                let body = String::from_utf8_lossy(&c.body);
                c.path.ends_with(&format!("/{}", service.name))
                    && element.iter().any(|e| body.contains(e.as_str()))
            });
            if !covered {
                missing.push(format!("{} {name}", service.name));
            }
        }
    }
    // The facades outside the OpenAPI document.
    for (method, path) in [
        ("GET", "/apo-ws/services/PJ/info"),
        ("GET", "/apo-ws/services/PJ/fichier"),
        ("POST", "/ines/v1/check-ine"),
        ("GET", "/ines/version"),
    ] {
        if !cases
            .iter()
            .any(|c| c.method == method && matches_template(path, &c.path))
        {
            missing.push(format!("{method} {path}"));
        }
    }
    assert!(
        missing.is_empty(),
        "endpoints without a bad-input case: {missing:?}"
    );
    Ok(())
}
