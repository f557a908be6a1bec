//! `PjOpiMetier`: `recupererPiecesJustificativesOPIWS` (an upload, despite its name), inline
//! base64 or MTOM (`multipart/related`). The envelope is decoded here, streaming `_pj` into the
//! attachment store as it is read (the decoded file is never held in memory); the checks and
//! the storage are `apogee_app::pj`'s. Answers `PjOpiRetourDTO {msg: OK}` or a fault (PJ-8).

use super::service::{self, Ctx, Handler, Operation, RawBody, Reply, Service};
use apogee_app::pj::{self as app_pj, Staged, Staging, Storage, Upload, storage_error};
use apogee_domain::pj as rules;
use apogee_domain::{Error, FaultKey, FieldError, Scope};
use apogee_soap::SoapError;
use apogee_soap::decode::{Limits, TextSink, decode_streaming};
use apogee_soap::mtom::{self, Base64Decoder, Base64Error, ContentType};
use apogee_soap::ops::{
    PJ_CONTENT_ELEMENT, PJ_NS, PJ_OPERATION, PjContent, PjRequest, pj_response,
};
use std::borrow::Cow;

/// The service.
pub static SERVICE: Service = Service {
    name: "PjOpiMetier",
    namespace: PJ_NS,
    also_accepts: &[],
    scope: Scope::PjWrite,
    wsdl: include_str!("../../../../wsdl/PjOpiMetier.wsdl"),
    abstract_wsdl: include_str!("../../../../wsdl/abstract/PjOpiMetier.wsdl"),
    operations: &[Operation {
        name: PJ_OPERATION,
        handler: Handler::Streamed(|ctx, body| Box::pin(upload(ctx, body))),
    }],
    read: None,
};

/// Decodes `_pj` into the staging: base64 text fed to the decoder as the XML is read.
struct PjSink<'a> {
    decoder: Base64Decoder<&'a mut Staging>,
    invalid: Option<Base64Error>,
}

impl TextSink for PjSink<'_> {
    fn text(&mut self, chunk: &[u8]) -> Result<(), SoapError> {
        self.decoder.feed(chunk).map_err(|e| {
            let message = format!("_pj illisible : {e}");
            if !matches!(e, Base64Error::Write(_)) {
                self.invalid = Some(e);
            }
            SoapError::client(message)
        })
    }
}

/// Why a decoding failed: the codec refused the message (`Client` fault), a rule refused the
/// attachment (`Server` fault with its key), or writing the temporary file failed (an exceeded
/// size limit is reported as such instead).
enum Failure {
    Codec(SoapError),
    Rule(Error),
    Io(std::io::Error),
}

impl From<SoapError> for Failure {
    fn from(e: SoapError) -> Self {
        Failure::Codec(e)
    }
}

impl From<Failure> for service::Failure {
    fn from(f: Failure) -> Self {
        match f {
            Failure::Codec(e) => service::Failure::Codec(e),
            Failure::Rule(e) => service::Failure::Business(e),
            Failure::Io(e) => service::Failure::Business(storage_error(&e)),
        }
    }
}

fn bad_content(detail: &str) -> Error {
    Error::validation(vec![FieldError::new(
        FaultKey::noncoherent("pj"),
        "PJ_CONTENU_ILLISIBLE",
        Some("pj".into()),
        format!("Contenu de _pj illisible : {detail}"),
    )])
}

/// Parses the message (MTOM or plain), streams `_pj` into a staged file; runs on a blocking
/// thread. `None` staged: `_pj` absent.
fn decode_upload(
    body: &[u8],
    content_type: &str,
    limits: &Limits,
    store: &Storage,
    max_bytes: u64,
) -> Result<(PjRequest, Option<Staged>), Failure> {
    let mime = ContentType::parse(content_type).mime;
    let multipart = match mime.as_str() {
        "multipart/related" => Some(mtom::parse(content_type, body)?),
        "text/xml" | "application/xml" => None,
        other => {
            return Err(Failure::Codec(SoapError::client(format!(
                "Type de contenu non pris en charge : {other} (text/xml, ou multipart/related pour MTOM)"
            ))));
        }
    };
    let (root, root_type): (Cow<'_, [u8]>, Option<&str>) = match &multipart {
        Some(m) => {
            let root = m
                .root()
                .ok_or_else(|| SoapError::client("Partie racine MTOM absente"))?;
            (root.decoded()?, root.content_type.as_deref())
        }
        None => (Cow::Borrowed(body), Some(content_type)),
    };
    let mut staging = store
        .stage(max_bytes)
        .map_err(|e| Failure::Rule(storage_error(&e)))?;
    let decoded = {
        let mut sink = PjSink {
            decoder: Base64Decoder::new(&mut staging),
            invalid: None,
        };
        let decoded = decode_streaming(&root, root_type, limits, PJ_CONTENT_ELEMENT, &mut sink);
        let finished = sink.decoder.finish().map(|_| ());
        match (decoded, finished, sink.invalid) {
            (Err(e), _, None) => Err(Failure::Codec(e)),
            (_, _, Some(invalid)) => Err(Failure::Rule(bad_content(&invalid.to_string()))),
            (Ok(_), Err(Base64Error::Write(e)), _) => Err(Failure::Io(e)),
            (Ok(_), Err(invalid), _) => Err(Failure::Rule(bad_content(&invalid.to_string()))),
            (Ok(request), Ok(()), None) => Ok(request),
        }
    };
    if staging.exceeded() {
        return Err(Failure::Rule(rules::too_large(max_bytes)));
    }
    let request = decoded?;
    SERVICE.check_namespace(&request)?;
    let pj = match PjRequest::from_request(&request) {
        Some(r) => r?,
        None => {
            return Err(Failure::Codec(
                SERVICE.unknown_operation(&request.operation),
            ));
        }
    };
    match &pj.pj {
        PjContent::Absent => return Ok((pj, None)),
        PjContent::Streamed | PjContent::Base64(_) => {}
        PjContent::Xop(href) => {
            if staging.size() > 0 {
                return Err(Failure::Codec(SoapError::client(
                    "_pj contient à la fois du texte et un xop:Include",
                )));
            }
            let Some(parts) = &multipart else {
                return Err(Failure::Codec(SoapError::client(
                    "xop:Include dans un message qui n'est pas MTOM (multipart/related attendu)",
                )));
            };
            let part = parts.resolve(href).ok_or_else(|| {
                SoapError::client(format!(
                    "Aucune partie MIME ne correspond à {}",
                    href.chars().take(200).collect::<String>()
                ))
            })?;
            if let Err(e) = part.copy_to(&mut staging) {
                return Err(Failure::Rule(match e {
                    _ if staging.exceeded() => rules::too_large(max_bytes),
                    Base64Error::Write(e) => return Err(Failure::Io(e)),
                    other => bad_content(&other.to_string()),
                }));
            }
        }
    }
    let staged = staging
        .finish()
        .map_err(|e| Failure::Rule(storage_error(&e)))?;
    Ok((pj, Some(staged)))
}

/// The upload: decoded on a blocking thread, checked, stored.
async fn upload(ctx: Ctx, body: RawBody) -> Reply {
    let limits = ctx.limits();
    let store = ctx.app.storage.clone();
    let max_bytes = ctx.app.settings.pj.max_bytes;
    let RawBody {
        bytes,
        content_type,
    } = body;
    let (pj, staged) = tokio::task::spawn_blocking(move || {
        decode_upload(&bytes, &content_type, &limits, &store, max_bytes)
    })
    .await
    .map_err(|e| Error::internal(format!("décodage : {e}")))??;
    ctx.note(|n| {
        n.operation = Some(PJ_OPERATION.into());
        if let Some(code) = &pj.cod_opi_int_epo {
            n.key = Some(("codOpiIntEpo".into(), code.trim().to_owned()));
        }
    });
    let (up, staged) = checked(&pj, staged)?;
    let done = app_pj::upload(&ctx.app, &ctx.call, up, staged).await?;
    ctx.note(|n| {
        n.key = Some(("codOpiIntEpo".into(), done.row.cod_opi_int_epo.clone()));
        n.warnings = std::iter::once(done.outcome.code().to_owned())
            .chain(pj.ignored.iter().map(|p| format!("ELEMENT_IGNORE:{p}")))
            .collect();
    });
    Ok(pj_response())
}

/// The six parameters are mandatory (`_pj` present, even empty, counts as given: its size is
/// checked by PJ-6).
fn checked(pj: &PjRequest, staged: Option<Staged>) -> Result<(Upload, Staged), Error> {
    rules::check_mandatory(&[
        ("codOpiIntEpo", pj.cod_opi_int_epo.as_deref()),
        ("libNomPatIndOpi", pj.lib_nom_pat_ind_opi.as_deref()),
        ("libPr1IndOpi", pj.lib_pr1_ind_opi.as_deref()),
        ("codTpj", pj.cod_tpj.as_deref()),
        ("nomFic", pj.nom_fic.as_deref()),
        ("pj", staged.as_ref().map(|_| "_pj")),
    ])?;
    let staged = staged.ok_or_else(|| Error::internal("_pj absent"))?;
    let up = Upload {
        code: pj.cod_opi_int_epo.clone().unwrap_or_default(),
        cod_tpj: pj.cod_tpj.clone().unwrap_or_default(),
        nom_fic: pj.nom_fic.clone().unwrap_or_default(),
        identity: Some((
            pj.lib_nom_pat_ind_opi.clone().unwrap_or_default(),
            pj.lib_pr1_ind_opi.clone().unwrap_or_default(),
        )),
    };
    Ok((up, staged))
}
