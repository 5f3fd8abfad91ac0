//! `HostCertificateManager`: the host's SSL certificate (`certificateInfo`, read from the
//! certificate the simulator serves) and its trusted CA lists (`ListCACertificates`,
//! `ListCACertificateRevocationLists`, both empty).

use esx_vim::{Any, HostCertificateManagerCertificateInfo, Request, Response};

use crate::fault::{Fault, MethodResult};
use crate::property::Top;
use crate::state::{Ctx, Mo, MoRef, State};

/// The WSDL type.
pub const TYPE: &str = "HostCertificateManager";

/// Host `host`'s certificate manager: `ha-certificate-manager` on ESXi, `certificateManager-N` for vCenter's `host-N`.
pub const PER_HOST: crate::mo::host_system::PerHost = crate::mo::host_system::PerHost {
    ty: TYPE,
    prefix: "certificateManager",
    esx_id: "ha-certificate-manager",
};

/// The id of host `host`'s certificate manager.
pub fn id_for(host: &MoRef) -> String {
    PER_HOST.id_for(host)
}

/// The reference of host `host`'s certificate manager.
pub fn ref_for(host: &MoRef) -> MoRef {
    PER_HOST.ref_for(host)
}

/// Creates host `host`'s certificate manager (when the host is created).
pub fn insert_for_host(state: &mut State, host: &MoRef) {
    PER_HOST.insert(state, host)
}

fn check_this(state: &State, this: &MoRef) -> MethodResult<()> {
    match state.lookup(this)? {
        Mo::Manager(TYPE) => Ok(()),
        _ => Err(Fault::not_found(this)),
    }
}

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> Option<esx_vim::DateTime> {
    use chrono::TimeZone;
    chrono::Utc
        .with_ymd_and_hms(y, mo, d, h, mi, s)
        .single()
        .map(|t| t.fixed_offset())
}

/// One DER element: tag, content, rest.
fn der(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let tag = *b.first()?;
    let first = *b.get(1)?;
    let (len, hdr) = if first < 0x80 {
        (first as usize, 2)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for i in 0..n {
            len = (len << 8) | *b.get(2 + i)? as usize;
        }
        (len, 2 + n)
    };
    let content = b.get(hdr..hdr.checked_add(len)?)?;
    Some((tag, content, &b[hdr + len..]))
}

/// A distinguished name as `CN=…,O=…` (the attributes it names, in order).
fn name(mut b: &[u8]) -> Option<String> {
    let mut parts = Vec::new();
    while !b.is_empty() {
        let (_, set, rest) = der(b)?;
        b = rest;
        let (_, atv, _) = der(set)?;
        let (_, oid, rest) = der(atv)?;
        let (_, value, _) = der(rest)?;
        let key = match oid {
            [0x55, 0x04, 0x03] => "CN",
            [0x55, 0x04, 0x06] => "C",
            [0x55, 0x04, 0x07] => "L",
            [0x55, 0x04, 0x08] => "ST",
            [0x55, 0x04, 0x0a] => "O",
            [0x55, 0x04, 0x0b] => "OU",
            [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01] => "emailAddress",
            _ => continue,
        };
        parts.push(format!("{key}={}", String::from_utf8_lossy(value)));
    }
    Some(parts.join(","))
}

/// A UTCTime or GeneralizedTime.
fn time(tag: u8, b: &[u8]) -> Option<esx_vim::DateTime> {
    let s = std::str::from_utf8(b).ok()?.trim_end_matches('Z');
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<u32>().ok();
    let (y, rest) = match tag {
        0x17 => {
            let yy = num(0..2)? as i32;
            (if yy < 50 { 2000 + yy } else { 1900 + yy }, 2)
        }
        0x18 => (num(0..4)? as i32, 4),
        _ => return None,
    };
    let at = |i: usize| num(rest + i..rest + i + 2);
    utc(y, at(0)?, at(2)?, at(4)?, at(6)?, at(8).unwrap_or(0))
}

/// Issuer, subject and validity of a DER certificate.
fn parse(cert: &[u8]) -> Option<HostCertificateManagerCertificateInfo> {
    let (_, c, _) = der(cert)?;
    let (_, tbs, _) = der(c)?;
    let (tag, _, mut rest) = der(tbs)?;
    if tag == 0xa0 {
        rest = der(rest)?.2; // serial after the explicit version
    }
    let (_, _, rest) = der(rest)?; // signature algorithm
    let (_, issuer, rest) = der(rest)?;
    let (_, validity, rest) = der(rest)?;
    let (_, subject, _) = der(rest)?;
    let (t1, nb, after) = der(validity)?;
    let (t2, na, _) = der(after)?;
    Some(HostCertificateManagerCertificateInfo {
        issuer: name(issuer),
        not_before: time(t1, nb),
        not_after: time(t2, na),
        subject: name(subject),
        status: "good".into(),
    })
}

/// The certificate the simulator serves: the configured PEM file's first certificate, or the
/// self-signed one made at start (rcgen's defaults: `CN=rcgen self signed cert`, valid from
/// 1975 to 4096).
pub fn certificate_info(state: &State) -> HostCertificateManagerCertificateInfo {
    use rustls::pki_types::pem::PemObject;
    if let Some((path, _)) = &state.config.cert {
        let first = rustls::pki_types::CertificateDer::pem_file_iter(path)
            .ok()
            .and_then(|mut it| it.next())
            .and_then(|c| c.ok());
        if let Some(info) = first.and_then(|c| parse(c.as_ref())) {
            return info;
        }
    }
    let dn = "CN=rcgen self signed cert".to_owned();
    HostCertificateManagerCertificateInfo {
        issuer: Some(dn.clone()),
        not_before: utc(1975, 1, 1, 0, 0, 0),
        not_after: utc(4096, 1, 1, 0, 0, 0),
        subject: Some(dn),
        status: "good".into(),
    }
}

/// Properties of a certificate manager.
pub fn property(state: &State, r: &MoRef, name: &str) -> Top {
    check_this(state, r).ok()?;
    Some(match name {
        "certificateInfo" => Some(Any::from(certificate_info(state))),
        _ => return None,
    })
}

/// Whether `method` only reads a certificate manager.
pub fn is_read(method: &str) -> bool {
    matches!(
        method,
        "ListCACertificates" | "ListCACertificateRevocationLists"
    )
}

/// `ListCACertificates`, `ListCACertificateRevocationLists`.
pub fn handle_read(state: &State, _ctx: &Ctx, req: &Request) -> Option<MethodResult<Response>> {
    let run = || -> MethodResult<Response> {
        Ok(match req {
            Request::ListCACertificates(q) => {
                check_this(state, &q.this)?;
                Response::ListCACertificates(Box::new(esx_vim::ListCACertificatesResponse {
                    returnval: Vec::new(),
                }))
            }
            Request::ListCACertificateRevocationLists(q) => {
                check_this(state, &q.this)?;
                Response::ListCACertificateRevocationLists(Box::new(
                    esx_vim::ListCACertificateRevocationListsResponse {
                        returnval: Vec::new(),
                    },
                ))
            }
            _ => return Err(Fault::invalid_argument("method")),
        })
    };
    is_read(req.method()).then(run)
}

/// The host whose certificate manager is `this`.
fn host_of(state: &State, this: &MoRef) -> MethodResult<MoRef> {
    PER_HOST.host_of(state, this)
}

fn config_fault(e: rcgen::Error) -> Fault {
    Fault::new(
        esx_vim::HostConfigFault::default(),
        format!("Cannot generate the certificate signing request: {e}"),
    )
}

/// A PEM certificate signing request for a new key pair, for `subject` (`CN=…,O=…`) with
/// `san` as its subject alternative name.
fn csr(san: &str, subject: &str) -> MethodResult<String> {
    use rcgen::DnType;
    let invalid = || Fault::invalid_argument("distinguishedName");
    let mut params = rcgen::CertificateParams::new(vec![san.to_owned()]).map_err(config_fault)?;
    let mut dn = rcgen::DistinguishedName::new();
    for part in subject.split(',').filter(|p| !p.trim().is_empty()) {
        let (k, v) = part.split_once('=').ok_or_else(invalid)?;
        let ty = match k.trim() {
            "CN" => DnType::CommonName,
            "O" => DnType::OrganizationName,
            "OU" => DnType::OrganizationalUnitName,
            "C" => DnType::CountryName,
            "ST" => DnType::StateOrProvinceName,
            "L" => DnType::LocalityName,
            _ => return Err(invalid()),
        };
        dn.push(ty, v.trim());
    }
    if dn.iter().next().is_none() {
        return Err(invalid());
    }
    params.distinguished_name = dn;
    let key = rcgen::KeyPair::generate().map_err(config_fault)?;
    params
        .serialize_request(&key)
        .and_then(|r| r.pem())
        .map_err(config_fault)
}

/// `GenerateCertificateSigningRequest` (for the host's name, or its address) and
/// `GenerateCertificateSigningRequestByDn`; gives any other request back. The key pair is
/// not kept: the simulator's served certificate never changes.
pub fn handle(
    state: &mut State,
    _ctx: &Ctx,
    req: Request,
) -> Result<MethodResult<Response>, Request> {
    Ok(match req {
        Request::GenerateCertificateSigningRequest(q) => (|| {
            let host = host_of(state, &q.this)?;
            let name = if q.use_ip_address_as_common_name {
                state.config.listen.ip().to_string()
            } else {
                state.name_of(&host).unwrap_or_default()
            };
            let returnval = csr(&name, &format!("CN={name}"))?;
            Ok(Response::GenerateCertificateSigningRequest(Box::new(
                esx_vim::GenerateCertificateSigningRequestResponse { returnval },
            )))
        })(),
        Request::GenerateCertificateSigningRequestByDn(q) => (|| {
            let host = host_of(state, &q.this)?;
            let name = state.name_of(&host).unwrap_or_default();
            let returnval = csr(&name, &q.distinguished_name)?;
            Ok(Response::GenerateCertificateSigningRequestByDn(Box::new(
                esx_vim::GenerateCertificateSigningRequestByDnResponse { returnval },
            )))
        })(),
        other => return Err(other),
    })
}
