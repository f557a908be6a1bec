//! Client side: request envelopes for the three services, and reading the faults they answer.

use crate::decode::SOAP11_NS;
use crate::encode::escape;
use crate::ops::{LP_NS, OPI_NS};
use apogee_domain::opi::dto::DonneesOpi;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;

/// An encoding failure.
#[derive(Debug, thiserror::Error)]
#[error("cannot encode the SOAP request: {0}")]
pub struct EncodeError(String);

fn envelope(ns: &str, wrapper: &str, inner: &str) -> String {
    format!(
        "<?xml version='1.0' encoding='UTF-8'?><soap-env:Envelope xmlns:soap-env=\"{SOAP11_NS}\"><soap-env:Body><ns0:{wrapper} xmlns:ns0=\"{ns}\">{inner}</ns0:{wrapper}></soap-env:Body></soap-env:Envelope>"
    )
}

/// `mettreajourDonneesOpi_v10` with `donnees` (absent values are omitted, children in XSD order).
pub fn opi_v10(donnees: &DonneesOpi) -> Result<String, EncodeError> {
    let body = quick_xml::se::to_string_with_root("_donneesOpi", donnees)
        .map_err(|e| EncodeError(e.to_string()))?;
    Ok(envelope(OPI_NS, "mettreajourDonneesOpi_v10", &body))
}

/// `mettreAJourLaissezPasserWS_V2` from its 14 parameters (name, value); absent values are sent as
/// empty elements, as zeep does.
pub fn lp_v2(params: &[(&str, Option<&str>)]) -> String {
    let inner: String = params
        .iter()
        .map(|(name, value)| format!("<{name}>{}</{name}>", escape(value.unwrap_or_default())))
        .collect();
    envelope(LP_NS, "mettreAJourLaissezPasserWS_V2", &inner)
}

/// A fault read from a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// `faultcode` (local part).
    pub code: String,
    /// `faultstring`: the Apogée key.
    pub key: String,
    /// `lastErrorMsg` of the detail, if any.
    pub last_error: Option<String>,
    /// `messages/item` of the detail.
    pub messages: Vec<String>,
}

/// The fault of a SOAP response, if it holds one.
pub fn parse_fault(xml: &str) -> Option<Fault> {
    let mut reader = NsReader::from_str(xml);
    let mut path: Vec<String> = Vec::new();
    let mut fault = Fault {
        code: String::new(),
        key: String::new(),
        last_error: None,
        messages: Vec::new(),
    };
    let mut in_fault = false;
    let mut text = String::new();
    loop {
        match reader.read_resolved_event().ok()? {
            (ns, Event::Start(e)) => {
                let local = e.local_name().as_ref().to_owned();
                if local == "Fault"
                    && matches!(ns, ResolveResult::Bound(n) if n.as_ref() == SOAP11_NS)
                {
                    in_fault = true;
                }
                path.push(local);
                text.clear();
            }
            (_, Event::Text(t)) => {
                text.push_str(&t.xml_content(quick_xml::XmlVersion::Implicit1_0))
            }
            (_, Event::GeneralRef(r)) => {
                let c = match r.as_ref() {
                    "amp" => Some('&'),
                    "lt" => Some('<'),
                    "gt" => Some('>'),
                    "quot" => Some('"'),
                    "apos" => Some('\''),
                    _ => r.resolve_char_ref().ok().flatten(),
                };
                if let Some(c) = c {
                    text.push(c);
                }
            }
            (_, Event::End(_)) => {
                let name = path.pop().unwrap_or_default();
                if in_fault {
                    match name.as_str() {
                        "faultcode" => {
                            fault.code = text
                                .rsplit(':')
                                .next()
                                .unwrap_or_default()
                                .trim()
                                .to_owned()
                        }
                        "faultstring" => fault.key = text.trim().to_owned(),
                        "lastErrorMsg" => fault.last_error = Some(text.trim().to_owned()),
                        "item" => fault.messages.push(text.trim().to_owned()),
                        _ => {}
                    }
                }
                text.clear();
            }
            (_, Event::Eof) => break,
            _ => {}
        }
    }
    in_fault.then_some(fault)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_the_server_codec() -> Result<(), Box<dyn std::error::Error>> {
        let donnees: DonneesOpi = serde_json::from_str(
            r#"{"individu":{"codOpiIntEpo":"EC1","etatCivil":{"libNomPatIndOpi":"L'ÉCUYER & FILS"}},
                "voeux":{"item":[{"codCge":"CG1","codEtp":"ETP01"},{"codCge":"CG1","codEtp":"ETP02"}]}}"#,
        )?;
        let xml = opi_v10(&donnees)?;
        let req = crate::decode(xml.as_bytes(), None, &crate::Limits::default())?;
        let back = crate::ops::OpiRequest::from_request(&req).ok_or("op")??;
        assert_eq!(back.donnees, Some(donnees));
        let fault = crate::encode::fault(
            OPI_NS,
            crate::FaultCode::Server,
            "technical.data.nullretrieve.codCge",
            &["a : b".into()],
            "Centre <inconnu>",
        );
        let parsed = parse_fault(&fault).ok_or("no fault")?;
        assert_eq!(
            (parsed.code.as_str(), parsed.key.as_str()),
            ("Server", "technical.data.nullretrieve.codCge")
        );
        assert_eq!(parsed.last_error.as_deref(), Some("Centre <inconnu>"));
        assert_eq!(parsed.messages, vec!["a : b"]);
        assert!(parse_fault(&crate::encode::empty_response(OPI_NS, "x")).is_none());
        Ok(())
    }
}
