//! Responses and faults, laid out as `soap-contract.md` §5.3 and the example envelopes show:
//! envelope prefix `soap-env`, service namespace prefix `ns0`, unqualified children, UTF-8.

use crate::FaultCode;
use crate::decode::SOAP11_NS;
use apogee_domain::Error;
use apogee_domain::refread::dto::{Obj, Ty, Val};
use std::fmt::Write;

const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// Escapes text for element content, dropping characters XML 1.0 forbids.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

fn envelope(service_ns: &str, body: &str) -> String {
    format!(
        "<?xml version='1.0' encoding='UTF-8'?>\n<soap-env:Envelope xmlns:soap-env=\"{SOAP11_NS}\" xmlns:ns0=\"{}\" xmlns:xsi=\"{XSI}\"><soap-env:Body>{body}</soap-env:Body></soap-env:Envelope>\n",
        escape(service_ns)
    )
}

/// The empty response wrapper of a void operation (`mettreajourDonneesOpi_v10Response`,
/// `mettreAJourLaissezPasserWSResponse_V2` …).
pub fn empty_response(service_ns: &str, wrapper: &str) -> String {
    envelope(service_ns, &format!("<ns0:{wrapper}/>"))
}

/// A response wrapper holding `inner` (already serialised, unqualified children).
pub fn response(service_ns: &str, wrapper: &str, inner: &str) -> String {
    envelope(
        service_ns,
        &format!("<ns0:{wrapper}>{inner}</ns0:{wrapper}>"),
    )
}

/// The answer of a read operation: the response wrapper holding one `return_element` per item,
/// each written in its DTO's order, every child present (`xsi:nil="true"` when missing, an empty
/// container for an empty list; `soap-read-services.md` §13 rules 2, 3, 7).
pub fn items(service_ns: &str, wrapper: &str, return_element: &str, items: &[Obj]) -> String {
    let mut inner = String::new();
    for item in items {
        write_obj(&mut inner, return_element, item);
    }
    response(service_ns, wrapper, &inner)
}

/// A list of bare `xsd:string` return elements (`recupererAnneesIa`): each item's first child;
/// no item is an empty response wrapper.
pub fn strings(service_ns: &str, wrapper: &str, return_element: &str, items: &[Obj]) -> String {
    let mut inner = String::new();
    for item in items {
        if let Some(Val::Text(t)) = item.values.first() {
            let _ = write!(inner, "<{return_element}>{}</{return_element}>", escape(t));
        }
    }
    response(service_ns, wrapper, &inner)
}

fn write_obj(out: &mut String, name: &str, obj: &Obj) {
    if obj.values.is_empty() {
        let _ = write!(out, "<{name}/>");
        return;
    }
    let _ = write!(out, "<{name}>");
    for (field, value) in obj.children() {
        match (value, field.ty) {
            (Val::Nil, Ty::List(_)) => {
                let _ = write!(out, "<{}/>", field.name);
            }
            (Val::Nil, _) => {
                let _ = write!(out, "<{} xsi:nil=\"true\"/>", field.name);
            }
            (Val::Text(t), _) => {
                let _ = write!(out, "<{0}>{1}</{0}>", field.name, escape(t));
            }
            (Val::Obj(o), _) => write_obj(out, field.name, o),
            (Val::List(list), ty) => {
                let item = match ty {
                    Ty::List(l) => l.item,
                    _ => "item",
                };
                let _ = write!(out, "<{}>", field.name);
                for o in list {
                    write_obj(out, item, o);
                }
                let _ = write!(out, "</{}>", field.name);
            }
        }
    }
    let _ = write!(out, "</{name}>");
}

/// A fault. `key` is the faultstring; `detail` (when given) fills the `{service ns}fault`
/// entry: its four key segments, `messages` and `lastErrorMsg`.
pub fn fault(
    service_ns: &str,
    code: FaultCode,
    key: &str,
    messages: &[String],
    last_error: &str,
) -> String {
    let key_obj = apogee_domain::FaultKey::from(key);
    let [kind, domaine, nature, element] = key_obj.segments();
    let mut items = String::new();
    for m in messages {
        let _ = write!(items, "<item>{}</item>", escape(m));
    }
    let messages = if messages.is_empty() {
        "<messages xsi:nil=\"true\"/>".to_owned()
    } else {
        format!("<messages>{items}</messages>")
    };
    let body = format!(
        "<soap-env:Fault><faultcode>soap-env:{}</faultcode><faultstring>{}</faultstring><detail><ns0:fault><domaine>{}</domaine><element>{}</element>{messages}<nature>{}</nature><type>{}</type><lastErrorMsg>{}</lastErrorMsg></ns0:fault></detail></soap-env:Fault>",
        code.as_str(),
        escape(key),
        escape(domaine),
        escape(element),
        escape(nature),
        escape(kind),
        escape(last_error)
    );
    envelope(service_ns, &body)
}

/// The fault for a domain error (faultcode `Server`).
pub fn fault_from_error(service_ns: &str, err: &Error) -> String {
    fault(
        service_ns,
        FaultCode::Server,
        err.fault_key.as_str(),
        &err.fault_messages(),
        &err.message,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_drops_illegal_characters() {
        assert_eq!(escape("a<b & c>\u{1}é"), "a&lt;b &amp; c&gt;é");
    }
}
