//! `/screen?id=<VM moref value>`: a PNG "screenshot" of a powered-on VM's console.
//!
//! There is no guest to show, so the picture is a 640×480 pattern whose colours and layout are
//! derived from the VM's BIOS UUID (two VMs give different pictures, one VM always the same).
//! Like `/folder`, it needs the session cookie (401 without one). An unknown id is 404 and a VM
//! that is not powered on 409 (a real host refuses that too; the simulator chose the status).

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use percent_encoding::percent_decode_str;

use crate::server::{cookie_value, live_session, Shared};
use crate::state::Mo;

/// Width of the picture.
pub const WIDTH: u32 = 640;
/// Height of the picture.
pub const HEIGHT: u32 = 480;

fn text(status: StatusCode, msg: &str) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(msg.to_owned())));
    *r.status_mut() = status;
    r
}

/// Handles one `/screen` request.
pub async fn handle(shared: Arc<Shared>, req: Request<Incoming>) -> Response<Full<Bytes>> {
    if req.method() != Method::GET {
        return text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
    }
    let cookie = cookie_value(&req, "vmware_soap_session");
    let id = req
        .uri()
        .query()
        .unwrap_or("")
        .split('&')
        .find_map(|kv| kv.strip_prefix("id="))
        .map(|v| percent_decode_str(v).decode_utf8_lossy().into_owned());
    let seed = {
        let Some(mut st) = shared.write() else {
            return text(StatusCode::INTERNAL_SERVER_ERROR, "state unavailable\n");
        };
        if live_session(&mut st, cookie.as_deref()).is_none() {
            return text(StatusCode::UNAUTHORIZED, "not authenticated\n");
        }
        match id.as_deref().and_then(|id| st.objects.get(id)) {
            Some(Mo::VirtualMachine(vm)) if vm.tools_running() => {
                format!("{}:{}", vm.config.uuid, vm.vmx_rel)
            }
            Some(Mo::VirtualMachine(_)) => {
                return text(
                    StatusCode::CONFLICT,
                    "the virtual machine is not powered on\n",
                )
            }
            _ => return text(StatusCode::NOT_FOUND, "no such virtual machine\n"),
        }
    };
    match tokio::task::spawn_blocking(move || picture(&seed)).await {
        Ok(Ok(png)) => {
            let mut r = Response::new(Full::new(Bytes::from(png)));
            if let Ok(v) = "image/png".parse() {
                r.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
            }
            r
        }
        _ => text(
            StatusCode::INTERNAL_SERVER_ERROR,
            "cannot encode the picture\n",
        ),
    }
}

/// The PNG for `seed`: a background, a tiled band and a gradient bar, coloured from the seed.
pub fn picture(seed: &str) -> Result<Vec<u8>, png::EncodingError> {
    let b = crate::mo::virtual_machine::seed_bytes(seed);
    let at = |i: usize| b[i];
    let bg = [at(0) / 2, at(1) / 2, at(2) / 2];
    let fg = [128 | at(3), 128 | at(4), 128 | at(5)];
    let tile = 16 + u32::from(at(6) % 4) * 16;
    let band = (u32::from(at(7)) * HEIGHT / 256).min(HEIGHT - 64);
    let mut rgb = Vec::with_capacity((WIDTH * HEIGHT * 3) as usize);
    for y in 0..HEIGHT {
        for x in 0..WIDTH {
            let px = if (band..band + 64).contains(&y) {
                if ((x / tile) + (y / tile)) % 2 == 0 {
                    fg
                } else {
                    bg
                }
            } else if y >= HEIGHT - 24 {
                let g = (x * 255 / WIDTH) as u8;
                [g, fg[1] / 2, 255 - g]
            } else {
                bg
            };
            rgb.extend_from_slice(&px);
        }
    }
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, WIDTH, HEIGHT);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut w = enc.write_header()?;
        w.write_image_data(&rgb)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pictures_are_valid_and_differ() {
        let a = picture("a").unwrap();
        assert_eq!(&a[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(&a[12..16], b"IHDR");
        assert_eq!(u32::from_be_bytes([a[16], a[17], a[18], a[19]]), WIDTH);
        assert_eq!(u32::from_be_bytes([a[20], a[21], a[22], a[23]]), HEIGHT);
        assert_ne!(a, picture("b").unwrap());
        assert_eq!(a, picture("a").unwrap());
    }
}
