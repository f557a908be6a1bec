//! Hardened SOAP 1.1 request decoder.
//!
//! One pass of quick-xml's namespace-aware reader over the message: the envelope and body are
//! recognised by namespace URI (any prefix), the body's request wrapper is turned into a JSON
//! value that the DTOs deserialize from (absent, `xsi:nil` and empty leaves all become `null`;
//! `item` elements become arrays), and limits are enforced while reading: total size, depth,
//! element count, text size. DTDs (and so entity declarations and external references) and
//! processing instructions are refused; only the five predefined entities and character
//! references are expanded.
//!
//! [`decode_streaming`] hands the text of one child of the wrapper (`_pj`, an attachment of
//! several MB in base64) to a [`TextSink`] as it is read, borrowed from the input, instead of
//! copying it into the tree.

use crate::{FaultCode, SoapError};
use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;
use serde_json::{Map, Value};
use std::borrow::Cow;

/// SOAP 1.1 envelope namespace.
pub const SOAP11_NS: &str = "http://schemas.xmlsoap.org/soap/envelope/";
/// SOAP 1.2 envelope namespace (answered with `VersionMismatch`).
pub const SOAP12_NS: &str = "http://www.w3.org/2003/05/soap-envelope";
/// XML Schema instance namespace (`xsi:nil`, `xsi:type`).
pub const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";
/// XOP include namespace (MTOM).
pub const XOP_NS: &str = "http://www.w3.org/2004/08/xop/include";
/// Actor meaning "the next SOAP node", i.e. us.
const ACTOR_NEXT: &str = "http://schemas.xmlsoap.org/soap/actor/next";

/// Limits enforced while reading.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest message, in bytes.
    pub max_bytes: usize,
    /// Deepest element nesting.
    pub max_depth: usize,
    /// Most elements in the message.
    pub max_elements: usize,
    /// Largest text of one element, in bytes.
    pub max_text_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 16 * 1024 * 1024,
            max_depth: 32,
            max_elements: 20_000,
            max_text_bytes: 16 * 1024 * 1024,
        }
    }
}

/// A decoded request.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// Namespace URI of the request wrapper: selects the service.
    pub namespace: String,
    /// Local name of the request wrapper: selects the operation.
    pub operation: String,
    /// The wrapper's content as JSON: an object of its children.
    pub body: Value,
    /// Elements skipped because they are in a foreign namespace (path, namespace).
    pub skipped: Vec<String>,
}

/// Receives the text of one child of the request wrapper (`_pj`: the attachment, base64) while the
/// decoder reads it, instead of the JSON tree: a large attachment never sits in memory as text.
pub trait TextSink {
    /// One more piece of the element's text, exactly as read (whitespace and line breaks included,
    /// character and entity references resolved). Returning an error stops the decoding.
    fn text(&mut self, chunk: &[u8]) -> Result<(), SoapError>;
}

/// The `charset` parameter of a `Content-Type` value.
pub fn charset_of(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| v.trim().trim_matches('"').to_ascii_lowercase())
    })
}

fn declared_encoding(bytes: &[u8]) -> Option<String> {
    let head = &bytes[..bytes.len().min(200)];
    let head = std::str::from_utf8(head)
        .ok()
        .or_else(|| std::str::from_utf8(&head[..head.len().min(100)]).ok())?;
    let decl = head.strip_prefix("<?xml")?;
    let end = decl.find("?>")?;
    let decl = &decl[..end];
    let pos = decl.find("encoding")?;
    let rest = decl[pos + 8..].trim_start().strip_prefix('=')?.trim_start();
    let quote = rest.chars().next()?;
    let rest = &rest[1..];
    let close = rest.find(quote)?;
    Some(rest[..close].to_ascii_lowercase())
}

/// Latin-9 code points that differ from Latin-1.
fn latin9(b: u8) -> char {
    match b {
        0xA4 => '€',
        0xA6 => 'Š',
        0xA8 => 'š',
        0xB4 => 'Ž',
        0xB8 => 'ž',
        0xBC => 'Œ',
        0xBD => 'œ',
        0xBE => 'Ÿ',
        other => char::from(other),
    }
}

/// The message as UTF-8 text, decoded with the charset of the HTTP header, else of the XML
/// declaration, else UTF-8 (BOM allowed). UTF-8, ISO-8859-1 and ISO-8859-15 are supported.
pub fn to_utf8<'a>(bytes: &'a [u8], content_type: Option<&str>) -> Result<Cow<'a, str>, SoapError> {
    let charset = content_type
        .and_then(charset_of)
        .or_else(|| declared_encoding(bytes))
        .unwrap_or_else(|| "utf-8".into());
    match charset.as_str() {
        "utf-8" | "utf8" => {
            let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
            std::str::from_utf8(bytes).map(Cow::Borrowed).map_err(|e| {
                SoapError::client(format!(
                    "Le message n'est pas de l'UTF-8 valide (octet {})",
                    e.valid_up_to()
                ))
            })
        }
        "iso-8859-1" | "latin1" | "iso_8859-1" | "l1" => {
            Ok(Cow::Owned(bytes.iter().map(|b| char::from(*b)).collect()))
        }
        "iso-8859-15" | "latin-9" | "latin9" | "iso_8859-15" => {
            Ok(Cow::Owned(bytes.iter().map(|b| latin9(*b)).collect()))
        }
        other => Err(SoapError::client(format!(
            "Encodage non pris en charge : {other} (UTF-8, ISO-8859-1 ou ISO-8859-15)"
        ))),
    }
}

/// One element being built.
struct Frame {
    name: String,
    nil: bool,
    /// Skipped: in a foreign namespace, or inside a nil element.
    skip: bool,
    children: Map<String, Value>,
    has_children: bool,
    text: String,
    xop_href: Option<String>,
    /// The text goes to the sink (the streamed child of the wrapper).
    sink: bool,
}

fn unexpected(e: quick_xml::Error) -> SoapError {
    SoapError::client(format!("XML mal formé : {e}"))
}

fn is_true(v: &str) -> bool {
    matches!(v.trim(), "1" | "true")
}

/// Decodes a SOAP 1.1 request.
pub fn decode(
    bytes: &[u8],
    content_type: Option<&str>,
    limits: &Limits,
) -> Result<Request, SoapError> {
    decode_inner(bytes, content_type, limits, None)
}

/// Decodes a SOAP 1.1 request, handing the text of the wrapper's child `element` (e.g. `_pj`) to
/// `sink` as it is read. In the returned tree that child is `null` (nil), `{"xop:Include": href}`
/// (MTOM) or `{"streamed": true}` (its text, possibly empty, went to the sink).
pub fn decode_streaming(
    bytes: &[u8],
    content_type: Option<&str>,
    limits: &Limits,
    element: &str,
    sink: &mut dyn TextSink,
) -> Result<Request, SoapError> {
    decode_inner(bytes, content_type, limits, Some((element, sink)))
}

/// Where the reader is in the envelope, and what it has built so far.
#[derive(Default)]
struct State {
    /// 0 = before Envelope, 1 = in Envelope, 2 = in Header, 3 = in Body
    depth: usize,
    elements: usize,
    in_header: bool,
    in_body: bool,
    seen_envelope: bool,
    header_depth: usize,
    stack: Vec<Frame>,
    /// Namespace and local name of the request wrapper.
    wrapper: Option<(String, String)>,
    body: Option<Value>,
    skipped: Vec<String>,
}

fn decode_inner(
    bytes: &[u8],
    content_type: Option<&str>,
    limits: &Limits,
    mut sink: Option<(&str, &mut dyn TextSink)>,
) -> Result<Request, SoapError> {
    if bytes.len() > limits.max_bytes {
        return Err(SoapError::client(format!(
            "Message trop volumineux ({} octets, maximum {})",
            bytes.len(),
            limits.max_bytes
        )));
    }
    let text = to_utf8(bytes, content_type)?;
    let mut reader = NsReader::from_str(&text);
    reader.config_mut().check_end_names = true;
    let streamed = sink.as_ref().map(|(name, _)| *name);
    let mut state = State::default();

    loop {
        let event = reader.read_event().map_err(unexpected)?;
        match event {
            Event::Decl(_) | Event::Comment(_) => {}
            Event::DocType(_) => {
                return Err(SoapError::client(
                    "DTD interdite dans un message SOAP (déclarations d'entités et références externes refusées)",
                ));
            }
            Event::PI(_) => {
                return Err(SoapError::client(
                    "Instruction de traitement interdite dans un message SOAP",
                ));
            }
            Event::Start(ref e) | Event::Empty(ref e) => {
                state.start(&reader, e, limits, streamed)?;
                if matches!(event, Event::Empty(_)) {
                    state.close();
                }
            }
            Event::End(_) => state.close(),
            Event::Text(t) => {
                if let Some(out) = streaming(&state.stack, &mut sink) {
                    out.text(t.as_bytes())?;
                } else {
                    push_text(
                        &mut state.stack,
                        &t.xml_content(quick_xml::XmlVersion::Implicit1_0),
                        limits,
                    )?;
                }
            }
            Event::CData(t) => {
                let content = t.into_inner();
                if let Some(out) = streaming(&state.stack, &mut sink) {
                    out.text(content.as_bytes())?;
                } else {
                    push_text(&mut state.stack, &content, limits)?;
                }
            }
            Event::GeneralRef(r) => {
                if let Some(c) = reference(&r)? {
                    let mut buf = [0; 4];
                    let c = c.encode_utf8(&mut buf);
                    if let Some(out) = streaming(&state.stack, &mut sink) {
                        out.text(c.as_bytes())?;
                    } else {
                        push_text(&mut state.stack, c, limits)?;
                    }
                }
            }
            Event::Eof => break,
        }
    }
    state.finish()
}

/// The character of a reference: a character reference, or one of the five predefined
/// entities (any other entity is refused).
fn reference(r: &BytesRef<'_>) -> Result<Option<char>, SoapError> {
    if r.is_char_ref() {
        return r
            .resolve_char_ref()
            .map_err(|e| SoapError::client(format!("Référence de caractère invalide : {e}")));
    }
    match r.as_ref() {
        "amp" => Ok(Some('&')),
        "lt" => Ok(Some('<')),
        "gt" => Ok(Some('>')),
        "quot" => Ok(Some('"')),
        "apos" => Ok(Some('\'')),
        other => Err(SoapError::client(format!("Entité non définie : &{other};"))),
    }
}

impl State {
    /// An element starts: limits, then the envelope structure; in the Body, a frame is pushed.
    /// `streamed` names the wrapper's child whose text goes to the sink.
    fn start(
        &mut self,
        reader: &NsReader<&[u8]>,
        e: &BytesStart<'_>,
        limits: &Limits,
        streamed: Option<&str>,
    ) -> Result<(), SoapError> {
        let ns: Option<&str> = match reader.resolver().resolve_element(e.name()).0 {
            ResolveResult::Bound(n) => Some(n.0),
            ResolveResult::Unbound => None,
            ResolveResult::Unknown(p) => {
                return Err(SoapError::client(format!(
                    "Préfixe d'espace de noms non déclaré : {p}"
                )));
            }
        };
        self.elements += 1;
        if self.elements > limits.max_elements {
            return Err(SoapError::client(format!(
                "Trop d'éléments dans le message (maximum {})",
                limits.max_elements
            )));
        }
        self.depth += 1;
        if self.depth > limits.max_depth {
            return Err(SoapError::client(format!(
                "Imbrication trop profonde (maximum {})",
                limits.max_depth
            )));
        }
        let local = e.local_name().as_ref().to_owned();
        if self.depth == 1 {
            self.start_envelope(ns, &local)
        } else if self.depth == 2 && !self.in_body && !self.in_header {
            self.start_envelope_child(ns, &local)
        } else if self.in_header {
            if self.depth == self.header_depth + 1 {
                check_must_understand(reader, e, ns, &local)?;
            }
            Ok(())
        } else if self.in_body {
            if self.depth == 3 {
                self.start_wrapper(ns, local)
            } else {
                self.start_body_element(reader, e, ns, local, streamed)
            }
        } else {
            Ok(())
        }
    }

    /// The root: a SOAP 1.1 `Envelope` (SOAP 1.2 or another namespace is a `VersionMismatch`).
    fn start_envelope(&mut self, ns: Option<&str>, local: &str) -> Result<(), SoapError> {
        if local != "Envelope" {
            return Err(SoapError::client(format!(
                "Élément racine inattendu : {local}"
            )));
        }
        match ns {
            Some(SOAP11_NS) => {}
            Some(SOAP12_NS) => {
                return Err(SoapError::new(
                    FaultCode::VersionMismatch,
                    "SOAP 1.2 non pris en charge : ce service parle SOAP 1.1",
                ));
            }
            other => {
                return Err(SoapError::new(
                    FaultCode::VersionMismatch,
                    format!(
                        "Espace de noms d'enveloppe inconnu : {}",
                        other.unwrap_or("(aucun)")
                    ),
                ));
            }
        }
        self.seen_envelope = true;
        Ok(())
    }

    /// A child of the envelope: `Header` or `Body`, in the SOAP 1.1 namespace.
    fn start_envelope_child(&mut self, ns: Option<&str>, local: &str) -> Result<(), SoapError> {
        if ns != Some(SOAP11_NS) {
            return Err(SoapError::client(format!(
                "Élément inattendu dans l'enveloppe : {local}"
            )));
        }
        match local {
            "Header" => {
                self.in_header = true;
                self.header_depth = self.depth;
            }
            "Body" => self.in_body = true,
            other => {
                return Err(SoapError::client(format!(
                    "Élément inattendu dans l'enveloppe : {other}"
                )));
            }
        }
        Ok(())
    }

    /// The request wrapper: the only child of the Body, qualified by the service's namespace.
    fn start_wrapper(&mut self, ns: Option<&str>, local: String) -> Result<(), SoapError> {
        if self.wrapper.is_some() || self.body.is_some() {
            return Err(SoapError::client("Le Body doit contenir un seul élément"));
        }
        let Some(namespace) = ns.map(str::to_owned) else {
            return Err(SoapError::client(format!(
                "L'élément {local} du Body doit être qualifié par l'espace de noms du service"
            )));
        };
        self.stack.push(frame(local.clone(), false, false));
        self.wrapper = Some((namespace, local));
        Ok(())
    }

    /// An element inside the wrapper: unqualified or in the service's namespace it is kept;
    /// in a foreign namespace it is skipped (and reported); `xop:Include` gives its parent's
    /// href; `xsi:nil` is read; the streamed child is marked.
    fn start_body_element(
        &mut self,
        reader: &NsReader<&[u8]>,
        e: &BytesStart<'_>,
        ns: Option<&str>,
        local: String,
        streamed: Option<&str>,
    ) -> Result<(), SoapError> {
        let parent_skip = self.stack.last().is_some_and(|f| f.skip || f.nil);
        let service_ns = self.wrapper.as_ref().map(|w| w.0.as_str());
        let foreign = match ns {
            None => false,
            Some(n) if Some(n) == service_ns => false,
            Some(XOP_NS) if local == "Include" => {
                if let Some(parent) = self.stack.last_mut() {
                    parent.xop_href = attribute(reader, e, None, "href")?;
                }
                true
            }
            Some(_) => true,
        };
        if foreign && ns != Some(XOP_NS) && !parent_skip {
            let parent = self.stack.last().map_or("", |f| f.name.as_str());
            self.skipped.push(format!(
                "{parent}/{local} ({})",
                ns.map(str::to_owned).unwrap_or_default()
            ));
        }
        let nil = e.attributes_raw().contains("nil")
            && attribute(reader, e, Some(XSI_NS), "nil")?.is_some_and(|v| is_true(&v));
        let sink = self.depth == 4 && !foreign && streamed.is_some_and(|name| name == local);
        let mut f = frame(local, nil, foreign || parent_skip);
        f.sink = sink;
        self.stack.push(f);
        Ok(())
    }

    /// An element ends.
    fn close(&mut self) {
        close(
            &mut self.stack,
            &mut self.body,
            &mut self.depth,
            &mut self.in_header,
            &mut self.in_body,
            self.header_depth,
        );
    }

    /// The request, once the whole message is read.
    fn finish(self) -> Result<Request, SoapError> {
        if !self.seen_envelope {
            return Err(SoapError::client("Enveloppe SOAP absente"));
        }
        let (namespace, operation) = self
            .wrapper
            .ok_or_else(|| SoapError::client("Le Body ne contient aucun élément"))?;
        Ok(Request {
            namespace,
            operation,
            body: self.body.unwrap_or(Value::Object(Map::new())),
            skipped: self.skipped,
        })
    }
}

fn frame(name: String, nil: bool, skip: bool) -> Frame {
    Frame {
        name,
        nil,
        skip,
        children: Map::new(),
        has_children: false,
        text: String::new(),
        xop_href: None,
        sink: false,
    }
}

/// The sink, when the innermost open element is the streamed one (and not nil).
fn streaming<'s>(
    stack: &[Frame],
    sink: &'s mut Option<(&str, &mut dyn TextSink)>,
) -> Option<&'s mut dyn TextSink> {
    let top = stack.last()?;
    if !top.sink || top.nil || top.skip {
        return None;
    }
    sink.as_mut()
        .map(|(_, out)| &mut **out as &mut dyn TextSink)
}

fn push_text(stack: &mut [Frame], text: &str, limits: &Limits) -> Result<(), SoapError> {
    if let Some(top) = stack.last_mut() {
        if top.text.len() + text.len() > limits.max_text_bytes {
            return Err(SoapError::client(format!(
                "Texte trop long dans l'élément {} (maximum {} octets)",
                top.name, limits.max_text_bytes
            )));
        }
        top.text.push_str(text);
    }
    Ok(())
}

fn close(
    stack: &mut Vec<Frame>,
    body: &mut Option<Value>,
    depth: &mut usize,
    in_header: &mut bool,
    in_body: &mut bool,
    header_depth: usize,
) {
    if *in_body
        && *depth >= 3
        && let Some(done) = stack.pop()
    {
        {
            let value = if done.nil {
                Value::Null
            } else if let Some(href) = done.xop_href {
                let mut m = Map::new();
                m.insert("xop:Include".into(), Value::String(href));
                Value::Object(m)
            } else if done.sink {
                let mut m = Map::new();
                m.insert("streamed".into(), Value::Bool(true));
                Value::Object(m)
            } else if done.has_children {
                Value::Object(done.children)
            } else if done.name == "item" {
                // An empty vœu item is an item with every leaf nil (§2.8), not "no item".
                if done.text.trim().is_empty() {
                    Value::Object(Map::new())
                } else {
                    Value::String(done.text)
                }
            } else if done.text.is_empty() {
                Value::Null
            } else {
                Value::String(done.text)
            };
            match stack.last_mut() {
                Some(parent) if !done.skip => {
                    parent.has_children = true;
                    if done.name == "item" {
                        let slot = parent
                            .children
                            .entry("item".to_owned())
                            .or_insert_with(|| Value::Array(Vec::new()));
                        if let Value::Array(items) = slot {
                            items.push(value);
                        }
                    } else {
                        parent.children.insert(done.name, value);
                    }
                }
                Some(parent) => parent.has_children = parent.has_children || !done.skip,
                None => *body = Some(value),
            }
        }
    }
    if *in_header && *depth == header_depth {
        *in_header = false;
    }
    if *in_body && *depth == 2 {
        *in_body = false;
    }
    *depth = depth.saturating_sub(1);
}

fn attribute(
    reader: &NsReader<&[u8]>,
    e: &BytesStart<'_>,
    namespace: Option<&str>,
    local: &str,
) -> Result<Option<String>, SoapError> {
    for attr in e.attributes() {
        let attr = attr.map_err(|err| SoapError::client(format!("Attribut mal formé : {err}")))?;
        let (ns, name) = reader.resolver().resolve_attribute(attr.key);
        let ns_ok = match (ns, namespace) {
            (ResolveResult::Bound(n), Some(want)) => n.as_ref() == want,
            (ResolveResult::Unbound, None) => true,
            _ => false,
        };
        if ns_ok && name.as_ref() == local {
            let value = attr
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map_err(|err| SoapError::client(format!("Valeur d'attribut invalide : {err}")))?;
            return Ok(Some(value.into_owned()));
        }
    }
    Ok(None)
}

fn check_must_understand(
    reader: &NsReader<&[u8]>,
    e: &BytesStart<'_>,
    ns: Option<&str>,
    local: &str,
) -> Result<(), SoapError> {
    let must =
        attribute(reader, e, Some(SOAP11_NS), "mustUnderstand")?.is_some_and(|v| is_true(&v));
    let actor = attribute(reader, e, Some(SOAP11_NS), "actor")?;
    let targets_us = actor.as_deref().is_none_or(|a| a == ACTOR_NEXT);
    if must && targets_us {
        return Err(SoapError::new(
            FaultCode::MustUnderstand,
            format!(
                "En-tête SOAP non compris : {{{}}}{local}",
                ns.unwrap_or_default()
            ),
        ));
    }
    Ok(())
}
