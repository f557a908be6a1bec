//! The WSDL documents of the read services in `wsdl/` are exactly what `apogee_soap::wsdl`
//! generates from the DTO shapes the answers are encoded from. `APOGEE_UPDATE_WSDL=1` rewrites
//! them.

use apogee_domain::refread::SERVICES;
use apogee_soap::wsdl::{abstract_document, concrete_document};
use std::path::PathBuf;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../wsdl")
}

#[test]
fn the_read_service_wsdls_are_generated_from_the_dto_shapes() -> Result<(), std::io::Error> {
    let update = std::env::var("APOGEE_UPDATE_WSDL").is_ok_and(|v| v == "1");
    let mut stale = Vec::new();
    for service in SERVICES {
        for (path, text) in [
            (
                dir().join(format!("{}.wsdl", service.name)),
                concrete_document(service),
            ),
            (
                dir().join(format!("abstract/{}.wsdl", service.name)),
                abstract_document(service),
            ),
        ] {
            if update {
                std::fs::write(&path, &text)?;
            } else if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
                stale.push(path.display().to_string());
            }
        }
    }
    assert!(
        stale.is_empty(),
        "stale WSDL (run APOGEE_UPDATE_WSDL=1 cargo test -p apogee-soap --test read_wsdl): {stale:?}"
    );
    Ok(())
}

#[test]
fn every_operation_of_a_read_service_is_declared_and_named_as_the_sheet_says() {
    for service in SERVICES {
        let doc = abstract_document(service);
        for op in service.operations {
            assert!(
                doc.contains(&format!("<wsdl:operation name=\"{}\">", op.name)),
                "{}",
                op.name
            );
            assert!(doc.contains(&format!("<xsd:element name=\"{}\">", op.response_wrapper)));
        }
    }
    let geo = apogee_domain::refread::service("GeographieMetier").map(abstract_document);
    let geo = geo.unwrap_or_default();
    assert!(geo.contains("name=\"recupererCommuneResponse_v2\""));
    assert!(geo.contains("name=\"recupererCommuneReturn_v2\" type="));
    let cmp = apogee_domain::refread::service("ReferentielMetier").map(abstract_document);
    assert!(
        cmp.unwrap_or_default()
            .contains("<xsd:element name=\"composante\" type=")
    );
}

/// The repeated leaves below `dto` (`seen`: the types visited, `ComposanteDTO3` holds itself).
fn repeated(
    dto: &'static apogee_domain::refread::dto::Dto,
    seen: &mut Vec<(&'static str, &'static str)>,
    out: &mut std::collections::BTreeSet<&'static str>,
) {
    use apogee_domain::refread::dto::Ty;
    if seen.contains(&(dto.ns, dto.name)) {
        return;
    }
    seen.push((dto.ns, dto.name));
    for f in dto.fields {
        if f.repeated {
            out.insert(f.name);
        }
        match f.ty {
            Ty::Dto(d) => repeated(d, seen, out),
            Ty::List(l) => repeated(l.of, seen, out),
            _ => {}
        }
    }
}

#[test]
fn the_decoder_repeats_exactly_the_leaves_the_shapes_repeat() {
    let mut shapes = std::collections::BTreeSet::new();
    for service in SERVICES {
        for op in service.operations {
            for dto in op.criteria.into_iter().chain(op.returns) {
                repeated(dto, &mut Vec::new(), &mut shapes);
            }
        }
    }
    let decoder: std::collections::BTreeSet<&str> = apogee_soap::decode::REPEATED_LEAVES
        .iter()
        .copied()
        .collect();
    assert_eq!(decoder, shapes);
    let etu = apogee_domain::refread::service("EtudiantMetier").map(abstract_document);
    assert!(etu.unwrap_or_default().contains(
        "<xsd:element name=\"listComposante\" type=\"xsd:string\" minOccurs=\"0\" maxOccurs=\"unbounded\" nillable=\"true\"/>"
    ));
}
