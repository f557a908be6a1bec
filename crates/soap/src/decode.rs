//! Hardened SOAP 1.1 request decoder.
//!
//! One pass of quick-xml's reader over the message, namespaces resolved by our own
//! [`NamespaceResolver`] (bound from the attributes we scan anyway): the envelope and body are
//! recognised by namespace URI (any prefix), the body's request wrapper is read into a flat
//! [`Tree`] that the DTOs deserialize from directly (absent, `xsi:nil` and empty leaves all read
//! as `null`; `item` elements as sequences; [`Request::body`] renders the same shape as JSON), and
//! limits are enforced while reading: total size, depth,
//! element count, attributes per element, text size. DTDs (and so entity declarations and
//! external references) and processing instructions are refused; only the five predefined
//! entities and character references are expanded. What is no well-formed XML 1.0, or is
//! ambiguous, is refused rather than guessed: characters outside XML 1.0 (raw or as references),
//! duplicate attributes, content after the envelope, text mixed with child elements, a
//! non-repeatable element given twice (only `item` and the [`REPEATED_LEAVES`] repeat), a charset
//! contradicting the XML
//! declaration, UTF-8 or C1 bytes in a message announced as ISO-8859-1/-15.
//!
//! [`decode_streaming`] hands the text of one child of the wrapper (`_pj`, an attachment of
//! several MB in base64) to a [`TextSink`] as it is read, borrowed from the input, instead of
//! copying it into the tree.

use crate::tree::{Kind, Tree, repeats};
use crate::{FaultCode, SoapError};
use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::name::{Namespace, NamespaceResolver, QName};
use quick_xml::reader::Reader;
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

/// The leaves the read contracts repeat without a wrapper (`EtudiantCritereDTO`,
/// `EtudiantCritereListeDTO` of `recupererListeEtudiants`, `soap-read-services.md` §3.8): like
/// `item`, they are read as arrays (one value per element, in order), even when given once.
/// The DTO shapes declare the same names `repeated` (checked by a test of the WSDL generator).
pub const REPEATED_LEAVES: &[&str] = &[
    "listVersion",
    "listELP",
    "listEPR",
    "listTypeHandicap",
    "listSportifHautNiv",
    "listSitSociale",
    "listPaysEchInter",
    "listTypeEtabFreq",
    "listCentreGestion",
    "listComposante",
    "listCIP",
];

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
    /// Most attributes on one element (the contract's elements carry at most three).
    pub max_attributes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 16 * 1024 * 1024,
            max_depth: 32,
            max_elements: 20_000,
            max_text_bytes: 16 * 1024 * 1024,
            max_attributes: 64,
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
    /// The wrapper and its content, as read.
    pub tree: Tree,
    /// Elements skipped because they are in a foreign namespace (path, namespace).
    pub skipped: Vec<String>,
}

impl Request {
    /// The wrapper's content as JSON: an object of its children (what [`Request::tree`]
    /// deserializes as).
    pub fn body(&self) -> Value {
        match self.tree.root().to_json() {
            Value::Null if self.tree == Tree::default() => Value::Object(Map::new()),
            other => other,
        }
    }
}

/// Receives the text of one child of the request wrapper (`_pj`: the attachment, base64) while the
/// decoder reads it, instead of the tree: a large attachment never sits in memory as text.
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
    // The "quote" may be any character in a malformed declaration: skip it whole.
    let rest = &rest[quote.len_utf8()..];
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

/// The supported charsets, by their canonical name.
fn canonical(charset: &str) -> &str {
    match charset {
        "utf-8" | "utf8" => "utf-8",
        "iso-8859-1" | "latin1" | "iso_8859-1" | "l1" => "iso-8859-1",
        "iso-8859-15" | "latin-9" | "latin9" | "iso_8859-15" => "iso-8859-15",
        other => other,
    }
}

/// A message announced as ISO-8859-1/-15 must be that: bytes 0x80–0x9F are undefined there
/// (C1 controls), and valid multi-byte UTF-8 is a UTF-8 message mislabelled, which would be
/// stored as mojibake (`rÃ©orientation`).
fn check_latin(bytes: &[u8], charset: &str) -> Result<(), SoapError> {
    if let Some(at) = bytes.iter().position(|b| (0x80..=0x9F).contains(b)) {
        return Err(SoapError::client(format!(
            "Octet 0x{:02X} (position {at}) non défini en {}: le message est-il en UTF-8 ?",
            bytes[at],
            charset.to_ascii_uppercase()
        )));
    }
    if !bytes.is_ascii() && std::str::from_utf8(bytes).is_ok() {
        return Err(SoapError::client(format!(
            "Message annoncé {} mais écrit en UTF-8 (séquences multi-octets) : annoncez charset=utf-8",
            charset.to_ascii_uppercase()
        )));
    }
    Ok(())
}

/// The message as UTF-8 text, decoded with the charset of the HTTP header, else of the XML
/// declaration, else UTF-8 (BOM allowed). UTF-8, ISO-8859-1 and ISO-8859-15 are supported. A
/// header and a declaration that disagree are refused unless the message is pure ASCII (then
/// every supported reading is the same).
pub fn to_utf8<'a>(bytes: &'a [u8], content_type: Option<&str>) -> Result<Cow<'a, str>, SoapError> {
    let header = content_type.and_then(charset_of);
    let declared = declared_encoding(bytes);
    if let (Some(h), Some(d)) = (&header, &declared)
        && canonical(h) != canonical(d)
        && !(bytes.is_ascii() && ["utf-8", "iso-8859-1", "iso-8859-15"].contains(&canonical(d)))
    {
        return Err(SoapError::client(format!(
            "Encodages contradictoires : charset={h} dans l'en-tête HTTP, encoding=\"{d}\" dans la déclaration XML"
        )));
    }
    let charset = header.or(declared).unwrap_or_else(|| "utf-8".into());
    match canonical(&charset) {
        "utf-8" => {
            let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
            std::str::from_utf8(bytes).map(Cow::Borrowed).map_err(|e| {
                SoapError::client(format!(
                    "Le message n'est pas de l'UTF-8 valide (octet {})",
                    e.valid_up_to()
                ))
            })
        }
        "iso-8859-1" => {
            check_latin(bytes, &charset)?;
            Ok(Cow::Owned(bytes.iter().map(|b| char::from(*b)).collect()))
        }
        "iso-8859-15" => {
            check_latin(bytes, &charset)?;
            Ok(Cow::Owned(bytes.iter().map(|b| latin9(*b)).collect()))
        }
        other => Err(SoapError::client(format!(
            "Encodage non pris en charge : {other} (UTF-8, ISO-8859-1 ou ISO-8859-15)"
        ))),
    }
}

/// One open element.
struct Frame<'a> {
    name: Cow<'a, str>,
    /// Its node in the tree (none when skipped).
    node: Option<usize>,
    nil: bool,
    /// Skipped: in a foreign namespace, or inside a nil element.
    skip: bool,
    has_children: bool,
    /// Where its pending text starts in the tree's buffer (text since its last child).
    text_start: Option<usize>,
    /// All the text it was given, in bytes (the limit).
    text_len: usize,
    /// Non-blank text was given before one of its children.
    mixed: bool,
    /// A Bloom filter of its children's names: most have no earlier namesake, and are told so
    /// without comparing names.
    names: NameSet,
    xop_href: Option<String>,
    /// The text goes to the sink (the streamed child of the wrapper).
    sink: bool,
}

/// `Char` of XML 1.0: tab, line feed, carriage return, and from U+0020 on, except U+FFFE and
/// U+FFFF (a Rust `char` is never a surrogate).
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')
}

/// Whether `text` holds only XML 1.0 characters: one branch-free pass (it vectorises) plus two
/// substring searches, so that a clean message, the usual one, is checked once and its events
/// not at all.
fn only_xml_chars(text: &str) -> bool {
    let bytes = text.as_bytes();
    // One pass: C0 controls, and the lead byte 0xEF of U+FFFE/U+FFFF (EF BF BE, EF BF BF),
    // looked at closer only when one is there.
    let (mut controls, mut ef) = (false, false);
    for chunk in bytes.chunks(64) {
        let (c, e) = chunk.iter().fold((false, false), |(bad, ef), &b| {
            (
                bad | ((b < 0x20) & (b != b'\t') & (b != b'\n') & (b != b'\r')),
                ef | (b == 0xEF),
            )
        });
        controls |= c;
        ef |= e;
        if controls {
            return false;
        }
    }
    !ef || !memchr::memchr_iter(0xEF, bytes)
        .any(|i| bytes.get(i + 1) == Some(&0xBF) && matches!(bytes.get(i + 2), Some(0xBE | 0xBF)))
}

/// Refuses text with a character outside XML 1.0 (a NUL, a C0 control, U+FFFE/U+FFFF), naming
/// the element it is in when there is one.
fn check_xml_chars(text: &[u8], stack: &[Frame<'_>]) -> Result<(), SoapError> {
    // Slices of the UTF-8 message: borrowed, never replaced.
    let text = String::from_utf8_lossy(text);
    let Some((at, c)) = text.char_indices().find(|(_, c)| !is_xml_char(*c)) else {
        return Ok(());
    };
    let err = match stack.last() {
        Some(top) => SoapError::client(format!(
            "Caractère U+{:04X} interdit en XML 1.0 dans l'élément {}",
            u32::from(c),
            top.name
        ))
        .at(top.name.clone()),
        None => SoapError::client(format!(
            "Caractère U+{:04X} (position {at}) interdit en XML 1.0",
            u32::from(c)
        )),
    };
    Err(err)
}

/// The namespace of every element of `text`, in document order, resolved as [`decode`] does,
/// up to the first error (the fuzz targets compare it with quick-xml's `NsReader`).
pub(crate) fn element_namespaces(text: &str) -> (Vec<Option<String>>, bool) {
    let mut reader = Reader::from_str(text);
    let mut resolver = NamespaceResolver::default();
    let mut out = Vec::new();
    let limits = Limits {
        max_attributes: usize::MAX,
        ..Limits::default()
    };
    let mut seen = Seen::new(text);
    loop {
        let event = reader.read_event();
        let empty = matches!(event, Ok(Event::Empty(_)));
        match event {
            Ok(Event::Start(e)) | Ok(Event::Empty(e)) => {
                let Ok(attrs) = Attributes::read(&e, &limits, &mut resolver, empty, &mut seen)
                else {
                    return (out, false);
                };
                out.push(match attrs.resolve_element(&resolver, e.name()) {
                    ResolveResult::Bound(n) => Some(n.0.to_owned()),
                    ResolveResult::Unbound => None,
                    ResolveResult::Unknown(p) => Some(format!("?{p}")),
                });
                if empty && attrs.scoped() {
                    resolver.pop();
                }
            }
            Ok(Event::End(_)) => resolver.pop(),
            Ok(Event::Eof) => return (out, true),
            Ok(_) => {}
            Err(_) => return (out, false),
        }
    }
}

fn namespace_error(e: quick_xml::name::NamespaceError) -> SoapError {
    unexpected(quick_xml::Error::Namespace(e))
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
struct State<'a> {
    /// 0 = before Envelope, 1 = in Envelope, 2 = in Header, 3 = in Body
    depth: usize,
    elements: usize,
    in_header: bool,
    in_body: bool,
    seen_envelope: bool,
    header_depth: usize,
    stack: Vec<Frame<'a>>,
    /// Namespace and local name of the request wrapper.
    wrapper: Option<(String, String)>,
    tree: Tree,
    /// The wrapper closed.
    done: bool,
    skipped: Vec<String>,
    /// The last plain attribute list read.
    seen: Seen<'a>,
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
    // A message with a character outside XML 1.0 is refused; its text events are checked to
    // name the element the character is in.
    let dirty = !only_xml_chars(&text);
    let mut reader = Reader::from_str(&text);
    reader.config_mut().check_end_names = true;
    let mut ns = NamespaceResolver::default();
    let streamed = sink.as_ref().map(|(name, _)| *name);
    let mut state = State {
        seen: Seen::new(&text),
        ..State::default()
    };

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
                if state.depth == 0 && state.seen_envelope {
                    return Err(after_envelope());
                }
                let empty = matches!(event, Event::Empty(_));
                let scoped = state.start(&mut ns, e, &text, limits, streamed, empty)?;
                if empty {
                    state.close()?;
                    if scoped {
                        ns.pop();
                    }
                }
            }
            Event::End(_) => {
                state.close()?;
                ns.pop();
            }
            Event::Text(t) => {
                if state.depth == 0 && !t.as_bytes().trim_ascii().is_empty() {
                    return Err(outside_envelope(&state));
                }
                if dirty {
                    check_xml_chars(t.as_bytes(), &state.stack)?;
                }
                if let Some(out) = streaming(&state.stack, &mut sink) {
                    out.text(t.as_bytes())?;
                } else {
                    state.text(&t.xml_content(quick_xml::XmlVersion::Implicit1_0), limits)?;
                }
            }
            Event::CData(t) => {
                if state.depth == 0 {
                    return Err(outside_envelope(&state));
                }
                if dirty {
                    check_xml_chars(t.as_bytes(), &state.stack)?;
                }
                let content = t.into_inner();
                if let Some(out) = streaming(&state.stack, &mut sink) {
                    out.text(content.as_bytes())?;
                } else {
                    state.text(&content, limits)?;
                }
            }
            Event::GeneralRef(r) => {
                if state.depth == 0 {
                    return Err(outside_envelope(&state));
                }
                let c = reference(&r).map_err(|e| match state.stack.last() {
                    Some(top) => e.at(top.name.clone()),
                    None => e,
                })?;
                if let Some(c) = c {
                    let mut buf = [0; 4];
                    let c = c.encode_utf8(&mut buf);
                    if let Some(out) = streaming(&state.stack, &mut sink) {
                        out.text(c.as_bytes())?;
                    } else {
                        state.text(c, limits)?;
                    }
                }
            }
            Event::Eof => break,
        }
    }
    // Not in a text: in markup, an attribute value or a comment.
    if dirty {
        check_xml_chars(text.as_bytes(), &[])?;
    }
    state.finish()
}

fn after_envelope() -> SoapError {
    SoapError::client("Contenu après la fin de l'enveloppe SOAP : un message a une seule racine")
}

fn outside_envelope(state: &State) -> SoapError {
    if state.seen_envelope {
        after_envelope()
    } else {
        SoapError::client("Texte avant l'enveloppe SOAP")
    }
}

/// The character of a reference: a character reference (to an XML 1.0 character), or one of
/// the five predefined entities (any other entity is refused).
fn reference(r: &BytesRef<'_>) -> Result<Option<char>, SoapError> {
    if r.is_char_ref() {
        let c = r
            .resolve_char_ref()
            .map_err(|e| SoapError::client(format!("Référence de caractère invalide : {e}")))?;
        if let Some(c) = c
            && !is_xml_char(c)
        {
            return Err(SoapError::client(format!(
                "Référence de caractère &{}; : U+{:04X} interdit en XML 1.0",
                r.as_ref(),
                u32::from(c)
            )));
        }
        return Ok(c);
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

impl<'a> State<'a> {
    /// An element starts: limits, then the envelope structure; in the Body, a frame is pushed.
    /// `input` is the message the reader reads (element names are borrowed from it); `streamed`
    /// names the wrapper's child whose text goes to the sink. Says whether a namespace scope
    /// was opened in `resolver` (to pop at the element's end).
    fn start(
        &mut self,
        resolver: &mut NamespaceResolver,
        e: &BytesStart<'_>,
        input: &'a str,
        limits: &Limits,
        streamed: Option<&str>,
        empty: bool,
    ) -> Result<bool, SoapError> {
        // Its namespace declarations are in force for the element itself.
        let attrs = Attributes::read(e, limits, resolver, empty, &mut self.seen)?;
        let resolver = &*resolver;
        self.start_element(resolver, e, &attrs, input, limits, streamed)?;
        Ok(attrs.scoped())
    }

    fn start_element(
        &mut self,
        resolver: &NamespaceResolver,
        e: &BytesStart<'_>,
        attrs: &Attributes<'_>,
        input: &'a str,
        limits: &Limits,
        streamed: Option<&str>,
    ) -> Result<(), SoapError> {
        let ns: Option<&str> = match attrs.resolve_element(resolver, e.name()) {
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
        let local = borrowed(input, split_qname(e.name().0).1);
        if self.depth == 1 {
            self.start_envelope(ns, &local)
        } else if self.depth == 2 && !self.in_body && !self.in_header {
            self.start_envelope_child(ns, &local)
        } else if self.in_header {
            if self.depth == self.header_depth + 1 {
                check_must_understand(resolver, e, attrs, ns, &local)?;
            }
            Ok(())
        } else if self.in_body {
            if self.depth == 3 {
                self.start_wrapper(ns, local)
            } else {
                self.start_body_element(resolver, e, attrs, ns, local, streamed)
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
    fn start_wrapper(&mut self, ns: Option<&str>, local: Cow<'a, str>) -> Result<(), SoapError> {
        if self.wrapper.is_some() || self.done {
            return Err(SoapError::client("Le Body doit contenir un seul élément"));
        }
        let Some(namespace) = ns.map(str::to_owned) else {
            return Err(SoapError::client(format!(
                "L'élément {local} du Body doit être qualifié par l'espace de noms du service"
            )));
        };
        let node = self.tree.open(&local);
        self.wrapper = Some((namespace, local.clone().into_owned()));
        self.stack.push(frame(local, Some(node), false, false));
        Ok(())
    }

    /// An element inside the wrapper: unqualified or in the service's namespace it is kept;
    /// in a foreign namespace it is skipped (and reported); `xop:Include` gives its parent's
    /// href; `xsi:nil` is read; the streamed child is marked.
    fn start_body_element(
        &mut self,
        resolver: &NamespaceResolver,
        e: &BytesStart<'_>,
        attrs: &Attributes<'_>,
        ns: Option<&str>,
        local: Cow<'a, str>,
        streamed: Option<&str>,
    ) -> Result<(), SoapError> {
        let parent_skip = self.stack.last().is_some_and(|f| f.skip || f.nil);
        let service_ns = self.wrapper.as_ref().map(|w| w.0.as_str());
        let foreign = match ns {
            None => false,
            Some(n) if Some(n) == service_ns => false,
            Some(XOP_NS) if local == "Include" => {
                if let Some(parent) = self.stack.last_mut() {
                    parent.xop_href = attrs.get(resolver, e, None, "href")?.map(Cow::into_owned);
                }
                true
            }
            Some(_) => true,
        };
        if foreign && ns != Some(XOP_NS) && !parent_skip {
            let parent = self.stack.last().map_or("", |f| f.name.as_ref());
            self.skipped.push(format!(
                "{parent}/{local} ({})",
                ns.map(str::to_owned).unwrap_or_default()
            ));
        }
        let nil = attrs.may_have("nil")
            && attrs
                .get(resolver, e, Some(XSI_NS), "nil")?
                .is_some_and(|v| is_true(&v));
        let sink = self.depth == 4 && !foreign && streamed.is_some_and(|name| name == local);
        let skip = foreign || parent_skip;
        let node = if skip {
            None
        } else {
            // Text before this child is no leaf's: kept only to tell mixed content.
            if let Some(parent) = self.stack.last_mut() {
                settle(parent, &mut self.tree);
            }
            Some(self.tree.open(&local))
        };
        let mut f = frame(local, node, nil, skip);
        f.sink = sink;
        self.stack.push(f);
        Ok(())
    }

    /// Text of the innermost open element.
    fn text(&mut self, text: &str, limits: &Limits) -> Result<(), SoapError> {
        let Some(top) = self.stack.last_mut() else {
            return Ok(());
        };
        if top.text_len + text.len() > limits.max_text_bytes {
            return Err(SoapError::client(format!(
                "Texte trop long dans l'élément {} (maximum {} octets)",
                top.name, limits.max_text_bytes
            )));
        }
        top.text_len += text.len();
        if top.node.is_some() && !top.nil {
            top.text_start.get_or_insert(self.tree.mark());
            self.tree.push(text);
        }
        Ok(())
    }

    /// An element ends: in the Body, its node closes as what it turned out to be.
    fn close(&mut self) -> Result<(), SoapError> {
        if self.in_body
            && self.depth >= 3
            && let Some(mut done) = self.stack.pop()
        {
            let pending = done.text_start.map(|s| self.tree.since(s));
            let blank = pending.is_none_or(|t| t.trim().is_empty());
            if done.has_children && !done.skip && (done.mixed || !blank) {
                return Err(SoapError::client(format!(
                    "Texte mêlé aux éléments de {} : un bloc ne contient que des éléments",
                    done.name
                ))
                .at(done.name.into_owned()));
            }
            match done.node {
                Some(node) => {
                    let empty = pending.is_none_or(str::is_empty);
                    let kind = if done.nil {
                        Kind::Null
                    } else if let Some(href) = done.xop_href.take() {
                        settle(&mut done, &mut self.tree);
                        Kind::Xop(self.tree.store(&href))
                    } else if done.sink {
                        Kind::Streamed
                    } else if done.has_children {
                        settle(&mut done, &mut self.tree);
                        Kind::Block
                    } else if done.name == "item" && blank {
                        // An empty vœu item is an item with every leaf nil (§2.8), not "no item".
                        settle(&mut done, &mut self.tree);
                        Kind::EmptyItem
                    } else if empty {
                        Kind::Null
                    } else {
                        let start = done.text_start.unwrap_or_default();
                        Kind::Text((start, self.tree.mark()))
                    };
                    self.tree.close(node, kind);
                    match self.stack.last_mut() {
                        Some(parent) => {
                            parent.has_children = true;
                            let maybe_twice = parent.names.insert(&done.name);
                            if maybe_twice
                                && !repeats(&done.name)
                                && let Some(p) = parent.node
                                && self.tree.named_before(p, node)
                            {
                                return Err(SoapError::client(format!(
                                    "Élément {} répété dans {} : une seule occurrence attendue",
                                    done.name, parent.name
                                ))
                                .at(done.name.into_owned()));
                            }
                        }
                        None => self.done = true,
                    }
                }
                None => {
                    if let Some(parent) = self.stack.last_mut() {
                        parent.has_children = parent.has_children || !done.skip;
                    }
                }
            }
        }
        if self.in_header && self.depth == self.header_depth {
            self.in_header = false;
        }
        if self.in_body && self.depth == 2 {
            self.in_body = false;
        }
        self.depth = self.depth.saturating_sub(1);
        Ok(())
    }

    /// The request, once the whole message is read.
    fn finish(mut self) -> Result<Request, SoapError> {
        if !self.seen_envelope {
            return Err(SoapError::client("Enveloppe SOAP absente"));
        }
        let (namespace, operation) = self
            .wrapper
            .ok_or_else(|| SoapError::client("Le Body ne contient aucun élément"))?;
        self.tree.seal();
        Ok(Request {
            namespace,
            operation,
            tree: self.tree,
            skipped: self.skipped,
        })
    }
}

fn frame<'a>(name: Cow<'a, str>, node: Option<usize>, nil: bool, skip: bool) -> Frame<'a> {
    Frame {
        name,
        node,
        nil,
        skip,
        has_children: false,
        text_start: None,
        text_len: 0,
        mixed: false,
        names: NameSet::default(),
        xop_href: None,
        sink: false,
    }
}

/// A 256-bit Bloom filter of names, two bits each: an OPI's `_donneesOpi` has about 40 children,
/// which one 64-bit word (one bit each) left at a false positive in two.
#[derive(Debug, Default, Clone, Copy)]
struct NameSet([u64; 4]);

impl NameSet {
    /// Adds `name`; says whether it may have been there already.
    fn insert(&mut self, name: &str) -> bool {
        let hash = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        let mut seen = true;
        for bit in [hash & 255, (hash >> 32) & 255] {
            let (word, mask) = ((bit / 64) as usize, 1u64 << (bit % 64));
            seen &= self.0[word] & mask != 0;
            self.0[word] |= mask;
        }
        seen
    }
}

/// The element's pending text is no leaf's (a child follows, or it closes as a block): it is
/// only told blank or not, then dropped from the buffer.
fn settle(frame: &mut Frame<'_>, tree: &mut Tree) {
    if let Some(start) = frame.text_start.take() {
        frame.mixed |= !tree.since(start).trim().is_empty();
        tree.truncate(start);
    }
}

/// `part` (a slice of `input`) borrowed from `input`; a copy if it is not one.
fn borrowed<'a>(input: &'a str, part: &str) -> Cow<'a, str> {
    let range = input.as_bytes().as_ptr_range();
    if range.contains(&part.as_ptr()) {
        let at = part.as_ptr() as usize - range.start as usize;
        if let Some(s) = input.get(at..at + part.len()) {
            return Cow::Borrowed(s);
        }
    }
    Cow::Owned(part.to_owned())
}

/// The sink, when the innermost open element is the streamed one (and not nil).
fn streaming<'s>(
    stack: &[Frame<'_>],
    sink: &'s mut Option<(&str, &mut dyn TextSink)>,
) -> Option<&'s mut dyn TextSink> {
    let top = stack.last()?;
    if !top.sink || top.nil || top.skip {
        return None;
    }
    sink.as_mut()
        .map(|(_, out)| &mut **out as &mut dyn TextSink)
}

/// The attributes of an element, checked once. The usual ones (JAX-WS's
/// `xmlns:xsi="…" xsi:nil="true"` on every nil leaf) are read by a plain scan; anything else
/// (a reference, a line break in a value, spaces around `=`, more than four…) by quick-xml's
/// parser, which also says what is wrong.
enum Attributes<'r> {
    None,
    /// At most four `name="value"`, names distinct, values without `<`, `&` nor line breaks.
    Plain(usize, [(&'r str, &'r str); 4]),
    /// Plain attributes of an empty element, whose namespace declarations (ordinary ones: no
    /// `xml`/`xmlns` prefix, no empty nor reserved URI, within the resolver's limit) were not
    /// bound in the resolver: they are in force for that element alone, which resolves its own
    /// names with them first (no scope to open and close for each JAX-WS nil leaf).
    Own(usize, [(&'r str, &'r str); 4]),
    /// Checked by [`check_attributes`]; read with [`attribute`].
    Parsed,
}

impl<'r> Attributes<'r> {
    /// Reads the attributes of `e` and opens its scope in `resolver` with the namespaces it
    /// declares (what quick-xml's `NsReader` does, without parsing plain attributes twice);
    /// an `empty` element with ordinary declarations opens none ([`Attributes::Own`]).
    fn read(
        e: &'r BytesStart<'_>,
        limits: &Limits,
        resolver: &mut NamespaceResolver,
        empty: bool,
        seen: &mut Seen<'_>,
    ) -> Result<Self, SoapError> {
        let raw = e.attributes_raw();
        let plain = if raw.trim_ascii().is_empty() {
            Some((0, [("", ""); 4]))
        } else {
            seen.plain(raw).filter(|(n, _)| *n <= limits.max_attributes)
        };
        let Some((n, list)) = plain else {
            resolver.push(e).map_err(namespace_error)?;
            check_attributes(e, limits)?;
            return Ok(Attributes::Parsed);
        };
        if empty && n > 0 && own_declarations(&list[..n], resolver) {
            return Ok(Attributes::Own(n, list));
        }
        resolver
            .push(&BytesStart::from_content("", 0))
            .map_err(namespace_error)?;
        for (name, value) in &list[..n] {
            if let Some(prefix) = QName(name).as_namespace_binding() {
                resolver
                    .add(prefix, Namespace(value))
                    .map_err(namespace_error)?;
            }
        }
        Ok(if n == 0 {
            Attributes::None
        } else {
            Attributes::Plain(n, list)
        })
    }

    /// Whether a namespace scope was opened for the element (to pop at its end).
    fn scoped(&self) -> bool {
        !matches!(self, Attributes::Own(..))
    }

    /// The namespace of the element's `name`: with [`Attributes::Own`], its own declarations
    /// first.
    fn resolve_element<'x>(
        &'x self,
        resolver: &'x NamespaceResolver,
        name: QName<'_>,
    ) -> ResolveResult<'x> {
        let (prefix, _) = split_qname(name.0);
        if let Attributes::Own(n, list) = self
            && let Some(uri) = declared_on(&list[..*n], prefix)
        {
            return ResolveResult::Bound(Namespace(uri));
        }
        match prefix {
            None => resolver.resolve_prefix(None, true),
            Some(_) => resolver.resolve_element(name).0,
        }
    }

    /// Whether an attribute named `local` may be there (before resolving its namespace).
    fn may_have(&self, local: &str) -> bool {
        match self {
            Attributes::None => false,
            Attributes::Plain(n, list) | Attributes::Own(n, list) => {
                list[..*n].iter().any(|(qname, _)| {
                    qname
                        .strip_suffix(local)
                        .is_some_and(|p| p.is_empty() || p.ends_with(':'))
                })
            }
            Attributes::Parsed => true,
        }
    }

    /// The value of the attribute `local` in `namespace` (none: unqualified).
    fn get(
        &self,
        resolver: &NamespaceResolver,
        e: &BytesStart<'_>,
        namespace: Option<&str>,
        local: &str,
    ) -> Result<Option<Cow<'r, str>>, SoapError> {
        match self {
            Attributes::None => Ok(None),
            Attributes::Plain(n, list) | Attributes::Own(n, list) => {
                let list = &list[..*n];
                Ok(list.iter().find_map(|(qname, value)| {
                    let prefix = match qname.strip_suffix(local)?.strip_suffix(':') {
                        Some(prefix) if !prefix.bytes().any(|b| b == b':') => Some(prefix),
                        Some(_) => return None,
                        None if qname.len() == local.len() => None,
                        None => return None,
                    };
                    let found = match (prefix, namespace) {
                        (None, None) => true,
                        (None, Some(_)) | (Some("xmlns"), _) => false,
                        // The prefix declared on the element itself (JAX-WS declares `xsi` on
                        // every nil leaf) is the binding in force; else the reader's.
                        (Some(prefix), want) => match declared_on(list, Some(prefix)) {
                            Some(uri) => want == Some(uri),
                            None => {
                                let (ns, _) = resolver.resolve_attribute(QName(qname));
                                in_namespace(&ns, want)
                            }
                        },
                    };
                    found.then_some(Cow::Borrowed(*value))
                }))
            }
            Attributes::Parsed => Ok(attribute(resolver, e, namespace, local)?.map(Cow::Owned)),
        }
    }
}

/// The namespace `prefix` (none: the default one) is bound to by a declaration among `list`, the
/// element's own plain attributes.
fn declared_on<'r>(list: &[(&'r str, &'r str)], prefix: Option<&str>) -> Option<&'r str> {
    list.iter()
        .find(|(qname, _)| match prefix {
            None => *qname == "xmlns",
            Some(p) => qname.strip_prefix("xmlns:") == Some(p),
        })
        .map(|(_, uri)| *uri)
}

/// `prefix:local` split at its first colon, as quick-xml's `QName::decompose` does (by a byte
/// loop: names are short, a `str::find` costs more than the name).
fn split_qname(name: &str) -> (Option<&str>, &str) {
    match name.bytes().position(|b| b == b':') {
        Some(i) => (name.get(..i), name.get(i + 1..).unwrap_or_default()),
        None => (None, name),
    }
}

/// Whether the namespace declarations among `list` may stay the element's own (see
/// [`Attributes::Own`]): binding them would succeed and change nothing but the element's names.
fn own_declarations(list: &[(&str, &str)], resolver: &NamespaceResolver) -> bool {
    const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";
    const XMLNS_NS: &str = "http://www.w3.org/2000/xmlns/";
    let mut declared = 0;
    for (name, value) in list {
        let prefix = match name.strip_prefix("xmlns") {
            Some("") => None,
            Some(rest) => match rest.strip_prefix(':') {
                Some(p) => Some(p),
                None => continue, // `xmlnsfoo`: an attribute
            },
            None => continue,
        };
        if value.is_empty()
            || matches!(prefix, Some("" | "xml" | "xmlns"))
            || prefix.is_some_and(|p| p.bytes().any(|b| b == b':'))
            || (prefix.is_some() && (*value == XML_NS || *value == XMLNS_NS))
        {
            return false;
        }
        declared += 1;
    }
    // quick-xml refuses a binding past its limit: what `add` would have said.
    let held = resolver.bindings().size_hint().1.unwrap_or(usize::MAX);
    held.saturating_add(declared) <= resolver.max_namespace_bindings()
}

/// The last plain attribute list read, as spans of its text in the message: JAX-WS writes the
/// same `xmlns:xsi="…" xsi:nil="true"` on every nil leaf, read once then compared.
struct Seen<'a> {
    input: &'a str,
    last: Option<(&'a str, usize, [Span; 4])>,
}

/// Name and value of an attribute, as byte ranges of its list.
type Span = (usize, usize, usize, usize);

impl<'a> Seen<'a> {
    fn new(input: &'a str) -> Self {
        Seen { input, last: None }
    }

    /// [`plain_attributes`] of `raw`, or the spans of the last list when `raw` is the same text.
    fn plain<'r>(&mut self, raw: &'r str) -> Option<(usize, [(&'r str, &'r str); 4])> {
        if let Some((last, n, spans)) = &self.last
            && *last == raw
        {
            let mut list = [("", ""); 4];
            for (slot, (a, b, c, d)) in list.iter_mut().zip(&spans[..*n]) {
                *slot = (raw.get(*a..*b)?, raw.get(*c..*d)?);
            }
            return Some((*n, list));
        }
        let (n, list) = plain_attributes(raw)?;
        if let Cow::Borrowed(text) = borrowed(self.input, raw) {
            let at = |part: &str| part.as_ptr() as usize - raw.as_ptr() as usize;
            let mut spans = [(0, 0, 0, 0); 4];
            for (span, (name, value)) in spans.iter_mut().zip(&list[..n]) {
                let (a, c) = (at(name), at(value));
                *span = (a, a + name.len(), c, c + value.len());
            }
            self.last = Some((text, n, spans));
        }
        Some((n, list))
    }
}

impl Default for Seen<'_> {
    fn default() -> Self {
        Seen::new("")
    }
}

/// `raw` as plain attributes (see [`Attributes::Plain`]), or `None`: one pass over the bytes.
fn plain_attributes(raw: &str) -> Option<(usize, [(&str, &str); 4])> {
    let bytes = raw.as_bytes();
    let mut list = [("", ""); 4];
    let mut n = 0;
    let mut at = 0;
    loop {
        let before = at;
        while at < bytes.len() && matches!(bytes[at], b' ' | b'\t' | b'\n' | b'\r') {
            at += 1;
        }
        if at == bytes.len() {
            break;
        }
        // Attributes are separated by whitespace.
        if (n > 0 && at == before) || n == list.len() {
            return None;
        }
        let name_start = at;
        while at < bytes.len()
            && (bytes[at].is_ascii_alphanumeric() || matches!(bytes[at], b':' | b'_' | b'-' | b'.'))
        {
            at += 1;
        }
        let name_end = at;
        let quote = *bytes.get(at + 1)?;
        if name_end == name_start || bytes[at] != b'=' || !matches!(quote, b'"' | b'\'') {
            return None;
        }
        at += 2;
        let value_start = at;
        at += memchr::memchr(quote, &bytes[at..])?;
        let value = &bytes[value_start..at];
        if memchr::memchr3(b'<', b'&', b'\n', value).is_some()
            || memchr::memchr2(b'\t', b'\r', value).is_some()
        {
            return None;
        }
        // ASCII boundaries: the slices are on character boundaries.
        let name = raw.get(name_start..name_end)?;
        let value = raw.get(value_start..at)?;
        at += 1;
        if list[..n].iter().any(|(other, _)| *other == name) {
            return None;
        }
        list[n] = (name, value);
        n += 1;
    }
    Some((n, list))
}

fn in_namespace(ns: &ResolveResult<'_>, want: Option<&str>) -> bool {
    match (ns, want) {
        (ResolveResult::Bound(n), Some(want)) => n.as_ref() == want,
        (ResolveResult::Unbound, None) => true,
        _ => false,
    }
}

/// Every attribute of an element well formed, none twice, at most `max_attributes`.
fn check_attributes(e: &BytesStart<'_>, limits: &Limits) -> Result<(), SoapError> {
    let name = e.local_name().as_ref().to_owned();
    for (n, attr) in e.attributes().enumerate() {
        if n >= limits.max_attributes {
            return Err(SoapError::client(format!(
                "Trop d'attributs sur l'élément {name} (maximum {})",
                limits.max_attributes
            ))
            .at(name));
        }
        let attr = attr.map_err(|err| {
            SoapError::client(format!("Attribut mal formé sur l'élément {name} : {err}"))
                .at(name.clone())
        })?;
        // Raw control characters were refused with the message; references are resolved here.
        if attr.value.contains("&#") {
            let value = attr
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map_err(|err| SoapError::client(format!("Valeur d'attribut invalide : {err}")))?;
            if let Some(c) = value.chars().find(|c| !is_xml_char(*c)) {
                return Err(SoapError::client(format!(
                    "Attribut de l'élément {name} : caractère U+{:04X} interdit en XML 1.0",
                    u32::from(c)
                ))
                .at(name));
            }
        }
    }
    Ok(())
}

fn attribute(
    resolver: &NamespaceResolver,
    e: &BytesStart<'_>,
    namespace: Option<&str>,
    local: &str,
) -> Result<Option<String>, SoapError> {
    for attr in e.attributes() {
        let attr = attr.map_err(|err| SoapError::client(format!("Attribut mal formé : {err}")))?;
        let (ns, name) = resolver.resolve_attribute(attr.key);
        if in_namespace(&ns, namespace) && name.as_ref() == local {
            let value = attr
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map_err(|err| SoapError::client(format!("Valeur d'attribut invalide : {err}")))?;
            // Its characters were checked with the element's attributes (`check_attributes`).
            return Ok(Some(value.into_owned()));
        }
    }
    Ok(None)
}

fn check_must_understand(
    resolver: &NamespaceResolver,
    e: &BytesStart<'_>,
    attrs: &Attributes<'_>,
    ns: Option<&str>,
    local: &str,
) -> Result<(), SoapError> {
    let must = attrs
        .get(resolver, e, Some(SOAP11_NS), "mustUnderstand")?
        .is_some_and(|v| is_true(&v));
    let actor = attrs.get(resolver, e, Some(SOAP11_NS), "actor")?;
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Fuzzer finding (`fuzz/regressions/opi_dto/`): a non-ASCII character where the
    /// declaration's quote belongs panicked (byte slicing inside the character).
    #[test]
    fn a_non_ascii_quote_in_the_xml_declaration_is_no_panic() {
        let odd = "<?xml version='1.0' encoding=\u{671}TF-8'?><a/>";
        assert_eq!(declared_encoding(odd.as_bytes()), None);
        assert!(decode(odd.as_bytes(), None, &Limits::default()).is_err());
        let odd = "<?xml version='1.0' encoding=\u{feff}x\u{feff}?><a/>";
        assert_eq!(declared_encoding(odd.as_bytes()).as_deref(), Some("x"));
        assert!(decode(odd.as_bytes(), None, &Limits::default()).is_err());
        assert_eq!(
            declared_encoding(b"<?xml version='1.0' encoding='ISO-8859-15'?>").as_deref(),
            Some("iso-8859-15")
        );
    }

    const ENV: &str = "http://schemas.xmlsoap.org/soap/envelope/";

    fn envelope(body: &str) -> String {
        format!(
            "<?xml version='1.0' encoding='UTF-8'?><E:Envelope xmlns:E='{ENV}'><E:Body><s:op xmlns:s='urn:s'>{body}</s:op></E:Body></E:Envelope>"
        )
    }

    fn refused(bytes: &[u8], content_type: Option<&str>) -> SoapError {
        match decode(bytes, content_type, &Limits::default()) {
            Ok(r) => panic!("accepted: {r:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn a_repeated_element_is_refused_but_items_repeat() {
        let e = refused(envelope("<a><nom>X</nom><nom>Y</nom></a>").as_bytes(), None);
        assert_eq!(
            (e.code, e.element.as_deref()),
            (FaultCode::Client, Some("nom"))
        );
        assert_eq!(
            e.fault_key().to_string(),
            "technical.parameter.noncoherentinput.nom"
        );
        let e = refused(envelope("<a><n/></a><a/>").as_bytes(), None);
        assert_eq!(e.element.as_deref(), Some("a"));
        let ok = decode(
            envelope("<l><item>1</item><item>2</item></l>").as_bytes(),
            None,
            &Limits::default(),
        );
        assert_eq!(
            ok.map(|r| r.body()["l"]["item"].clone()),
            Ok(serde_json::json!(["1", "2"]))
        );
        // The repeated leaves of the read contracts: arrays, nil and empty as null.
        let ok = decode(
            envelope(
                "<p><listComposante>UFR</listComposante><listComposante/><listCIP>1</listCIP></p>",
            )
            .as_bytes(),
            None,
            &Limits::default(),
        );
        assert_eq!(
            ok.map(|r| (
                r.body()["p"]["listComposante"].clone(),
                r.body()["p"]["listCIP"].clone()
            )),
            Ok((serde_json::json!(["UFR", null]), serde_json::json!(["1"])))
        );
    }

    #[test]
    fn text_mixed_with_elements_is_refused() {
        let e = refused(envelope("<a>JVM<b>1</b></a>").as_bytes(), None);
        assert_eq!(e.element.as_deref(), Some("a"));
        assert!(
            decode(
                envelope("<a>\n  <b>1</b>\n</a>").as_bytes(),
                None,
                &Limits::default()
            )
            .is_ok()
        );
    }

    #[test]
    fn content_after_the_envelope_is_refused() {
        for tail in [
            "<E:Envelope xmlns:E='x'/>",
            "texte",
            "<![CDATA[x]]>",
            "&amp;",
        ] {
            let msg = format!("{}{tail}", envelope("<a>1</a>"));
            assert!(
                refused(msg.as_bytes(), None).message.contains("après"),
                "{tail}"
            );
        }
        let msg = format!("{}\r\n<!-- fin -->\n", envelope("<a>1</a>"));
        assert!(decode(msg.as_bytes(), None, &Limits::default()).is_ok());
    }

    #[test]
    fn characters_outside_xml_1_0_are_refused_raw_or_as_references() {
        for body in [
            "<a>A\u{0}B</a>",
            "<a>A\u{1b}B</a>",
            "<a>\u{FFFE}</a>",
            "<a>é\u{FFFD}\u{FFFF}</a>",
            "<a>A&#0;</a>",
            "<a>&#x1F;</a>",
            "<a x='&#1;'>1</a>",
        ] {
            let e = refused(envelope(body).as_bytes(), None);
            assert_eq!(e.code, FaultCode::Client, "{body}");
            assert!(e.message.contains("XML"), "{body}: {}", e.message);
        }
        assert!(
            decode(
                envelope("<a>\tA&#9;&#xA;\u{85}é\u{F000}\u{FFFD}\u{EFFF}</a>").as_bytes(),
                None,
                &Limits::default()
            )
            .is_ok()
        );
    }

    #[test]
    fn duplicate_and_innumerable_attributes_are_refused() {
        let e = refused(envelope("<a x='1' x='2'>1</a>").as_bytes(), None);
        assert_eq!(e.element.as_deref(), Some("a"));
        let many: String = (0..65).map(|i| format!(" a{i}='1'")).collect();
        let e = refused(envelope(&format!("<a{many}>1</a>")).as_bytes(), None);
        assert!(e.message.contains("Trop d'attributs"), "{}", e.message);
        let enough: String = (0..64).map(|i| format!(" a{i}='1'")).collect();
        assert!(
            decode(
                envelope(&format!("<a{enough}>1</a>")).as_bytes(),
                None,
                &Limits::default()
            )
            .is_ok()
        );
    }

    #[test]
    fn charsets_are_read_as_announced_or_refused() {
        let latin = envelope("<a>r\u{e9}orientation</a>").replace("UTF-8", "ISO-8859-1");
        let latin_bytes: Vec<u8> = latin.chars().map(|c| c as u8).collect();
        let ok = decode(&latin_bytes, None, &Limits::default());
        assert_eq!(
            ok.map(|r| r.body()["a"].clone()),
            Ok(serde_json::json!("réorientation"))
        );
        // UTF-8 announced as Latin-1, by the header or the declaration.
        let utf8 = envelope("<a>réorientation</a>");
        let e = refused(utf8.as_bytes(), Some("text/xml; charset=ISO-8859-1"));
        assert!(
            e.message.contains("Encodages contradictoires"),
            "{}",
            e.message
        );
        let e = refused(latin.as_bytes(), None);
        assert!(e.message.contains("UTF-8"), "{}", e.message);
        // C1 bytes are no ISO-8859-1 characters.
        let mut c1 = latin_bytes.clone();
        let at = c1.iter().position(|b| *b == 0xE9).unwrap_or_default();
        c1[at] = 0x85;
        assert!(
            refused(&c1, Some("text/xml; charset=iso-8859-1"))
                .message
                .contains("0x85")
        );
        // A header and a declaration that disagree: refused unless the message is ASCII.
        let e = refused(&latin_bytes, Some("text/xml; charset=UTF-8"));
        assert!(
            e.message.contains("Encodages contradictoires"),
            "{}",
            e.message
        );
        let ascii = envelope("<a>1</a>").replace("UTF-8", "ISO-8859-1");
        assert!(
            decode(
                ascii.as_bytes(),
                Some("text/xml; charset=utf-8"),
                &Limits::default()
            )
            .is_ok()
        );
        let utf16 = envelope("<a>1</a>").replace("UTF-8", "UTF-16");
        assert!(
            refused(utf16.as_bytes(), Some("text/xml; charset=ISO-8859-1"))
                .message
                .contains("contradictoires")
        );
    }
}
