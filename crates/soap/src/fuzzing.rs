//! Fuzzing harnesses: one entry per `fuzz/` target of the SOAP codec, shared by the cargo-fuzz
//! targets and the corpus replay tests (`tests/fuzz_corpus.rs`), so both run the same code.
//!
//! Each entry takes arbitrary bytes and **panics** when a result is not sane (an invariant
//! assertion): a panic is what the fuzzer reports. Not an API: hidden from the docs, no
//! stability promise.

use crate::decode::{self, Limits, Request, TextSink};
use crate::mtom::{self, Base64Decoder, Base64Error};
use crate::ops::{self, LpRequest, OpiRequest, PJ_CONTENT_ELEMENT, PjContent, PjRequest};
use crate::{FaultCode, SoapError};
use apogee_domain::opi::dto::DonneesOpi;
use serde_json::Value;
use std::io::Write;

/// Limits small enough for the fuzzer to reach each of them.
pub const SMALL: Limits = Limits {
    max_bytes: 4096,
    max_depth: 6,
    max_elements: 64,
    max_text_bytes: 128,
    max_attributes: 4,
};

/// Splits an input into a `Content-Type` (its first line, when it names a media type) and a
/// body. Without one, the whole input is the body.
pub fn split_content_type(data: &[u8]) -> (Option<String>, &[u8]) {
    if let Some(nl) = data.iter().position(|b| *b == b'\n')
        && let Ok(line) = std::str::from_utf8(&data[..nl])
    {
        let line = line.trim_end_matches('\r');
        if line.contains('/') && !line.starts_with('<') && !line.starts_with("--") {
            return (Some(line.to_owned()), &data[nl + 1..]);
        }
    }
    (None, data)
}

/// A sink that keeps what it receives, up to `limit` bytes (then refuses, as the gateway's
/// size-capped spool does).
struct Collect {
    text: Vec<u8>,
    limit: usize,
}

impl TextSink for Collect {
    fn text(&mut self, chunk: &[u8]) -> Result<(), SoapError> {
        if self.text.len() + chunk.len() > self.limit {
            return Err(SoapError::client("pièce trop volumineuse"));
        }
        self.text.extend_from_slice(chunk);
        Ok(())
    }
}

/// `\r\n` and lone `\r` as `\n` (XML end-of-line handling).
fn eol(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\r', "\n")
}

/// The body without the streamed element.
fn without_streamed(body: &Value) -> Value {
    let mut body = body.clone();
    if let Some(m) = body.as_object_mut() {
        m.remove(PJ_CONTENT_ELEMENT);
    }
    body
}

/// Target `soap_decode`: the bytes as a SOAP request (first line optionally a `Content-Type`),
/// decoded with the default and with small limits, then streamed with a sink.
pub fn soap_decode(data: &[u8]) {
    let (content_type, body) = split_content_type(data);
    let _ = soap_message(body, content_type.as_deref());
}

/// One message through `decode` (default and small limits), `decode_streaming` and the typed
/// requests; returns the default decoding.
pub fn soap_message(body: &[u8], content_type: Option<&str>) -> Result<Request, SoapError> {
    if let Ok(text) = std::str::from_utf8(body) {
        same_namespaces_as_quick_xml(text);
    }
    let full = decode::decode(body, content_type, &Limits::default());
    let small = decode::decode(body, content_type, &SMALL);
    if let Ok(s) = &small {
        assert_eq!(
            full.as_ref().ok(),
            Some(s),
            "accepted with small limits, not with the default ones"
        );
        assert!(
            depth(&s.body()) <= SMALL.max_depth,
            "tree deeper than the limit"
        );
    }
    let mut sink = Collect {
        text: Vec::new(),
        limit: usize::MAX,
    };
    let streamed = decode::decode_streaming(
        body,
        content_type,
        &Limits::default(),
        PJ_CONTENT_ELEMENT,
        &mut sink,
    );
    if let Ok(full) = &full {
        let Ok(s) = &streamed else {
            panic!("decoded without a sink, refused with one: {streamed:?}");
        };
        assert_eq!(
            (&s.namespace, &s.operation, &s.skipped),
            (&full.namespace, &full.operation, &full.skipped)
        );
        assert_eq!(without_streamed(&s.body()), without_streamed(&full.body()));
        if let Some(Value::String(text)) = full.body().get(PJ_CONTENT_ELEMENT) {
            let got = String::from_utf8_lossy(&sink.text);
            assert!(
                eol(&got).ends_with(&eol(text)),
                "the sink got {got:?}, the tree {text:?}"
            );
        }
        typed(full);
    }
    // A sink that refuses past a few bytes stops the decoding with its error.
    let mut capped = Collect {
        text: Vec::new(),
        limit: 8,
    };
    let _ = decode::decode_streaming(body, content_type, &SMALL, PJ_CONTENT_ELEMENT, &mut capped);
    assert!(capped.text.len() <= 8);
    if let Err(e) = &full {
        assert!(!e.message.is_empty());
        let _ = e.fault_key();
    }
    full
}

/// The typed requests of a decoded message (at most one applies; none may panic).
fn typed(req: &Request) {
    // The DTOs read from the tree what they read from its JSON rendering: the same values and
    // ignored paths (in document order from the tree, in key order from JSON), the same
    // acceptance (with several faults, each names the first it meets).
    let body = req.body();
    let donnees = body.get("_donneesOpi").unwrap_or(&Value::Null);
    let outcome = |t: Result<ops::Typed<Option<DonneesOpi>>, SoapError>| {
        t.map(|mut t| {
            t.ignored.sort();
            (t.value, t.ignored)
        })
        .map_err(|_| ())
    };
    assert_eq!(
        outcome(ops::typed_from_item(req.tree.root().get("_donneesOpi"))),
        outcome(ops::typed(donnees)),
        "tree and JSON disagree on {body}"
    );
    if let Some(Ok(opi)) = OpiRequest::from_request(req) {
        let _ = opi.response_wrapper();
    }
    if let Some(Ok(lp)) = LpRequest::from_request(req) {
        let _ = lp.response_wrapper();
    }
    if let Some(Ok(pj)) = PjRequest::from_request(req)
        && let PjContent::Xop(href) = &pj.pj
    {
        let _ = mtom::cid_of_href(href);
    }
}

/// The decoder binds namespaces from its own attribute scan: every element resolves as with
/// quick-xml's `NsReader` (which parses every attribute), up to the first error of either.
fn same_namespaces_as_quick_xml(text: &str) {
    let ((ours, ours_ok), (theirs, theirs_ok)) = namespaces_both_ways(text);
    let n = ours.len().min(theirs.len());
    assert_eq!(ours[..n], theirs[..n], "namespaces differ from quick-xml's");
    if ours_ok && theirs_ok {
        assert_eq!(ours, theirs, "namespaces differ from quick-xml's");
    }
}

type Namespaces = (Vec<Option<String>>, bool);

/// Every element's namespace, and whether the whole text was read: by the decoder's resolution,
/// then by quick-xml's `NsReader`.
fn namespaces_both_ways(text: &str) -> (Namespaces, Namespaces) {
    use quick_xml::events::Event;
    use quick_xml::name::ResolveResult;
    let ours = decode::element_namespaces(text);
    let mut theirs = Vec::new();
    let mut reader = quick_xml::reader::NsReader::from_str(text);
    let theirs_ok = loop {
        match reader.read_resolved_event() {
            Ok((ns, Event::Start(_) | Event::Empty(_))) => theirs.push(match ns {
                ResolveResult::Bound(n) => Some(n.0.to_owned()),
                ResolveResult::Unbound => None,
                ResolveResult::Unknown(p) => Some(format!("?{p}")),
            }),
            Ok((_, Event::Eof)) => break true,
            Ok(_) => {}
            Err(_) => break false,
        }
    };
    (ours, (theirs, theirs_ok))
}

/// Depth of a JSON tree (a leaf is 0).
fn depth(v: &Value) -> usize {
    match v {
        Value::Object(m) => 1 + m.values().map(depth).max().unwrap_or(0),
        Value::Array(a) => a.iter().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

// ---------------------------------------------------------------------------------------------
// mtom

/// A writer refusing past `limit` bytes.
struct Capped {
    out: Vec<u8>,
    limit: usize,
}

impl Write for Capped {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.out.len() + buf.len() > self.limit {
            return Err(std::io::Error::other("limite"));
        }
        self.out.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Base64 text fed in pieces of `piece` bytes.
fn base64_pieces(text: &[u8], piece: usize, limit: usize) -> Result<Vec<u8>, String> {
    let mut dec = Base64Decoder::new(Capped {
        out: Vec::new(),
        limit,
    });
    for chunk in text.chunks(piece.max(1)) {
        dec.feed(chunk).map_err(|e| kind(&e))?;
    }
    let written = dec.written();
    let (out, n) = dec.finish().map_err(|e| kind(&e))?;
    assert!(n >= written && n == out.out.len() as u64);
    Ok(out.out)
}

fn kind(e: &Base64Error) -> String {
    match e {
        Base64Error::Write(_) => "write".into(),
        other => other.to_string(),
    }
}

/// Base64 decoding is independent of how the text is cut, and never longer than 3/4 of it.
pub fn base64(text: &[u8]) {
    let whole = base64_pieces(text, text.len(), usize::MAX);
    for piece in [1, 3, 4096] {
        assert_eq!(
            base64_pieces(text, piece, usize::MAX),
            whole,
            "pieces of {piece}"
        );
    }
    if let Ok(bytes) = &whole {
        assert!(bytes.len() <= text.len() / 4 * 3 + 2);
        if !bytes.is_empty() {
            assert_eq!(
                base64_pieces(text, 7, bytes.len() - 1),
                Err("write".into()),
                "a refusing writer stops the decoding"
            );
        }
    }
}

/// Target `mtom`: the bytes as an MTOM request (first line its `Content-Type`), split by
/// `mtom::parse`; the root part is decoded with `_pj` streamed to a base64 decoder, its
/// `xop:Include` resolved, and every part decoded.
pub fn mtom(data: &[u8]) {
    let (content_type, body) = split_content_type(data);
    let content_type = content_type.unwrap_or_default();
    let _ = mtom::is_multipart_related(&content_type);
    let _ = mtom::ContentType::parse(&content_type);
    let Ok(multipart) = mtom::parse(&content_type, body) else {
        base64(body);
        return;
    };
    assert!(!multipart.parts.is_empty() && multipart.parts.len() <= 64);
    assert!(multipart.root < multipart.parts.len());
    let range = body.as_ptr_range();
    for part in &multipart.parts {
        let inner = part.body.as_ptr_range();
        assert!(
            range.start <= inner.start && inner.end <= range.end,
            "a part is not a slice of the body"
        );
        let decoded = part.decoded();
        let mut copied = Vec::new();
        let copy = part.copy_to(&mut copied);
        match (&decoded, &copy) {
            (Ok(d), Ok(n)) => {
                assert_eq!(d.as_ref(), copied.as_slice());
                assert_eq!(*n, copied.len() as u64);
            }
            (Err(_), Err(_)) => {}
            _ => panic!("decoded() and copy_to() disagree: {decoded:?} / {copy:?}"),
        }
        if part.encoding == mtom::TransferEncoding::Base64 {
            base64(part.body);
        }
    }
    let Some(root) = multipart.root() else {
        panic!("no root part");
    };
    let Ok(envelope) = root.decoded() else {
        return;
    };
    let root_type = root.content_type.as_deref();
    let mut sink = Base64Sink {
        decoder: Some(Base64Decoder::new(Capped {
            out: Vec::new(),
            limit: 1 << 20,
        })),
    };
    let streamed = decode::decode_streaming(
        &envelope,
        root_type,
        &Limits::default(),
        PJ_CONTENT_ELEMENT,
        &mut sink,
    );
    if let Some(dec) = sink.decoder.take() {
        let _ = dec.finish();
    }
    // The sink refuses bad base64: the streamed decoding may fail where the plain one succeeds.
    let _ = streamed;
    if let Ok(req) = soap_message(&envelope, root_type)
        && let Some(Ok(pj)) = PjRequest::from_request(&req)
        && let PjContent::Xop(href) = &pj.pj
        && let Some(part) = multipart.resolve(href)
    {
        assert!(!std::ptr::eq(part, root), "an href resolved to the root");
        let _ = part.decoded();
    }
}

/// The sink the gateway uses for `_pj`: a base64 decoder.
struct Base64Sink {
    decoder: Option<Base64Decoder<Capped>>,
}

impl TextSink for Base64Sink {
    fn text(&mut self, chunk: &[u8]) -> Result<(), SoapError> {
        match &mut self.decoder {
            Some(d) => d
                .feed(chunk)
                .map_err(|e| SoapError::new(FaultCode::Client, e.to_string())),
            None => Ok(()),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// opi_dto, lp_batch

/// Target `opi_dto`: the bytes as a SOAP OPI request (`OpiRequest::from_request`, its payload
/// through the domain's rules) and as an OPI-20 JSON body (`apogee_domain::fuzzing::opi_json`).
pub fn opi_dto(data: &[u8]) {
    let (content_type, body) = split_content_type(data);
    if let Ok(req) = decode::decode(body, content_type.as_deref(), &Limits::default())
        && let Some(Ok(opi)) = OpiRequest::from_request(&req)
        && let Some(d) = &opi.donnees
    {
        apogee_domain::fuzzing::opi_donnees(d);
    }
    apogee_domain::fuzzing::opi_json(data);
}

/// Target `lp_batch`: the bytes as a SOAP laissez-passer request (`LpRequest::from_request`,
/// then `lp::validate`) and as a batch file (`apogee_domain::fuzzing::lp_file`).
pub fn lp_batch(data: &[u8]) {
    let (content_type, body) = split_content_type(data);
    if let Ok(req) = decode::decode(body, content_type.as_deref(), &Limits::default())
        && let Some(Ok(lp)) = LpRequest::from_request(&req)
    {
        apogee_domain::fuzzing::lp_params(&lp.params, lp.version);
    }
    apogee_domain::fuzzing::lp_file(data);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_harnesses_accept_valid_input() {
        let envelope = b"<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body>\
            <m:recupererPiecesJustificativesOPIWS xmlns:m=\"gouv.education.apogee.commun.servicesmetiers.PjOpiMetier\">\
            <_pj>SGVs\r\nbG8=</_pj></m:recupererPiecesJustificativesOPIWS></s:Body></s:Envelope>";
        assert!(soap_message(envelope, None).is_ok());
        soap_decode(envelope);
        base64(b"SGVs bG8=");
        mtom(b"multipart/related; boundary=b\n--b\r\n\r\nx\r\n--b--\r\n");
        opi_dto(b"{}");
        lp_batch(b"typLpa,codAnu,numOPI,codEtp,codVrsVet\n");
    }
    /// The tree names the elements a DTO ignores as `serde_ignored` names them over the JSON
    /// rendering: at the top, in a block, in the second of two vœux (with its index), an unknown
    /// repeated name (without one), an unknown block (its content not walked).
    #[test]
    fn ignored_elements_are_named_as_serde_ignored_names_them() {
        let captured =
            include_str!("../tests/examples/captured/jaxws-mettreajourDonneesOpi_v10-create.xml");
        let second_item = captured.rfind("<item>").unwrap_or_default() + "<item>".len();
        let mut msg = captured.to_owned();
        msg.insert_str(second_item, "<inconnuVoeu>1</inconnuVoeu>");
        let msg = msg
            .replacen("<bac>", "<bac><inconnuBac>1</inconnuBac>", 1)
            .replacen(
                "<_donneesOpi>",
                "<_donneesOpi><inconnu><a>1</a><b>2</b></inconnu><item>x</item><item>y</item>",
                1,
            );
        let req = match decode::decode(msg.as_bytes(), None, &Limits::default()) {
            Ok(req) => req,
            Err(e) => panic!("not decoded: {e:?}"),
        };
        let body = req.body();
        let json =
            ops::typed::<Option<DonneesOpi>>(body.get("_donneesOpi").unwrap_or(&Value::Null));
        let tree = ops::typed_from_item::<Option<DonneesOpi>>(req.tree.root().get("_donneesOpi"));
        let (json, tree) = match (json, tree) {
            (Ok(json), Ok(tree)) => (json, tree),
            other => panic!("not read: {other:?}"),
        };
        let expected = [
            "inconnu",
            "item",
            "bac.inconnuBac",
            "voeux.item.1.inconnuVoeu",
        ];
        assert_eq!(tree.ignored, expected, "document order");
        let mut sorted = json.ignored;
        sorted.sort();
        let mut ours = tree.ignored;
        ours.sort();
        assert_eq!(ours, sorted);
        assert_eq!(tree.value, json.value);
    }

    /// Empty elements resolve with their own declarations without opening a scope: the cases
    /// where that could differ from quick-xml's `NsReader` (the declaration naming the element
    /// itself, the next sibling, reserved prefixes and URIs, unbinding, the binding limit).
    #[test]
    fn empty_elements_resolve_their_names_as_quick_xml_does() {
        let cases = [
            r#"<a><p:b xmlns:p="u1"/><p:c/></a>"#,
            r#"<a xmlns="d0"><b xmlns="d1"/><c/></a>"#,
            r#"<a xmlns:p="u0"><p:b xmlns:p="u1" p:x="1"/><p:c/></a>"#,
            r#"<a><b xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:nil="true"/><xsi:c/></a>"#,
            r#"<a><b xmlns:xml="http://www.w3.org/XML/1998/namespace"/></a>"#,
            r#"<a><b xmlns:xml="other"/></a>"#,
            r#"<a><b xmlns:xmlns="u"/></a>"#,
            r#"<a><b xmlns:p="http://www.w3.org/XML/1998/namespace"/></a>"#,
            r#"<a><b xmlns:p="http://www.w3.org/2000/xmlns/"/></a>"#,
            r#"<a xmlns="d0"><b xmlns=""/><c/></a>"#,
            r#"<a xmlns:p="u0"><p:b xmlns:p=""/></a>"#,
            r#"<a><b xmlns:="u"/><c/></a>"#,
            r#"<a><q:b xmlns:q:r="u"/></a>"#,
            r#"<a><b xmlnsp="u"/><p:c/></a>"#,
        ];
        for case in cases {
            let (ours, theirs) = namespaces_both_ways(case);
            assert_eq!(ours, theirs, "{case}");
        }
        // At quick-xml's limit of 128 bindings in scope, one more on an empty element fails.
        let mut deep = String::new();
        for i in 0..127 {
            deep.push_str(&format!("<e{i} xmlns:p{i}=\"u{i}\">"));
        }
        for tail in ["<x xmlns:y=\"u\"/>", "<x xmlns:y=\"u\" xmlns:z=\"v\"/>"] {
            let case = format!("{deep}{tail}");
            let (ours, theirs) = namespaces_both_ways(&case);
            assert_eq!(ours, theirs, "{tail}");
        }
    }
}
