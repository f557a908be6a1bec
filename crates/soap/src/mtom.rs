//! MTOM/XOP requests (`soap-contract.md` §3.4) and streaming base64 (§3.3).
//!
//! [`parse`] splits a `multipart/related` body into parts **without copying them**: every part is
//! a slice of the request body. The root part (the SOAP envelope) is the one whose `Content-ID`
//! equals the `start` parameter, or the first one; an `xop:Include href="cid:…"` is resolved
//! against the other parts' `Content-ID` (angle brackets dropped, percent-decoding applied). Part
//! bodies are kept byte for byte: the CRLF before a delimiter belongs to the delimiter, nothing
//! else is trimmed. [`Base64Decoder`] decodes base64 text fed in pieces of any size (whitespace
//! and line breaks anywhere) into a writer, so a large `_pj` never sits in memory as text and as
//! bytes at the same time.

use crate::SoapError;
use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use std::borrow::Cow;
use std::io::Write;

/// Most parts accepted in one request (the envelope and its attachments).
const MAX_PARTS: usize = 64;
/// Largest header block of one part, in bytes.
const MAX_HEADER_BYTES: usize = 16 * 1024;

/// A parsed `Content-Type` (or any MIME header with parameters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentType {
    /// `type/subtype`, lower case.
    pub mime: String,
    /// Parameters in order: name lower case, value unquoted.
    pub params: Vec<(String, String)>,
}

impl ContentType {
    /// Parses `type/subtype; name=value; name="quoted; value"` (RFC 2045 syntax; parameter order
    /// and quoting are free, names are case-insensitive).
    pub fn parse(value: &str) -> Self {
        let (mime, mut rest) = match value.find(';') {
            Some(i) => (&value[..i], &value[i + 1..]),
            None => (value, ""),
        };
        let mut params = Vec::new();
        loop {
            rest = rest.trim_start_matches(|c: char| c == ';' || c.is_whitespace());
            if rest.is_empty() {
                break;
            }
            let Some(eq) = rest.find('=') else {
                break;
            };
            let name = rest[..eq].trim().to_ascii_lowercase();
            rest = rest[eq + 1..].trim_start();
            let mut value = String::new();
            if let Some(quoted) = rest.strip_prefix('"') {
                let mut chars = quoted.char_indices();
                let mut end = quoted.len();
                while let Some((i, c)) = chars.next() {
                    match c {
                        '\\' => {
                            if let Some((_, escaped)) = chars.next() {
                                value.push(escaped);
                            }
                        }
                        '"' => {
                            end = i + 1;
                            break;
                        }
                        c => value.push(c),
                    }
                }
                rest = &quoted[end.min(quoted.len())..];
            } else {
                let end = rest.find(';').unwrap_or(rest.len());
                value.push_str(rest[..end].trim());
                rest = &rest[end..];
            }
            params.push((name, value));
        }
        ContentType {
            mime: mime.trim().to_ascii_lowercase(),
            params,
        }
    }

    /// The value of parameter `name` (case-insensitive).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Whether a `Content-Type` announces an MTOM (or any `multipart/related`) message.
pub fn is_multipart_related(content_type: &str) -> bool {
    ContentType::parse(content_type).mime == "multipart/related"
}

/// `Content-Transfer-Encoding` of a part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferEncoding {
    /// `binary`, `8bit`, `7bit` or absent: the bytes are the content.
    Identity,
    /// `base64`: decoded on the way out.
    Base64,
}

/// One MIME part, borrowed from the request body.
#[derive(Debug, Clone)]
pub struct Part<'a> {
    /// `Content-ID` without its angle brackets.
    pub content_id: Option<String>,
    /// `Content-Type`, as sent.
    pub content_type: Option<String>,
    /// `Content-Transfer-Encoding`.
    pub encoding: TransferEncoding,
    /// The body as transmitted (before transfer decoding), byte for byte.
    pub body: &'a [u8],
}

impl<'a> Part<'a> {
    /// The content after transfer decoding (borrowed unless the part is base64).
    pub fn decoded(&self) -> Result<Cow<'a, [u8]>, SoapError> {
        match self.encoding {
            TransferEncoding::Identity => Ok(Cow::Borrowed(self.body)),
            TransferEncoding::Base64 => {
                let mut out = Vec::with_capacity(self.body.len() / 4 * 3);
                let mut dec = Base64Decoder::new(&mut out);
                dec.feed(self.body).map_err(|e| part_error(&e))?;
                dec.finish().map_err(|e| part_error(&e))?;
                Ok(Cow::Owned(out))
            }
        }
    }

    /// Writes the content (after transfer decoding) to `out` in pieces; returns its length.
    pub fn copy_to<W: Write>(&self, out: W) -> Result<u64, Base64Error> {
        match self.encoding {
            TransferEncoding::Identity => {
                let mut out = out;
                for chunk in self.body.chunks(64 * 1024) {
                    out.write_all(chunk).map_err(Base64Error::Write)?;
                }
                Ok(self.body.len() as u64)
            }
            TransferEncoding::Base64 => {
                let mut dec = Base64Decoder::new(out);
                dec.feed(self.body)?;
                Ok(dec.finish()?.1)
            }
        }
    }
}

fn part_error(e: &Base64Error) -> SoapError {
    SoapError::client(format!("Partie MIME en base64 illisible : {e}"))
}

/// A `multipart/related` request split into its parts.
#[derive(Debug, Clone)]
pub struct Multipart<'a> {
    /// Every part, in order.
    pub parts: Vec<Part<'a>>,
    /// Index of the root part (the SOAP envelope) in `parts`.
    pub root: usize,
}

impl<'a> Multipart<'a> {
    /// The root part.
    pub fn root(&self) -> Option<&Part<'a>> {
        self.parts.get(self.root)
    }

    /// The part an `xop:Include href` designates (`cid:` URL, §3.4 rule 4), never the root.
    pub fn resolve(&self, href: &str) -> Option<&Part<'a>> {
        let wanted = cid_of_href(href)?;
        self.parts.iter().enumerate().find_map(|(i, p)| {
            let id = p.content_id.as_deref()?;
            (i != self.root && (id == wanted || percent_decode(id) == wanted)).then_some(p)
        })
    }
}

/// The Content-ID an `href` designates: `cid:` removed (any case), percent-decoding applied.
pub fn cid_of_href(href: &str) -> Option<String> {
    let href = href.trim();
    let rest = href
        .get(..4)
        .filter(|p| p.eq_ignore_ascii_case("cid:"))
        .map(|_| &href[4..])?;
    let id = percent_decode(rest);
    let id = id.trim_start_matches('<').trim_end_matches('>');
    (!id.is_empty()).then(|| id.to_owned())
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = bytes.get(i + 1..i + 3)
            && let Ok(hex) = std::str::from_utf8(hex)
            && let Ok(b) = u8::from_str_radix(hex, 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn strip_brackets(id: &str) -> String {
    id.trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim()
        .to_owned()
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    memchr::memmem::find(haystack.get(from..)?, needle).map(|i| i + from)
}

/// Splits a `multipart/related` body (`content_type` is the HTTP header) into its parts.
pub fn parse<'a>(content_type: &str, body: &'a [u8]) -> Result<Multipart<'a>, SoapError> {
    let ct = ContentType::parse(content_type);
    if ct.mime != "multipart/related" {
        return Err(SoapError::client(format!(
            "Type de contenu {} : multipart/related attendu",
            ct.mime
        )));
    }
    let boundary = ct
        .param("boundary")
        .filter(|b| !b.is_empty() && b.len() <= 200)
        .ok_or_else(|| {
            SoapError::client("multipart/related sans paramètre boundary (ou boundary invalide)")
        })?;
    let dash_boundary = format!("--{boundary}");
    let dash = dash_boundary.as_bytes();

    // The first delimiter may be preceded by a preamble; it starts the body or a line.
    let mut pos = if body.starts_with(dash) {
        0
    } else {
        let line = format!("\n{dash_boundary}");
        find(body, line.as_bytes(), 0)
            .map(|i| i + 1)
            .ok_or_else(|| {
                SoapError::client("Délimiteur MIME (boundary) introuvable dans le corps")
            })?
    };
    let mut parts = Vec::new();
    loop {
        // `pos` is at a delimiter line: `--boundary` then `--` (close) or padding + line break.
        let after = pos + dash.len();
        let rest = body.get(after..).unwrap_or_default();
        if rest.starts_with(b"--") {
            break;
        }
        let eol = rest
            .iter()
            .position(|b| *b == b'\n')
            .ok_or_else(|| SoapError::client("Partie MIME tronquée après le délimiteur"))?;
        if !rest[..eol]
            .iter()
            .all(|b| matches!(b, b' ' | b'\t' | b'\r'))
        {
            return Err(SoapError::client("Ligne de délimiteur MIME mal formée"));
        }
        let crlf = eol > 0 && rest[eol - 1] == b'\r';
        let headers_start = after + eol + 1;
        let (headers, content_start) = read_headers(body, headers_start)?;
        // The part ends at the next delimiter line; its line break belongs to the delimiter.
        let delimiter = if crlf {
            format!("\r\n{dash_boundary}")
        } else {
            format!("\n{dash_boundary}")
        };
        let mut search = content_start;
        let end = loop {
            let found = find(body, delimiter.as_bytes(), search).ok_or_else(|| {
                SoapError::client("Partie MIME non terminée (délimiteur de fin absent)")
            })?;
            let next = body.get(found + delimiter.len()..).unwrap_or_default();
            // `--boundaryXYZ` is not our delimiter: only `--`, blanks or a line break may follow.
            if next.is_empty()
                || next.starts_with(b"--")
                || matches!(next[0], b'\r' | b'\n' | b' ' | b'\t')
            {
                break found;
            }
            search = found + 1;
        };
        parts.push(make_part(&headers, &body[content_start..end])?);
        if parts.len() > MAX_PARTS {
            return Err(SoapError::client(format!(
                "Trop de parties MIME (maximum {MAX_PARTS})"
            )));
        }
        pos = end + delimiter.len() - dash.len();
    }
    if parts.is_empty() {
        return Err(SoapError::client("Message multipart sans aucune partie"));
    }
    let root = match ct.param("start").map(strip_brackets) {
        Some(start) if !start.is_empty() => parts
            .iter()
            .position(|p| p.content_id.as_deref() == Some(start.as_str()))
            .ok_or_else(|| {
                SoapError::client(format!(
                    "Aucune partie MIME ne porte le Content-ID <{start}> désigné par start"
                ))
            })?,
        _ => 0,
    };
    Ok(Multipart { parts, root })
}

/// Header lines from `start` to the blank line; returns `(name lower case, value)` pairs (folded
/// lines unfolded) and the offset of the content.
fn read_headers(body: &[u8], start: usize) -> Result<(Vec<(String, String)>, usize), SoapError> {
    let mut headers: Vec<(String, String)> = Vec::new();
    let mut pos = start;
    loop {
        if pos - start > MAX_HEADER_BYTES {
            return Err(SoapError::client("En-têtes de partie MIME trop longs"));
        }
        let rest = body
            .get(pos..)
            .ok_or_else(|| SoapError::client("En-têtes de partie MIME tronqués"))?;
        let eol = rest
            .iter()
            .position(|b| *b == b'\n')
            .ok_or_else(|| SoapError::client("En-têtes de partie MIME tronqués"))?;
        let line = &rest[..eol];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        pos += eol + 1;
        if line.is_empty() {
            return Ok((headers, pos));
        }
        let line = std::str::from_utf8(line)
            .map_err(|_| SoapError::client("En-tête de partie MIME non ASCII"))?;
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = headers.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
            continue;
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| SoapError::client(format!("En-tête MIME mal formé : {line}")))?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
}

fn make_part<'a>(headers: &[(String, String)], body: &'a [u8]) -> Result<Part<'a>, SoapError> {
    let get = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let encoding = match get("content-transfer-encoding")
        .map(|v| v.trim().to_ascii_lowercase())
        .as_deref()
    {
        None | Some("binary" | "8bit" | "7bit" | "") => TransferEncoding::Identity,
        Some("base64") => TransferEncoding::Base64,
        Some(other) => {
            return Err(SoapError::client(format!(
                "Content-Transfer-Encoding non pris en charge : {other} (binary, 8bit ou base64)"
            )));
        }
    };
    Ok(Part {
        content_id: get("content-id").map(strip_brackets),
        content_type: get("content-type").map(str::to_owned),
        encoding,
        body,
    })
}

/// A base64 decoding failure.
#[derive(Debug, thiserror::Error)]
pub enum Base64Error {
    /// A character outside the base64 alphabet (whitespace excepted).
    #[error("caractère invalide en base64 (octet {byte:#04x})")]
    InvalidCharacter {
        /// The offending byte.
        byte: u8,
    },
    /// Data after the `=` padding, or a misplaced `=`.
    #[error("remplissage « = » mal placé")]
    Padding,
    /// The last group is incomplete (one significant character left over).
    #[error("longueur invalide : le dernier groupe est incomplet")]
    Length,
    /// The writer refused the decoded bytes (size limit, disk full …).
    #[error("écriture interrompue : {0}")]
    Write(std::io::Error),
}

/// Lenient on the final padding (`=` may be omitted), strict on everything else.
const ENGINE: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Significant characters decoded at once (a multiple of 4).
const CHUNK: usize = 8 * 1024;

/// Streaming base64 decoder: feed text in pieces of any size, decoded bytes go to the writer.
/// Whitespace (space, tab, CR, LF) is ignored wherever it is (XML Schema `base64Binary`).
pub struct Base64Decoder<W: Write> {
    out: W,
    pending: Vec<u8>,
    decoded: Vec<u8>,
    padded: bool,
    written: u64,
}

impl<W: Write> Base64Decoder<W> {
    /// A decoder writing into `out`.
    pub fn new(out: W) -> Self {
        Base64Decoder {
            out,
            pending: Vec::with_capacity(CHUNK + 4),
            decoded: vec![0; CHUNK / 4 * 3],
            padded: false,
            written: 0,
        }
    }

    /// Decodes one more piece of text.
    pub fn feed(&mut self, text: &[u8]) -> Result<(), Base64Error> {
        for &b in text {
            match b {
                b' ' | b'\t' | b'\r' | b'\n' => {}
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'+' | b'/' | b'=' => {
                    if self.padded {
                        return Err(Base64Error::Padding);
                    }
                    self.pending.push(b);
                    if self.pending.len() == CHUNK {
                        self.flush_chunk(CHUNK)?;
                    }
                }
                byte => return Err(Base64Error::InvalidCharacter { byte }),
            }
        }
        Ok(())
    }

    fn flush_chunk(&mut self, len: usize) -> Result<(), Base64Error> {
        let chunk = &self.pending[..len];
        let ends_padded = chunk.last() == Some(&b'=');
        let n = ENGINE
            .decode_slice(chunk, &mut self.decoded)
            .map_err(|e| match e {
                base64::DecodeSliceError::DecodeError(base64::DecodeError::InvalidByte(
                    _,
                    b'=',
                ))
                | base64::DecodeSliceError::DecodeError(base64::DecodeError::InvalidPadding) => {
                    Base64Error::Padding
                }
                base64::DecodeSliceError::DecodeError(base64::DecodeError::InvalidByte(
                    _,
                    byte,
                )) => Base64Error::InvalidCharacter { byte },
                _ => Base64Error::Length,
            })?;
        self.out
            .write_all(&self.decoded[..n])
            .map_err(Base64Error::Write)?;
        self.written += n as u64;
        self.pending.drain(..len);
        self.padded = ends_padded;
        Ok(())
    }

    /// Decodes what is left; returns the writer and the number of bytes written.
    pub fn finish(mut self) -> Result<(W, u64), Base64Error> {
        if !self.pending.is_empty() {
            if self.pending.len() % 4 == 1 {
                return Err(Base64Error::Length);
            }
            let len = self.pending.len();
            self.flush_chunk(len)?;
        }
        Ok((self.out, self.written))
    }

    /// Bytes written so far.
    pub fn written(&self) -> u64 {
        self.written
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_type_parameters_in_any_order_and_quoting() {
        let ct = ContentType::parse(
            r#"Multipart/Related; start-info="text/xml"; type="application/xop+xml"; boundary="uuid:1;2"; start=<root*1@x>"#,
        );
        assert_eq!(ct.mime, "multipart/related");
        assert_eq!(ct.param("BOUNDARY"), Some("uuid:1;2"));
        assert_eq!(ct.param("start"), Some("<root*1@x>"));
        assert_eq!(ct.param("type"), Some("application/xop+xml"));
        assert_eq!(ct.param("start-info"), Some("text/xml"));
    }

    #[test]
    fn href_to_content_id() {
        assert_eq!(
            cid_of_href("cid:a%2Ab%40c.org").as_deref(),
            Some("a*b@c.org")
        );
        assert_eq!(cid_of_href("CID:x").as_deref(), Some("x"));
        assert_eq!(cid_of_href("http://x"), None);
    }

    #[test]
    fn base64_in_pieces_with_whitespace() -> Result<(), Base64Error> {
        let mut out = Vec::new();
        let mut dec = Base64Decoder::new(&mut out);
        for piece in ["SGVs", "bG8\r\n", " g", "d29y", "bGQ", "=\n"] {
            dec.feed(piece.as_bytes())?;
        }
        assert_eq!(dec.finish()?.1, 11);
        assert_eq!(out, b"Hello world");
        Ok(())
    }

    #[test]
    fn base64_refusals() {
        let run = |text: &str| {
            let mut out = Vec::new();
            let mut dec = Base64Decoder::new(&mut out);
            dec.feed(text.as_bytes())
                .and_then(|()| dec.finish().map(|_| ()))
        };
        assert!(matches!(
            run("SGVsbG8*"),
            Err(Base64Error::InvalidCharacter { byte: b'*' })
        ));
        assert!(matches!(run("SGVsbA==SGVs"), Err(Base64Error::Padding)));
        assert!(matches!(run("SGVsb"), Err(Base64Error::Length)));
        assert!(run("SGVsbA").is_ok(), "missing final padding is tolerated");
        assert!(run("").is_ok());
    }
}
